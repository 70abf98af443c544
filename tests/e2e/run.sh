#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end matrix: boot QEMU once per scenario with the MSI selftests
# (tools/testing/selftests/iommu/msi) and their PID 1 wrapper
# (tests/e2e/guest/msi_init.c) as the initramfs, and judge each run from
# their TAP output and the kernel log.
#
#   run.sh --kernel <objdir> [--ppc-kernel <objdir>] [--expect-red|--expect-fail [--crash-in <prefix>]] [--demo]
#          [--debug [--expect-leaks]] [scenario...]
#
# --debug (a kernel built with configs/debug.config): also runs
# scenarios-debug.conf, and every scenario ends with a kmemleak scan.
# --expect-leaks (a kernel with a planted leak): succeeds only if kmemleak
# fails scenarios and nothing else does. --expect-fail: succeeds only if
# every scenario fails, and by what the selftests or the SMMU see.
# --expect-red: the same, and the SMMU must report translation faults.
# No mode and no allow list excuses a report of the kernel or its debug
# tools (WARN, BUG, Oops, KASAN, lockdep, UBSAN: tests/lib/judge-log.sh),
# except --expect-fail --crash-in <prefix>: a report whose backtrace runs
# through <prefix>* functions (the code the control breaks).
# A scenario name that is not in the table, an unknown device set or allow
# token in the table, or a selection of no scenario is an error (exit 2)
# before anything boots.
# arm64 scenarios boot --kernel on QEMU virt; ppce500 scenarios boot
# --ppc-kernel (and are skipped without one, unless named).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$REPO/build
GUEST=$BUILD/guest
GUEST_PPC=$BUILD/guest-ppc
KOBJ='' PPC_KOBJ='' EXPECT_RED=0 EXPECT_FAIL=0 EXPECT_LEAKS=0 DEMO=0 DEBUG=0
CRASH_IN=''
WANT=()

# shellcheck source=tests/lib/judge-log.sh
. "$REPO/tests/lib/judge-log.sh"

usage() {
	[ -z "${1:-}" ] || echo "e2e: $1" >&2
	echo "usage: run.sh --kernel <objdir> [--ppc-kernel <objdir>] [--expect-red|--expect-fail] [--demo] [--debug [--expect-leaks]] [scenario...]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel|--ppc-kernel|--crash-in) [ $# -ge 2 ] || usage "$1 needs an argument" ;;
	esac
	case "$1" in
	--kernel) KOBJ=$2; shift ;;
	--ppc-kernel) PPC_KOBJ=$2; shift ;;
	--expect-red) EXPECT_RED=1 ;;
	--expect-fail) EXPECT_FAIL=1 ;;
	--crash-in) CRASH_IN=$2; shift ;;
	--demo) DEMO=1 ;;
	--debug) DEBUG=1 ;;
	--expect-leaks) EXPECT_LEAKS=1 ;;
	-*) usage "unknown option $1" ;;
	*) WANT+=("$1") ;;
	esac
	shift
done
[ -n "$KOBJ" ] || usage "no --kernel"
[ $((EXPECT_RED + EXPECT_FAIL + EXPECT_LEAKS)) -le 1 ] ||
	usage "--expect-red, --expect-fail and --expect-leaks exclude each other"
[ -z "$CRASH_IN" ] || [ $EXPECT_FAIL -eq 1 ] ||
	usage "--crash-in goes with --expect-fail"
[ $EXPECT_LEAKS -eq 0 ] || [ $DEBUG -eq 1 ] ||
	usage "--expect-leaks needs --debug (the kmemleak scan)"
