#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end matrix: boot QEMU once per scenario with our guest program as
# init, and judge each run from the guest's verdicts and the kernel log.
#
#   run.sh --kernel <objdir> [--ppc-kernel <objdir>] [--expect-red|--expect-fail] [--demo]
#          [--debug [--expect-leaks]] [scenario...]
#
# --debug (a kernel built with configs/debug.config): also runs
# scenarios-debug.conf, and every scenario ends with a kmemleak scan.
# --expect-leaks (a kernel with a planted leak): succeeds only if kmemleak
# fails scenarios and nothing else does. --expect-fail: succeeds only if
# every scenario fails, whatever the reason.
# arm64 scenarios boot --kernel on QEMU virt; ppce500 scenarios boot
# --ppc-kernel (and are skipped without one).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$REPO/build
GUEST=$BUILD/guest/init
GUEST_PPC=$BUILD/guest-ppc/init
KOBJ= PPC_KOBJ= EXPECT_RED=0 EXPECT_FAIL=0 EXPECT_LEAKS=0 DEMO=0 DEBUG=0
WANT=()

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) KOBJ=$2; shift ;;
	--ppc-kernel) PPC_KOBJ=$2; shift ;;
	--expect-red) EXPECT_RED=1 ;;
	--expect-fail) EXPECT_FAIL=1 ;;
	--demo) DEMO=1 ;;
	--debug) DEBUG=1 ;;
	--expect-leaks) EXPECT_LEAKS=1 ;;
	*) WANT+=("$1") ;;
	esac
	shift
done
[ -n "$KOBJ" ] || { echo "usage: run.sh --kernel <objdir> ..." >&2; exit 2; }
# A broken kernel makes drivers wait for interrupts that never come.
TIMEOUT=${E2E_TIMEOUT:-$([ $EXPECT_RED -eq 1 ] && echo 40 || echo 300)}
IMAGE=$KOBJ/arch/arm64/boot/Image
[ -f "$IMAGE" ] || { echo "e2e: no kernel at $IMAGE" >&2; exit 2; }
[ -x "$GUEST" ] || { echo "e2e: no guest program at $GUEST" >&2; exit 2; }
if [ -n "$PPC_KOBJ" ]; then
	[ -f "$PPC_KOBJ/vmlinux" ] || { echo "e2e: no kernel at $PPC_KOBJ/vmlinux" >&2; exit 2; }
	[ -x "$GUEST_PPC" ] || { echo "e2e: no guest program at $GUEST_PPC" >&2; exit 2; }
