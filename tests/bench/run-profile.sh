#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-profile: count, instruction by instruction, what one MSI
# prepare and one release cost in our kernel, in stock 6.12 and in the
# floor (stock with a bare count of each doorbell's MSIs). Each kernel
# boots as make bench does, held at reset under QEMU's gdbstub;
# tests/bench/profile.py single-steps a few calls of each function with
# interrupts off and prints their instructions by function.
#
# The nth call is picked from bench.c's order with its 1000 cycles per
# figure: call 101 is inside edu's one-vector MSI cycle (a doorbell's
# only MSI), call 3501 inside MSI-X with 16 vectors (a shared doorbell).
#
#   run-profile.sh <ours objdir> <stock objdir> <floor objdir> <bench binary>
#                  <outdir>
set -euo pipefail

OURS=$1 STOCK=$2 FLOOR=$3 BIN=$4 OUT=$5
HERE=$(cd "$(dirname "$0")" && pwd)
CALLS=2

. "$HERE/lib.sh"
bench_setup "$BIN" "$OUT"

# profile <objdir> <functions> <skip> <label>
profile() {
	local kobj=$1 funcs=$2 skip=$3 label=$4 port qpid out

	port=$((20000 + RANDOM % 20000))
	bench_qemu "$kobj" "$OUT" 1 1024 "" -serial null \
		-gdb tcp:127.0.0.1:"$port" -S < /dev/null > /dev/null 2>&1 &
	qpid=$!
	sleep 1
	out=$(SYSMAP=$kobj/System.map PORT=$port PROFILE_FUNCS=$funcs \
	      SKIP=$skip CALLS=$CALLS timeout 900 gdb-multiarch -q -batch -nx \
	      -x "$HERE/profile.py" "$kobj/vmlinux" 2>&1 | grep '^profile:' || true)
	pkill -P "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	if [ -z "$out" ]; then
		echo "bench-profile: no figures from $kobj ($funcs)" >&2
		exit 1
	fi
	sed "s/^profile: /profile: $label: /" <<< "$out"
}

profile "$OURS" iommu_msi_prepare,iommu_msi_release 100 "ours, only MSI"
profile "$OURS" iommu_msi_prepare,iommu_msi_release 3500 "ours, shared"
profile "$STOCK" iommu_dma_prepare_msi 100 "stock, only MSI"
profile "$STOCK" iommu_dma_prepare_msi 3500 "stock, shared"
profile "$FLOOR" iommu_dma_prepare_msi,iommu_dma_release_msi 100 "floor, only MSI"
