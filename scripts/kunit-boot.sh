#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make kunit: boot the test kernel (KUnit built in, off by default) with
# kunit.enable=1 on QEMU virt + GICv3 ITS + SMMUv3. The suites run before
# init and the kernel powers off; kunit.py parses the KTAP log and the
# shared judge reads the kernel log.
#
#   kunit-boot.sh <kernel objdir> <kernel tree> <outdir>
#
# KUNIT_CMDLINE adds to the kernel command line (a negative control's
# oops=panic, so that a crash ends the boot at once).
set -euo pipefail

KOBJ=$1 TREE=$2 OUT=$3
REPO=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$OUT"
timeout 600 qemu-system-aarch64 \
	-machine virt,gic-version=3,iommu=smmuv3 -cpu max,pauth-impdef=on \
	-smp 2 -m 1024 -display none -monitor none -serial stdio -no-reboot \
	-nic none -kernel "$KOBJ/arch/arm64/boot/Image" \
	-append "console=ttyAMA0 panic=-1 kunit.enable=1 kunit_shutdown=poweroff ${KUNIT_CMDLINE:-}" \
	< /dev/null > "$OUT/test.log" 2>&1 || true
"$TREE/tools/testing/kunit/kunit.py" parse "$OUT/test.log"
"$REPO/scripts/kunit-log-judge.sh" "$OUT/test.log"
