#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Upstream's iommufd selftests (tools/testing/selftests/iommu: iommufd and
# iommufd_fail_nth) from a kernel tree, built static for arm64, run as
# /init's children on a kernel with CONFIG_IOMMUFD_TEST under QEMU virt +
# SMMUv3. Prints their TAP totals; fails on a failure that is not one of
# the known ones below, on missing totals, on a kernel report (the shared
# judge), or, with --ours, if a case of the SW_MSI mock did not pass.
#
#   run.sh [--ours] <kernel objdir> <kernel tree> <uapi include> <outdir>
#
# Known failures, the same on stock 6.12.117 and on ours: linux-source-6.12
# ships selftests from a later kernel (tests/iommufd/compat.h).
#   *.get_hw_info         asks for an input data type 6.12 does not have
#   *.alloc_hwpt_nested   expects a later kernel's nested-hwpt checks
set -euo pipefail

OURS=0
if [ "${1:-}" = --ours ]; then
	OURS=1
	shift
fi
KOBJ=$1 TREE=$2 UAPI=$3 OUT=$4
REPO=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/judge-log.sh
. "$REPO/tests/lib/judge-log.sh"
KNOWN='\.(get_hw_info|alloc_hwpt_nested)$'
PROGS="iommufd iommufd_fail_nth"
CC=${CROSS_COMPILE:-aarch64-linux-gnu-}gcc

rm -rf "$OUT/root"
mkdir -p "$OUT/root/proc" "$OUT/root/sys" "$OUT/root/dev"
for p in $PROGS; do
	"$CC" -static -O2 -Wall -Wno-unused-function -D_GNU_SOURCE \
		-include "$REPO/tests/iommufd/compat.h" -isystem "$UAPI" \
		-I"$TREE/tools/testing/selftests" \
		-o "$OUT/root/$p" "$TREE/tools/testing/selftests/iommu/$p.c" \
		-lpthread
done
"$CC" -static -O2 -Wall -Wextra -Werror -o "$OUT/root/init" \
	"$REPO/tests/iommufd/init.c"
(cd "$OUT/root" && find . | cpio -o -H newc --quiet) > "$OUT/initramfs.cpio"

log=$OUT/selftests.log
# Huge pages: several cases map MAP_HUGETLB buffers.
timeout 1200 qemu-system-aarch64 \
	-machine virt,gic-version=3,iommu=smmuv3 -cpu max,pauth-impdef=on \
	-smp 2 -m 2048 -display none -monitor none -serial stdio -no-reboot \
	-nic none -kernel "$KOBJ/arch/arm64/boot/Image" \
	-initrd "$OUT/initramfs.cpio" \
	-append "console=ttyAMA0 panic=-1 hugepages=64 iommufd_st=${PROGS// /,}" \
	< /dev/null > "$log" 2>&1 || true

bad=0
for p in $PROGS; do
	# The program's own lines, between its start and end markers.
	part=$(tr -d '\r' < "$log" |
	       sed -n "/^IOMMUFD-ST start $p\$/,/^IOMMUFD-ST end $p /p")
	totals=$(grep -a -m1 '^# Totals:' <<< "$part" || true)
	if [ -z "$totals" ]; then
		echo "FAIL  $p: no TAP totals (see $log)"
		bad=1
		continue
	fi
	failed=$(sed -n 's/^not ok [0-9]* \([^ ]*\).*/\1/p' <<< "$part")
	known=$(grep -E "$KNOWN" <<< "$failed" || true)
	unknown=$(grep -vE "$KNOWN" <<< "$failed" | sed '/^$/d' || true)
	printf '%-5s %-17s %s; known failures: %s\n' \
		"$([ -z "$unknown" ] && echo ok || echo FAIL)" "$p" \
		"${totals#\# }" "$(echo "$known" | wc -w)"
	if [ -n "$unknown" ]; then
		echo "$unknown" | sed 's/^/      not ok: /'
		bad=1
	fi
	if [ $OURS -eq 1 ]; then
		want=$([ "$p" = iommufd ] && echo 4 || echo 1)
		got=$(grep -a -cE '^ok [0-9]+ (iommufd_sw_msi\.|basic_fail_nth\.msi_window)' <<< "$part" || true)
		if [ "$got" -ne "$want" ]; then
			echo "FAIL  $p: $got of the $want SW_MSI cases passed"
			bad=1
		else
			echo "      $p: the $want SW_MSI case(s) passed"
		fi
	fi
done
if report=$(klog_grep "$log" "$KLOG_BUG" 3); then
	echo "FAIL  kernel log: $report"
	bad=1
fi
[ $bad -eq 0 ] || { echo "iommufd-selftests: FAILED (log: $log)"; exit 1; }
echo "iommufd-selftests: green (log: $log)"