[ $DEMO -eq 0 ] || [ ${#WANT[@]} -eq 0 ] || usage "--demo runs no scenario: ${WANT[*]}"
[ $DEMO -eq 0 ] || [ $((EXPECT_RED + EXPECT_FAIL + EXPECT_LEAKS)) -eq 0 ] ||
	usage "--demo has no negative control"

# Device sets of the table's third column (qemu_devices knows them).
DEVICE_SETS='edu disks viommu'
# allow=<token> options of the table that run.sh knows.
ALLOW_TOKENS='cbadcd'

trim() { echo "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }

# in_words <word> <words>
in_words() { [[ " $2 " == *" $1 "* ]]; }

# conf_names <conf>: the scenario names of a table.
conf_names() {
	local name rest
	while IFS='|' read -r name rest || [ -n "$name" ]; do
		name=$(trim "$name")
		case "$name" in ""|\#*) continue ;; esac
		echo "$name"
	done < "$1"
}

# The scenario table: S_NAME, S_MACHINE, S_DEVICES, S_EXTRA, S_OPTS (the
# guest's options) and S_ALLOW (run.sh's allow tokens, comma-separated),
# one entry per row of the confs; rows with an unknown device set or allow
# token, or without a machine, are errors.
S_NAME=() S_MACHINE=() S_DEVICES=() S_EXTRA=() S_OPTS=() S_ALLOW=()
load_table() {
	local conf n name machine devices extra opts d o allow guest_opts bad=0
	for conf in "$@"; do
		n=0
		while IFS='|' read -r name machine devices extra opts || [ -n "$name" ]; do
			n=$((n + 1))
			name=$(trim "$name")
			case "$name" in ""|\#*) continue ;; esac
			machine=$(trim "$machine") devices=$(trim "$devices")
			if [ -z "$machine" ]; then
				echo "e2e: $conf:$n: scenario $name has no QEMU machine" >&2
				bad=1
			fi
			for d in $devices; do
				in_words "$d" "$DEVICE_SETS" && continue
				echo "e2e: $conf:$n: scenario $name: unknown device set '$d' (known: $DEVICE_SETS)" >&2
				bad=1
			done
			# allow=<what>[,<what>] tokens are run.sh's own, not the guest's.
			allow='' guest_opts=''
			for o in $opts; do
				case $o in
				allow=*) allow="$allow${allow:+,}${o#allow=}" ;;
				*) guest_opts="$guest_opts${guest_opts:+ }$o" ;;
				esac
			done
			for o in ${allow//,/ }; do
				in_words "$o" "$ALLOW_TOKENS" && continue
				echo "e2e: $conf:$n: scenario $name: unknown allow token '$o' (known: $ALLOW_TOKENS)" >&2
				bad=1
			done
			S_NAME+=("$name") S_MACHINE+=("$machine") S_DEVICES+=("$devices")
			S_EXTRA+=("$(trim "$extra")") S_OPTS+=("$guest_opts") S_ALLOW+=("$allow")
		done < "$conf"
	done
	[ $bad -eq 0 ] || exit 2
}

CONFS=("$HERE/scenarios.conf")
[ $DEBUG -eq 0 ] || CONFS+=("$HERE/scenarios-debug.conf")
# SEL: the indices into S_* of the scenarios to run, in table order.
SEL=()
if [ $DEMO -eq 0 ]; then
	load_table "${CONFS[@]}"
	unknown=0
	for w in "${WANT[@]}"; do
		in_words "$w" "${S_NAME[*]}" && continue
		if [ $DEBUG -eq 0 ] && in_words "$w" "$(conf_names "$HERE/scenarios-debug.conf" | tr '\n' ' ')"; then
			echo "e2e: scenario $w is in scenarios-debug.conf: it runs only with --debug" >&2
		else
			echo "e2e: unknown scenario '$w' (known: ${S_NAME[*]})" >&2
		fi
		unknown=1
	done
	[ $unknown -eq 0 ] || exit 2
	for i in "${!S_NAME[@]}"; do
		[ ${#WANT[@]} -eq 0 ] || in_words "${S_NAME[$i]}" "${WANT[*]}" || continue
		if [[ ${S_MACHINE[$i]} == ppce500* ]] && [ -z "$PPC_KOBJ" ] && [ ${#WANT[@]} -gt 0 ]; then
			echo "e2e: scenario ${S_NAME[$i]} needs --ppc-kernel" >&2
			exit 2
		fi
		SEL+=("$i")
	done
	if [ ${#SEL[@]} -eq 0 ]; then
		echo "e2e: no scenario selected (tables: ${CONFS[*]})" >&2
		exit 2
	fi
fi

# A broken kernel makes drivers wait for interrupts that never come.
TIMEOUT=${E2E_TIMEOUT:-$([ $EXPECT_RED -eq 1 ] && echo 40 || echo 300)}
IMAGE=$KOBJ/arch/arm64/boot/Image
[ -f "$IMAGE" ] || { echo "e2e: no kernel at $IMAGE" >&2; exit 2; }
[ -x "$GUEST/init" ] || { echo "e2e: no guest programs in $GUEST (make guest)" >&2; exit 2; }
if [ -n "$PPC_KOBJ" ]; then
	[ -f "$PPC_KOBJ/vmlinux" ] || { echo "e2e: no kernel at $PPC_KOBJ/vmlinux" >&2; exit 2; }
	[ -x "$GUEST_PPC/init" ] || { echo "e2e: no guest programs in $GUEST_PPC (make guest)" >&2; exit 2; }
fi
OUT=$BUILD/e2e/$(basename "$KOBJ")
mkdir -p "$OUT"
rm -f "$OUT"/*.log

# Kernel log lines that fail any scenario, whatever the guest says: the
# reports of the kernel and its debug tools (KLOG_BUG, KLOG_LEAK of
# tests/lib/judge-log.sh; never excused), and the faults the SMMUv3 and
# virtio-iommu drivers report for a device (DEV_FAULT; the allow list may
# excuse some).
DEV_FAULT='arm-smmu-v3.*event 0x|fault from EP'
# SMMU C_BAD_CD events: the driver's own loss during a domain switch
# (about one MSI per 400 switches). Counted instead of failed on in
# scenarios with allow=cbadcd; F_TRANSLATION (event 0x10) always fails.
CBADCD='arm-smmu-v3.*event 0x0a '
F_TRANSLATION='arm-smmu-v3.*event 0x10 '

# make_initramfs <guest dir> <cpio>: its init as /init, the selftest
# programs (and the demo) in /selftests.
make_initramfs() {
	local list=$OUT/initramfs.list f
	cat > "$list" <<-EOT
	dir /dev 0755 0 0
	nod /dev/console 0600 0 0 c 5 1
	dir /proc 0755 0 0
	dir /sys 0755 0 0
	dir /selftests 0755 0 0
	file /init $1/init 0755 0 0
	EOT
	for f in "$1"/*; do
		if [ -f "$f" ] && [ -x "$f" ] && [ "${f##*/}" != init ]; then
			echo "file /selftests/${f##*/} $f 0755 0 0" >> "$list"
		fi
	done
	"$KOBJ/usr/gen_init_cpio" "$list" > "$2"
}

# The pattern dma_api expects on every disk.
make_disk() {
	[ -f "$1" ] && return 0
	python3 - "$1" <<-'EOT'
	import sys
	n = 1 << 20
	data = bytes(((i * 7 + i // 4096 + 0x5a) & 0xff) for i in range(n))
	with open(sys.argv[1], 'wb') as f:
	    f.write(data)
	EOT
}

qemu_devices() {
	local d
	for d in $1; do
		case $d in
		edu) echo "-device edu" ;;
		viommu) echo "-device virtio-iommu-pci" ;;
		disks)
			make_disk "$OUT/vblk.img"
			make_disk "$OUT/nvme.img"
			# serial=msie2e: dma_api reads only disks that carry it.
			echo "-drive file=$OUT/vblk.img,if=none,id=vblk,format=raw"
			echo "-device virtio-blk-pci,drive=vblk,serial=msie2e"
			echo "-drive file=$OUT/nvme.img,if=none,id=nvme,format=raw"
			echo "-device nvme,drive=nvme,serial=msie2e"
			;;
		*) echo "e2e: unknown device set '$d'" >&2; return 2 ;;
		esac
	done
}

boot() {
	local machine=$1 devices=$2 cmdline=$3 log=$4 devargs
	# Never boot without a device the scenario asked for.
	devargs=$(qemu_devices "$devices") || exit 2
	if [[ $machine == ppce500* ]]; then
		# e500mc core: the kernel is built for it (PAMU support).
		# shellcheck disable=SC2086
		timeout "$TIMEOUT" qemu-system-ppc \
			-machine "$machine" -cpu e500mc -m 512 \
			-display none -monitor none -serial stdio -no-reboot -nic none \
			-kernel "$PPC_KOBJ/vmlinux" -initrd "$OUT/initramfs-ppc.cpio" \
			-append "console=ttyS0 panic=-1 printk.time=1 $cmdline" \
			$devargs < /dev/null > "$log" 2>&1 || true
		return
	fi
	# shellcheck disable=SC2086
	timeout "$TIMEOUT" qemu-system-aarch64 \
		-machine "$machine" -cpu max,pauth-impdef=on -smp 2 -m 1024 \
		-display none -monitor none -serial stdio -no-reboot -nic none \
		-kernel "$IMAGE" -initrd "$OUT/initramfs.cpio" \
		-append "console=ttyAMA0 panic=-1 printk.time=1 $cmdline" \
		$devargs < /dev/null > "$log" 2>&1 || true
}

# has_allow <allow list> <token>
has_allow() { [[ ",$1," == *",$2,"* ]]; }

# The device faults of the kernel log, less those the allow list excuses.
fault_lines() {
	local log=$1 allow=$2 skip='^$'
	has_allow "$allow" cbadcd && skip=$CBADCD
	{ grep -a -E "$DEV_FAULT" "$log" | grep -a -Ev -m3 "$skip"; } || true
}

# race_field <log> <INFO tag> <field>: the number, empty if missing.
race_field() {
	tr -d '\r' < "$1" |
		sed -n "s/^\(# \)*INFO $2 \(.* \)\?$3=\([0-9][0-9]*\).*/\3/p" | tail -1
}

# allow=cbadcd: every MSI the iommufd-race check lost while the device was
# attached needs a C_BAD_CD event: those of the baseline, those of the race
# no detach excuses, and those a detach excused although the device sent
# them while attached (excused_fired_attached). Sets RACE_SUMMARY; prints
# the reason if the counts do not add up, nothing when they do.
race_judge() {
	local log=$1 bl bf bs rc rf ra la ld fa sw dt cb tf sup
	bl=$(race_field "$log" race.baseline lost)
	bf=$(race_field "$log" race.baseline fired)
	bs=$(race_field "$log" race.baseline switches)
	rc=$(race_field "$log" race.race cycles)
	rf=$(race_field "$log" race.race fired)
	ra=$(race_field "$log" race.race arrived)
	la=$(race_field "$log" race.race lost_attached)
	ld=$(race_field "$log" race.race lost_detached)
	fa=$(race_field "$log" race.race excused_fired_attached)
	sw=$(race_field "$log" race.race switches)
	dt=$(race_field "$log" race.race detaches)
	cb=$(grep -c "$CBADCD" "$log" || true)
	tf=$(grep -c "$F_TRANSLATION" "$log" || true)
	# The driver prints at most 10 events per 5 s; the guest paces itself.
	sup=$(tr -d '\r' < "$log" | sed -n 's/.*arm_smmu_evtq_thread: \([0-9]*\) callbacks suppressed.*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }')
	RACE_SUMMARY="race: baseline switches=${bs:-?} fired=${bf:-?} lost=${bl:-?}; race cycles=${rc:-?} fired=${rf:-?} arrived=${ra:-?} lost_attached=${la:-?} lost_detached=${ld:-?} (fired attached ${fa:-?}) switches=${sw:-?} detaches=${dt:-?}; C_BAD_CD events=$cb; SMMU 0x10 faults=$tf"
	[ "$sup" -eq 0 ] || RACE_SUMMARY="$RACE_SUMMARY; $sup SMMU events suppressed"
	if [ -z "$bl" ] || [ -z "$la" ] || [ -z "$fa" ]; then
		echo "no INFO race figures from vfio_race"
	elif [ "$sup" -gt 0 ]; then
		echo "$sup SMMU events suppressed by the driver's rate limit: their kind is unknown"
	elif [ $((bl + la + fa)) -gt "$cb" ]; then
		echo "$((bl + la + fa)) MSIs lost while attached (baseline $bl, race $la + $fa fired attached), only $cb C_BAD_CD events"
	fi
}

# The TAP stream of msi_init (tests/e2e/guest/msi_init.c): the programs'
# TAP nested under "# ", one top-level test point per program (and one for
# kmemleak), and last "# msi_init: Totals: pass:.. fail:.. xfail:..
# xpass:.. skip:.. error:..".
TAP_TOTALS='^# msi_init: Totals: '
# A "not ok" line at any depth.
TAP_NOT_OK='^(# )*not ok [0-9]+ '
# tap_field <totals line> <counter>
tap_field() { sed -n "s/.* $2:\([0-9][0-9]*\).*/\1/p" <<< "$1"; }

# tap_failures <log>: "<test>: <diagnostic>" for each "not ok" line, with
# the first failure diagnostic of that test (a FAILED: line of a check,
# the harness's "Expected ..." and the TH_LOG() line after it, a timeout
# or a Bail out).
tap_failures() {
	tr -d '\r' < "$1" | awk '
		function strip(s) { sub(/^(# )+/, "", s); return s }
		/^(# )*#  RUN / { d = ""; want = 0; next }
		want && /^(# )+[^ ]+:[0-9]+:/ && !/:Expected / {
			d = d " (" strip($0) ")"; want = 0; next
		}
		{ want = 0 }
		d == "" && !/ tests passed\./ && /^(# )*(Bail out!|# .*Test terminated)|FAILED: |:Expected / {
			d = strip($0); want = /:Expected /
		}
		/^(# )*not ok [0-9]+ / {
			t = $0; sub(/^(# )*not ok [0-9]+ /, "", t)
			print t (d != "" ? ": " d : ""); d = ""
		}'
}

# tap_skips <log>: "<test>: <reason>" for each test the selftests skipped.
tap_skips() {
	tr -d '\r' < "$1" | sed -n 's/^\(# \)*ok [0-9]* \(.*\) # SKIP *\(.*\)$/\2: \3/p'
}

# judge <log> [allow]: sets WHY, the reason the scenario failed (empty when
# it passed), from the first of these that the log shows:
#   J_BUG     a report of the kernel or its debug tools (never excused)
#   J_LEAK    kmemleak's own report in the kernel log
#   J_FAULT   an SMMU or virtio-iommu fault the allow list does not excuse
#   J_CHECKS  the selftests' "not ok" lines (J_OTHER: those but kmemleak's)
#   J_VERDICT msi_init's totals line: missing (timeout, crash), a failure
#             or error counted, a plan its results do not match, or no
#             test passed (every one skipped)
#   J_RACE    allow=cbadcd: lost MSIs the C_BAD_CD events do not match
# All of them are set, for the negative controls (expected_failure).
# J_PASS, J_SKIP: the selftests passed and skipped (kmemleak's test point
# is not one of them).
judge() {
	local log=$1 allow=${2:-} plan results bail
	J_LOG=$log
	J_BUG=$(klog_grep "$log" "$KLOG_BUG" 1 || true)
	J_LEAK=$(klog_grep "$log" "$KLOG_LEAK" 1 || true)
	J_FAULT=$(fault_lines "$log" "$allow" | sed -n '1{s/\r//g;p}')
	J_CHECKS=$( { grep -a -E "$TAP_NOT_OK" "$log" || true; } | tr -d '\r')
	J_OTHER=$(grep -v -E '^not ok [0-9]+ kmemleak' <<< "$J_CHECKS" || true)
	J_VERDICT=$( { grep -a -E "$TAP_TOTALS" "$log" || true; } | tr -d '\r' | tail -1)
	J_PASS=$(tap_field "$J_VERDICT" pass) J_SKIP=$(tap_field "$J_VERDICT" skip)
	if [ -n "$J_PASS" ] && grep -a -q -E '^ok [0-9]+ kmemleak' "$log"; then
		J_PASS=$((J_PASS - 1))
	fi
	plan=$( { grep -a -E '^1\.\.[0-9]+' "$log" || true; } | tr -d '\r' | sed -n '1s/^1\.\.//p')
	results=$( { grep -a -c -E '^(not )?ok [0-9]+ ' "$log" || true; } )
	bail=$( { grep -a -E -m1 '^(# )*Bail out!' "$log" || true; } | tr -d '\r')
	J_RACE=
	! has_allow "$allow" cbadcd || J_RACE=$(race_judge "$log")
	if [ -n "$J_BUG" ]; then
		WHY="kernel log: $J_BUG"
	elif [ -n "$J_LEAK" ]; then
		WHY="kernel log: $J_LEAK"
	elif [ -n "$J_FAULT" ]; then
		WHY="kernel log: $J_FAULT"
	elif [ -n "$J_CHECKS" ]; then
		WHY="not ok: $(tap_failures "$log" | sed -n 1p)"
	elif [ -n "$bail" ]; then
		WHY=$bail
	elif [ -z "$J_VERDICT" ]; then
		WHY="no TAP totals from msi_init (timeout or crash, see $log)"
	elif [ -z "$plan" ] || [ "$plan" -ne "$results" ]; then
		WHY="TAP plan 1..${plan:-?} but $results results"
	elif [ "$(tap_field "$J_VERDICT" fail)" != 0 ] ||
	     [ "$(tap_field "$J_VERDICT" error)" != 0 ] ||
	     [ "$(tap_field "$J_VERDICT" xpass)" != 0 ]; then
		WHY="TAP totals: ${J_VERDICT#\# msi_init: }"
	elif [ "${J_PASS:-0}" -eq 0 ]; then
		WHY="no selftest passed (${J_SKIP:-0} skipped): $(tap_skips "$log" | sed -n 1p)"
	else
		WHY=$J_RACE
	fi
}

# Whether the failure the last judge found is the one the negative control
# plants (and only that one); if not, NOT_EXPECTED says why. A report of
# the kernel or its debug tools never is: --expect-red and --expect-fail
# take what the selftests or the SMMU see; --expect-leaks takes
# kmemleak's report alone, with the guest at its verdict.
# --crash-in <prefix> (with --expect-fail): a kernel report is the planted
# failure when a backtrace of the log runs through functions named
# <prefix>*, as a use-after-free in the code a control breaks does.
crashed_in() {
	[ -n "$CRASH_IN" ] &&
		grep -a -q -E "(^|[[:space:]])${CRASH_IN}[[:alnum:]_]*\+0x" -- "$1"
}

expected_failure() {
	NOT_EXPECTED=
	if [ -n "$J_BUG" ] && ! crashed_in "$J_LOG"; then
		NOT_EXPECTED="kernel log: $J_BUG"
	elif [ $EXPECT_LEAKS -eq 0 ]; then
		[ -z "$J_LEAK" ] || NOT_EXPECTED="kernel log: $J_LEAK"
	elif [ -n "$J_FAULT" ]; then
		NOT_EXPECTED="kernel log: $J_FAULT"
	elif [ -n "$J_OTHER" ]; then
		NOT_EXPECTED="not kmemleak: $(sed -n '1p' <<< "$J_OTHER")"
	elif [ -n "$J_RACE" ]; then
		NOT_EXPECTED=$J_RACE
	elif [ -z "$J_VERDICT" ]; then
		NOT_EXPECTED="the guest did not finish (no TAP totals)"
	elif [ -z "$J_LEAK" ] && ! grep -q -E '^not ok [0-9]+ kmemleak' <<< "$J_CHECKS"; then
		NOT_EXPECTED="not kmemleak: $WHY"
	fi
	[ $((EXPECT_RED + EXPECT_FAIL + EXPECT_LEAKS)) -gt 0 ] && [ -z "$NOT_EXPECTED" ]
}

options() {
	local o out=
	for o in $1; do out="$out msi_e2e.$o"; done
	echo "$out"
}

# Sets WHY and the J_* of judge; returns 2 when skipped.
run_scenario() {
	local name=$1 machine=$2 devices=$3 extra=$4 opts=$5 allow=$6
	local log=$OUT/$name.log start
	start=$(date +%s)
	if [[ $machine == ppce500* ]] && [ -z "$PPC_KOBJ" ]; then
		printf 'SKIP  %-13s no --ppc-kernel given\n' "$name"
		return 2
	fi
	boot "$machine" "$devices" "$extra $(options "$opts")" "$log"
	judge "$log" "$allow"
	if [ -z "$WHY" ]; then
		printf 'PASS  %-13s %3d tests%s%s  %3ss\n' "$name" "$J_PASS" \
			"$([ "${J_SKIP:-0}" -eq 0 ] || echo ", $J_SKIP skipped")" \
			"$([ $DEBUG -eq 0 ] || echo " + kmemleak")" \
			"$(( $(date +%s) - start ))"
	else
		printf 'FAIL  %-13s %s  (%s)\n' "$name" "$WHY" "$log"
	fi
	# The kselftests' TAP totals, as msi_init summed them.
	{ grep -a -m1 -E "$TAP_TOTALS" "$log" || true; } | tr -d '\r' |
		sed 's/^# msi_init: /  TAP /'
	# Every skip is reported, with the selftest's reason.
	tap_skips "$log" | sed 's/^/  skip: /'
	if has_allow "$allow" cbadcd; then
		RACE_SUMMARY=
		race_judge "$log" > /dev/null
		echo "  $RACE_SUMMARY"
	fi
	[ -z "$WHY" ]
}

make_initramfs "$GUEST" "$OUT/initramfs.cpio"
[ -z "$PPC_KOBJ" ] || make_initramfs "$GUEST_PPC" "$OUT/initramfs-ppc.cpio"

if [ $DEMO -eq 1 ]; then
	log=$OUT/demo.log
	echo "demo: booting QEMU virt (GICv3 ITS + SMMUv3) with an edu PCI device"
	boot virt,gic-version=3,iommu=smmuv3 edu "msi_e2e.tests=msi_demo" "$log"
	{ grep -a -E "^(# )*DEMO: " "$log" || true; } | tr -d '\r' | sed 's/^.*DEMO: //'
	judge "$log"
	if [ -n "$WHY" ]; then
		echo "demo: FAILED: $WHY"
		exit 1
	fi
	echo "demo: all MSIs delivered through the IOMMU; full log in $log"
	exit 0
fi

# unexpected: the failures a negative control does not plant, one
# "<scenario>: <reason>" each; leaky: the scenarios kmemleak failed.
pass=0 fail=0 skip=0 failed='' leaky=0 leak_line=''
unexpected=()
for i in "${SEL[@]}"; do
	name=${S_NAME[$i]} opts=${S_OPTS[$i]}
	# The leak scan runs last, after the selftests' teardown.
	[ $DEBUG -eq 0 ] || opts="$opts kmemleak=1"
	rc=0
	run_scenario "$name" "${S_MACHINE[$i]}" "${S_DEVICES[$i]}" \
		"${S_EXTRA[$i]}" "$opts" "${S_ALLOW[$i]}" || rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	2) skip=$((skip + 1)) ;;
	*)
		fail=$((fail + 1)); failed="$failed $name"
		if ! expected_failure; then
			unexpected+=("$name: ${NOT_EXPECTED:-$WHY}")
		elif [ $EXPECT_LEAKS -eq 1 ]; then
			leaky=$((leaky + 1))
			[ -n "$leak_line" ] || leak_line=$(grep -m1 -E '^not ok [0-9]+ kmemleak' <<< "$J_CHECKS" || true)
			[ -n "$leak_line" ] || leak_line=$J_LEAK
		fi
		;;
	esac
done
echo "$pass passed, $fail failed$([ $skip -eq 0 ] || echo ", $skip skipped")"
if [ $((pass + fail)) -eq 0 ]; then
	echo "e2e: no scenario ran" >&2
	exit 1
fi

# The failures no negative control excuses, with their reasons.
print_unexpected() {
	local u
	for u in "${unexpected[@]}"; do echo "  $u"; done
}

if [ $EXPECT_LEAKS -eq 1 ]; then
	if [ "$leaky" -gt 0 ] && [ ${#unexpected[@]} -eq 0 ]; then
		echo "negative control: kmemleak caught the planted leak in $leaky scenario(s), nothing else failed"
		echo "  $leak_line"
		exit 0
	fi
	echo "negative control: NOT as expected ($leaky scenario(s) failed by kmemleak alone, ${#unexpected[@]} failed otherwise)"
	print_unexpected
	exit 1
fi

if [ $EXPECT_FAIL -eq 1 ]; then
	# A planted bug: every scenario must fail, by what the selftests or
	# the SMMU see; a WARN, BUG or KASAN report is another bug.
	if [ $pass -eq 0 ] && [ $fail -gt 0 ] && [ ${#unexpected[@]} -eq 0 ]; then
		echo "negative control: red as expected ($fail failed:$failed)"
		exit 0
	fi
	if [ ${#unexpected[@]} -gt 0 ]; then
		echo "negative control: NOT as expected (${#unexpected[@]} scenario(s) failed by a report of the kernel, not by the selftests)"
		print_unexpected
	else
		echo "negative control: NOT red ($pass passed)"
	fi
	exit 1
fi

if [ $EXPECT_RED -eq 1 ]; then
	# Every scenario must fail, and where doorbells are translated the
	# SMMU must report the write to the IOVA that is not mapped.
	faults=$(cat "$OUT"/*.log 2>/dev/null | grep -a -c "arm-smmu-v3.*event 0x10" || true)
	if [ $pass -eq 0 ] && [ $fail -gt 0 ] && [ "$faults" -gt 0 ] && [ ${#unexpected[@]} -eq 0 ]; then
		echo "negative control: red as expected ($fail failed:$failed; $faults SMMU translation faults)"
		{ grep -a -h -m1 -A4 "arm-smmu-v3.*event 0x10" "$OUT"/*.log || true; } | head -5 | tr -d '\r' | sed 's/^/  /'
		exit 0
	fi
	if [ ${#unexpected[@]} -gt 0 ]; then
		echo "negative control: NOT as expected (${#unexpected[@]} scenario(s) failed by a report of the kernel, not by the broken translation)"
		print_unexpected
	else
		echo "negative control: NOT red ($pass passed, $faults SMMU translation faults); the harness cannot see a broken doorbell translation"
	fi
	exit 1
fi
[ $fail -eq 0 ]
