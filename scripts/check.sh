#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks on what we own and what we change: checkpatch --strict on
# our files and patches, sparse (C=1) and W=1 on the objects we touch,
# kernel-doc on our sources and headers, coccicheck on our files.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TREE=$REPO/build/linux
KOBJ=$REPO/build/arm64
CROSS=aarch64-linux-gnu-
fail=0

cd "$REPO"
# Kernel C we own, and userspace C (kernel style too): the e2e harness and
# the selftests of tools/testing/selftests.
kfiles=$(git ls-files --cached --others --exclude-standard -- \
	 'drivers/*.[ch]' 'include/*.h' 'arch/*.[ch]' 'kernel/*.[ch]' 'lib/*.[ch]')
ufiles=$(git ls-files --cached --others --exclude-standard -- 'tests/*.[ch]' \
	 'tools/testing/selftests/*.[ch]')
patches=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' patches/series 2>/dev/null)

result() { # name, status, detail
	printf '%-12s %-4s %s\n' "$1" "$2" "$3"
	[ "$2" = ok ] || fail=1
}

# checkpatch
cp_out=$(mktemp)
n=0
# Userspace code cannot follow the rules about kernel-only types and APIs.
UIGNORE=PREFER_KERNEL_TYPES,VOLATILE,STRCPY,PREFER_DEFINED_ATTRIBUTE_MACRO
UIGNORE=$UIGNORE,SSCANF_TO_KSTRTO,CAMELCASE,NEW_TYPEDEFS
# TRACE_EVENT() definitions have a layout of their own.
TIGNORE=OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT
for f in $kfiles; do
	n=$((n + 1))
	ign=FILE_PATH_CHANGES
	case "$f" in include/trace/events/*) ign=$ign,$TIGNORE ;; esac
	"$TREE/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
		--ignore "$ign" -f "$f" >> "$cp_out" 2>&1
done
for f in $ufiles; do
	n=$((n + 1))
	"$TREE/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,$UIGNORE \
		-f "$f" >> "$cp_out" 2>&1
done
# The base is a tarball import without upstream history: checkpatch cannot
# look up the IDs of Fixes: tags there.
for p in $patches; do
	# A patch made only of our files has no diff here; the files are
	# checked above, and series-shipped checks the patch as shipped.
	grep -q '^diff --git' "$REPO/patches/$p" || continue
	n=$((n + 1))
	(cd "$TREE" && ./scripts/checkpatch.pl --strict --quiet --show-types \
		--ignore UNKNOWN_COMMIT_ID "$REPO/patches/$p") >> "$cp_out" 2>&1
done
if [ -s "$cp_out" ]; then
	cat "$cp_out"
	result checkpatch FAIL "$n files/patches, see above"
else
	result checkpatch ok "$n files/patches clean"
fi
rm -f "$cp_out"

# Every file of ours belongs to one patch of the series.
if ot_out=$("$REPO/scripts/series.sh" table 2>&1); then
	result own-files ok "${ot_out#series: }"
else
	echo "$ot_out"
	result own-files FAIL "patches/own-files, see above"
fi

# Kconfig: no unmet dependency in the corner cases of our symbols.
if kc_out=$("$REPO/scripts/kconfig-check.sh" "$TREE" "$REPO/build/kconfig-check" 2>&1); then
	result kconfig ok "VFIO without IOMMU_SUPPORT, GICv3 without IOMMU, SMMUv3 + ITS: no unmet dependency"
else
	echo "$kc_out"
	result kconfig FAIL "see above"
fi

# kernel-doc
kd_out=$(mktemp)
kd_files=$(echo "$kfiles" | grep -v '_test\.c$\|kunit' || true)
[ -z "$kd_files" ] || (cd "$REPO" && "$TREE/scripts/kernel-doc" -none -Wall $kd_files) > "$kd_out" 2>&1
if [ -s "$kd_out" ]; then
	cat "$kd_out"
	result kernel-doc FAIL "$(wc -l < "$kd_out") warnings"
else
	result kernel-doc ok "$(echo $kd_files | wc -w) files clean"
fi
rm -f "$kd_out"

# sparse + W=1 on every object built from a file we own or patch, in each
# kernel that builds it: the e2e arm64 one, the Layerscape one (LS-SCFG,
# MBI, vhost-vdpa) and the powerpc one (fsl_msi).
objs=$( { echo "$kfiles"
	  for p in $patches; do
		sed -n 's|^+++ b/\(.*\.c\)$|\1|p' "patches/$p"
	  done; } | grep '\.c$' | sort -u)
sp_out=$(mktemp)
checked=0
sparse_in() { # objdir, ARCH, CROSS_COMPILE
	local obj=$1 built= c o
	[ -f "$obj/.config" ] || return 0
	for c in $objs; do
		o=${c%.c}.o
		[ -f "$obj/$o" ] && built="$built $o"
	done
	[ -n "$built" ] || return 0
	checked=$((checked + $(echo $built | wc -w)))
	make -s -C "$TREE" O="$obj" ARCH="$2" CROSS_COMPILE="$3" \
		CC="ccache ${3}gcc" C=2 W=1 $built >> "$sp_out" 2>&1
}
sparse_in "$KOBJ" arm64 "$CROSS"
sparse_in "$REPO/build/arm64-layerscape" arm64 "$CROSS"
sparse_in "$REPO/build/ppce500" powerpc powerpc-linux-gnu-
if [ "$checked" -eq 0 ]; then
	result sparse ok "no changed object built yet"
else
	# Upstream files carry warnings of their own: judge only our files
	# and the lines our patches add to upstream ones.
	ours=$(mktemp)
	for f in $kfiles; do echo "$f"; done > "$ours"
	added=$(mktemp)
	for p in $patches; do
		awk '/^\+\+\+ b\//{f=substr($2,3)} /^@@/{split($3,a,",");l=substr(a[1],2);next}
		     f && /^\+/ && !/^\+\+\+/{print f":"l} f && /^[ +]/{l++}' "patches/$p"
	done > "$added"
	new=$(grep -E 'warning:|error:' "$sp_out" | sed "s|^$TREE/||" |
	      while IFS=: read -r file line rest; do
		if grep -qxF "$file" "$ours" || grep -qxF "$file:$line" "$added"; then
			echo "$file:$line:$rest"
		fi
	      done | sort -u)
	if [ -n "$new" ]; then
		echo "$new"
		result sparse FAIL "C=2 W=1 on $checked objects"
	else
		result sparse ok "C=2 W=1: no warning in our files or on lines our patches add ($checked objects in the arm64, Layerscape and powerpc kernels)"
	fi
	rm -f "$ours" "$added"
fi
rm -f "$sp_out"

# coccicheck: every upstream semantic patch over our files, and ours (which
# reasons per file, so it runs with --dir) over the irqchips.
SPATCH=(spatch -D report --very-quiet --no-show-diff --no-includes
	--include-headers -I "$TREE/include")
cc_out=$(mktemp)
ncocci=0
for cocci in "$TREE"/scripts/coccinelle/*/*.cocci; do
	# Ours is about irqchips (below); the KUnit suite composes by hand.
	[ "${cocci##*/}" != iommu_msi.cocci ] || continue
	ncocci=$((ncocci + 1))
	"${SPATCH[@]}" --cocci-file "$cocci" $kfiles 2>/dev/null >> "$cc_out"
done
# Ours, over every irqchip that could sit behind an IOMMU.
for dir in drivers/irqchip arch/powerpc/sysdev; do
	(cd "$TREE" && "${SPATCH[@]}" --cocci-file scripts/coccinelle/api/iommu_msi.cocci \
		--dir "$dir" 2>/dev/null) >> "$cc_out"
done
if [ -s "$cc_out" ]; then
	cat "$cc_out"
	result coccicheck FAIL "$(wc -l < "$cc_out") reports"
else
	result coccicheck ok "$ncocci semantic patches on our files, iommu_msi.cocci on drivers/irqchip + arch/powerpc/sysdev: clean"
fi
rm -f "$cc_out"

exit $fail
