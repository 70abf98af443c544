#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot our kernel and stock 6.12 (same config) under QEMU with
# -icount shift=0,sleep=off (guest time counts instructions), RUNS times
# each, alternating, with
# tests/bench/bench.c as /init, and print per measurement the median, the
# spread ((max - min) / median), the ratio ours / stock of the medians and
# that of the minimums (best of RUNS, for the probe, whose waits vary).
#
# Under -icount a kernel repeats its figures exactly on the same machine,
# so five identical boots would show no spread at all, yet a kernel's
# figures move by a few hundred instructions with where things land in
# memory. Run i therefore gives both kernels RAM of 1024 + 32 * (i - 1)
# MiB: the spread is then that of the memory layout, and "within" says
# whether our median lies inside stock's own range (at most its maximum).
#
#   run-bench.sh <ours objdir> <stock objdir> <bench binary> <outdir>
set -euo pipefail

OURS=$1 STOCK=$2 BIN=$3 OUT=$4
RUNS=${RUNS:-5}
TIMEOUT=${TIMEOUT:-900}

. "$(dirname "$0")/lib.sh"
bench_setup "$BIN" "$OUT"

# boot <objdir> <log> <cpus> [cmdline]: one CPU for the MSI paths (nothing
# else runs), four for the NVMe probe (a queue pair, and a vector, each).
boot() {
	local kobj=$1 log=$2 cpus=$3 mem=$4 extra=${5:-}
	bench_qemu "$kobj" "$OUT" "$cpus" "$mem" "$extra" -serial stdio \
		< /dev/null > "$log" 2>&1 || true
	if ! grep -aq '^BENCH-DONE' "$log"; then
		echo "bench: $log did not finish:" >&2
		grep -a -m5 -E 'BENCH-ERROR|Kernel panic|Oops|WARNING' "$log" >&2 || tail -5 "$log" >&2
		exit 1
	fi
}

for i in $(seq 1 "$RUNS"); do
	mem=$((1024 + 32 * (i - 1)))
	echo "bench: run $i/$RUNS ($mem MiB): ours, then stock"
	boot "$OURS" "$OUT/ours-$i.log" 1 "$mem"
	boot "$STOCK" "$OUT/stock-$i.log" 1 "$mem"
	boot "$OURS" "$OUT/ours-probe-$i.log" 4 "$mem" bench=probe
	boot "$STOCK" "$OUT/stock-probe-$i.log" 4 "$mem" bench=probe
done

python3 - "$OUT" "$RUNS" <<'EOT'
import statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])

def read(kind):
    vals, units, order = {}, {}, []
    for i in range(1, runs + 1):
        for line in (open(f'{out}/{kind}-{i}.log', errors='replace').read() +
                     open(f'{out}/{kind}-probe-{i}.log', errors='replace').read()).splitlines():
            f = line.strip().split()
            if len(f) == 4 and f[0] == 'BENCH':
                if f[1] not in vals:
                    order.append(f[1])
                vals.setdefault(f[1], []).append(int(f[2]))
                units[f[1]] = f[3]
    return vals, units, order

ours, units, order = read('ours')
stock, _, _ = read('stock')

def spread(v):
    m = statistics.median(v)
    return 100.0 * (max(v) - min(v)) / m if m else 0.0

rows = [('measurement', 'unit', 'ours', 'spread', 'stock', 'spread',
         'ours/stock', 'best/best', 'within')]
for k in order:
    o, s = ours[k], stock.get(k, [])
    om = statistics.median(o)
    sm = statistics.median(s) if s else 0
    rows.append((k, units[k], f'{om:.0f}', f'{spread(o):.2f}%',
                 f'{sm:.0f}' if s else '-', f'{spread(s):.2f}%' if s else '-',
                 f'{om / sm:.4f}' if sm else '-',
                 f'{min(o) / min(s):.4f}' if s else '-',
                 ('yes' if om <= max(s) else 'no') if s else '-'))
w = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
with open(f'{out}/table.txt', 'w') as t:
    for r in rows:
        line = '  '.join(x.ljust(w[c]) if c < 2 else x.rjust(w[c])
                         for c, x in enumerate(r))
        print(line)
        t.write(line + '\n')
print(f'bench: {runs} runs per kernel under -icount shift=0,sleep=off; '
      f'guest ns count instructions; table in {out}/table.txt')
EOT
