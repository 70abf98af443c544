#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make kunit-race-negative: one KUnit race case on a kernel with the bug it
# must catch. The tree gets the negative patch, the test kernel is rebuilt
# in place (only iommu-msi.o changes between cases), and it boots with
# only that case and oops=panic: the case must fail, or crash in it.
#
#   kunit-race-negative.sh <tree> <objdir> <config> <patch> <case> <outdir>
set -euo pipefail

TREE=$1 KOBJ=$2 CONFIG=$3 PATCH=$4 CASE=$5 OUT=$6
REPO=$(cd "$(dirname "$0")/.." && pwd)

"$REPO/scripts/tree.sh" negative "$TREE" "$PATCH"
echo "kernel: building $KOBJ ($(basename "$PATCH" .patch))"
"$REPO/scripts/kbuild.sh" "$TREE" "$KOBJ" "$CONFIG" Image
if KUNIT_CMDLINE="oops=panic kunit.filter_glob=iommu_msi_cookie.$CASE" \
   "$REPO/scripts/kunit-boot.sh" "$KOBJ" "$TREE" "$OUT" > "$OUT.log" 2>&1; then
	echo "kunit-race-negative: $CASE passed with $(basename "$PATCH")" >&2
	exit 1
fi
if ! grep -aqE "not ok [0-9]+ $CASE|^ (sweep_race_vmm|$CASE)\+" "$OUT/test.log"; then
	echo "kunit-race-negative: $CASE did not fail, nor crash in it; see $OUT/test.log" >&2
	exit 1
fi
echo "kunit-race-negative: $CASE red as it must be with $(basename "$PATCH") (log: $OUT/test.log)"