fi
OUT=$BUILD/e2e/$(basename "$KOBJ")
mkdir -p "$OUT"
rm -f "$OUT"/*.log

# Kernel log lines that fail any scenario, whatever the guest says.
BAD_LOG='arm-smmu-v3.*event 0x|fault from EP|WARNING:|BUG:|Oops|Kernel panic|Unable to handle kernel|Call [tT]race:|INFO: task .* blocked'
# SMMU C_BAD_CD events: the driver's own loss during a domain switch
# (about one MSI per 400 switches). Counted instead of failed on in
# scenarios with allow=cbadcd; F_TRANSLATION (event 0x10) always fails.
CBADCD='arm-smmu-v3.*event 0x0a '
F_TRANSLATION='arm-smmu-v3.*event 0x10 '

# make_initramfs <guest program> <cpio>
make_initramfs() {
	local list=$OUT/initramfs.list
	cat > "$list" <<-EOT
	dir /dev 0755 0 0
	nod /dev/console 0600 0 0 c 5 1
	dir /proc 0755 0 0
	dir /sys 0755 0 0
	file /init $1 0755 0 0
	EOT
	"$KOBJ/usr/gen_init_cpio" "$list" > "$2"
}

# The pattern the guest's dmaapi check expects on every disk.
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
			echo "-drive file=$OUT/vblk.img,if=none,id=vblk,format=raw"
			echo "-device virtio-blk-pci,drive=vblk"
			echo "-drive file=$OUT/nvme.img,if=none,id=nvme,format=raw"
			echo "-device nvme,drive=nvme,serial=msie2e"
			;;
		*) echo "e2e: unknown device set $d" >&2; exit 2 ;;
		esac
	done
}

boot() {
	local machine=$1 devices=$2 cmdline=$3 log=$4
	if [[ $machine == ppce500* ]]; then
		# e500mc core: the kernel is built for it (PAMU support).
		# shellcheck disable=SC2046
		timeout "$TIMEOUT" qemu-system-ppc \
			-machine "$machine" -cpu e500mc -m 512 \
			-display none -monitor none -serial stdio -no-reboot -nic none \
			-kernel "$PPC_KOBJ/vmlinux" -initrd "$OUT/initramfs-ppc.cpio" \
			-append "console=ttyS0 panic=-1 printk.time=1 $cmdline" \
			$(qemu_devices "$devices") < /dev/null > "$log" 2>&1 || true
		return
	fi
	# shellcheck disable=SC2046
	timeout "$TIMEOUT" qemu-system-aarch64 \
		-machine "$machine" -cpu max,pauth-impdef=on -smp 2 -m 1024 \
		-display none -monitor none -serial stdio -no-reboot -nic none \
		-kernel "$IMAGE" -initrd "$OUT/initramfs.cpio" \
		-append "console=ttyAMA0 panic=-1 printk.time=1 $cmdline" \
		$(qemu_devices "$devices") < /dev/null > "$log" 2>&1 || true
}

# has_allow <allow list> <token>
has_allow() { [[ ",$1," == *",$2,"* ]]; }

# The kernel log lines of BAD_LOG, less those the allow list excuses.
bad_lines() {
	local log=$1 allow=$2 skip='^$'
	has_allow "$allow" cbadcd && skip=$CBADCD
	{ grep -E "$BAD_LOG" "$log" | grep -Ev -m3 "$skip"; } || true
}

# race_field <log> <E2E-INFO tag> <field>: the number, empty if missing.
race_field() {
	tr -d '\r' < "$1" |
		sed -n "s/^E2E-INFO $2 \(.* \)\?$3=\([0-9][0-9]*\).*/\2/p" | tail -1
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
		echo "no E2E-INFO race figures from the guest"
	elif [ "$sup" -gt 0 ]; then
		echo "$sup SMMU events suppressed by the driver's rate limit: their kind is unknown"
	elif [ $((bl + la + fa)) -gt "$cb" ]; then
		echo "$((bl + la + fa)) MSIs lost while attached (baseline $bl, race $la + $fa fired attached), only $cb C_BAD_CD events"
	fi
}

# Prints the reason a scenario failed, nothing when it passed.
judge() {
	local log=$1 allow=${2:-} bad
	bad=$(bad_lines "$log" "$allow")
	if [ -n "$bad" ]; then
		echo "kernel log: $(echo "$bad" | head -1 | tr -d '\r')"
	elif grep -q "E2E-CHECK .* FAIL" "$log"; then
		grep -m1 "E2E-CHECK .* FAIL" "$log" | tr -d '\r' | sed 's/^E2E-CHECK //'
	elif ! grep -q "^E2E-RESULT PASS" "$log"; then
		echo "no PASS verdict from the guest (timeout or crash, see $log)"
	elif has_allow "$allow" cbadcd; then
		race_judge "$log"
	fi
}

options() {
	local o out=
	for o in $1; do out="$out msi_e2e.$o"; done
	echo "$out"
}

run_scenario() {
	local name=$1 machine=$2 devices=$3 extra=$4 opts=$5 allow=$6
	local log=$OUT/$name.log start why checks
	start=$(date +%s)
	if [[ $machine == ppce500* ]] && [ -z "$PPC_KOBJ" ]; then
		printf 'SKIP  %-13s no --ppc-kernel given\n' "$name"
		return 2
	fi
	boot "$machine" "$devices" "$extra $(options "$opts")" "$log"
	why=$(judge "$log" "$allow")
	checks=$(grep -c "^E2E-CHECK .* PASS" "$log" || true)
	if [ -z "$why" ]; then
		printf 'PASS  %-13s %2d checks  %3ss\n' "$name" "$checks" "$(( $(date +%s) - start ))"
	else
		printf 'FAIL  %-13s %s  (%s)\n' "$name" "$why" "$log"
	fi
	if has_allow "$allow" cbadcd; then
		RACE_SUMMARY=
		race_judge "$log" > /dev/null
		echo "  $RACE_SUMMARY"
	fi
	[ -z "$why" ]
}

trim() { echo "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }

make_initramfs "$GUEST" "$OUT/initramfs.cpio"
[ -z "$PPC_KOBJ" ] || make_initramfs "$GUEST_PPC" "$OUT/initramfs-ppc.cpio"

if [ $DEMO -eq 1 ]; then
	log=$OUT/demo.log
	echo "demo: booting QEMU virt (GICv3 ITS + SMMUv3) with an edu PCI device"
	boot virt,gic-version=3,iommu=smmuv3 edu "msi_e2e.checks=demo" "$log"
	grep -E "^DEMO: " "$log" | tr -d '\r' | sed 's/^DEMO: //'
	why=$(judge "$log")
	if [ -n "$why" ]; then
		echo "demo: FAILED: $why"
		exit 1
	fi
	echo "demo: all MSIs delivered through the IOMMU; full log in $log"
	exit 0
fi

CONFS=("$HERE/scenarios.conf")
[ $DEBUG -eq 0 ] || CONFS+=("$HERE/scenarios-debug.conf")

pass=0 fail=0 skip=0 failed=
while IFS='|' read -r name machine devices extra opts; do
	name=$(trim "$name")
	case "$name" in ""|\#*) continue ;; esac
	# allow=<what>[,<what>] tokens are run.sh's own, not the guest's.
	allow='' guest_opts=''
	for o in $opts; do
		case $o in
		allow=*) allow="$allow${allow:+,}${o#allow=}" ;;
		*) guest_opts="$guest_opts${guest_opts:+ }$o" ;;
		esac
	done
	opts=$guest_opts
	# The leak scan runs last, after the other checks' teardown.
	[ $DEBUG -eq 0 ] || opts=$(echo "$opts" | sed 's/\(checks=[^ ]*\)/\1,kmemleak/')
	if [ ${#WANT[@]} -gt 0 ] && [[ ! " ${WANT[*]} " =~ " $name " ]]; then
		continue
	fi
	rc=0
	run_scenario "$name" "$(trim "$machine")" "$(trim "$devices")" \
		"$(trim "$extra")" "$opts" "$allow" || rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	2) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed="$failed $name" ;;
	esac
done < <(cat "${CONFS[@]}")
echo "$pass passed, $fail failed$([ $skip -eq 0 ] || echo ", $skip skipped")"

if [ $EXPECT_LEAKS -eq 1 ]; then
	leaky=$(grep -l "^E2E-CHECK kmemleak FAIL" "$OUT"/*.log 2>/dev/null | wc -l)
	other=$(cat "$OUT"/*.log | grep "^E2E-CHECK .* FAIL" | grep -v "kmemleak FAIL" |
		grep -c . || true)
	if [ "$leaky" -gt 0 ] && [ "$other" -eq 0 ]; then
		echo "negative control: kmemleak caught the planted leak in $leaky scenario(s), nothing else failed"
		grep -h -m1 "kmemleak FAIL" "$OUT"/*.log | head -1 | tr -d '\r' | sed 's/^/  /'
		exit 0
	fi
	echo "negative control: NOT as expected ($leaky scenario(s) with kmemleak reports, $other other failing check line(s))"
	exit 1
fi

if [ $EXPECT_FAIL -eq 1 ]; then
	# A planted bug of any kind: every scenario must fail, for any reason.
	if [ $pass -eq 0 ] && [ $fail -gt 0 ]; then
		echo "negative control: red as expected ($fail failed:$failed)"
		exit 0
	fi
	echo "negative control: NOT red ($pass passed)"
	exit 1
fi

if [ $EXPECT_RED -eq 1 ]; then
	# Every scenario must fail, and where doorbells are translated the
	# SMMU must report the write to the IOVA that is not mapped.
	faults=$(cat "$OUT"/*.log 2>/dev/null | grep -c "arm-smmu-v3.*event 0x10" || true)
	if [ $pass -eq 0 ] && [ $fail -gt 0 ] && [ "$faults" -gt 0 ]; then
		echo "negative control: red as expected ($fail failed:$failed; $faults SMMU translation faults)"
		grep -h -m1 -A4 "arm-smmu-v3.*event 0x10" "$OUT"/*.log | head -5 | tr -d '\r' | sed 's/^/  /'
		exit 0
	fi
	echo "negative control: NOT red; the harness cannot see a broken doorbell translation"
	exit 1
fi
[ $fail -eq 0 ]
