#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The series a maintainer applies: the edits to upstream files of
# patches/series, with each of our new files added to the patch that
# patches/own-files names, formatted with a cover letter.
#
#   series.sh table   check that patches/own-files maps every file of ours
#   series.sh build   write build/series/ (make series)
#   series.sh shipped check that build/series applied to the pristine base
#                     is the tree make test builds, and checkpatch it
#   series.sh check   apply build/series/ to the pristine base one patch at
#                     a time; at each step run checkpatch --strict on the
#                     patch, run kernel-doc on the files it adds, and build
#                     the arm64 e2e and ppce500 configs; at the end check that
#                     MAINTAINERS covers every file the series adds
#                     (make series-check)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TREE=$REPO/build/linux
OUT=$REPO/build/series
TABLE=$REPO/patches/own-files
# The check tree sits where build/linux does relative to its object
# directories, so that ccache reuses the main builds' objects.
CHECK=$REPO/build/sc
KCONFIG_LINK=drivers/iommu/msi/Kconfig
OWN_ROOTS="arch drivers include Documentation kernel lib scripts/coccinelle tools/testing/selftests/iommu/msi"

die() { echo "series: $*" >&2; exit 1; }

series_files() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REPO/patches/series"
}

table() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TABLE"
}

tree_path() {
	if [ "$1" = Kconfig ]; then echo "$KCONFIG_LINK"; else echo "$1"; fi
}

# Every file of ours is in the table once, with a patch of the series.
check_table() {
	local f p n bad=0
	[ -f "$TABLE" ] || die "$TABLE is missing"
	while read -r f; do
		n=$(table | awk -v f="$f" '$1 == f' | wc -l)
		if [ "$n" -ne 1 ]; then
			echo "series: $f is listed $n times in patches/own-files" >&2
			bad=1
		fi
	done < <(cd "$REPO" && git ls-files --cached --others --exclude-standard -- $OWN_ROOTS Kconfig)
	while read -r f p; do
		[ -e "$REPO/$f" ] || { echo "series: $f (patches/own-files) does not exist" >&2; bad=1; }
		series_files | grep -qxF -- "$p" || { echo "series: $p (for $f) is not in patches/series" >&2; bad=1; }
	done < <(table)
	[ $bad -eq 0 ] || die "fix patches/own-files"
}

# A detached worktree of build/linux at the pristine base, clean.
fresh_worktree() {
	local dir=$1
	[ -d "$TREE/.git" ] || die "no tree: run 'make tree'"
	if [ ! -e "$dir/.git" ]; then
		git -C "$TREE" worktree prune
		mkdir -p "$(dirname "$dir")"
		git -C "$TREE" worktree add -q --detach "$dir" base
	fi
	git -C "$dir" checkout -q -f --detach base
	git -C "$dir" reset -q --hard base
	git -C "$dir" clean -q -f -d -x
	git -C "$dir" config user.name "$(git -C "$TREE" config user.name)"
	git -C "$dir" config user.email "$(git -C "$TREE" config user.email)"
}

# The cover letter: our text, the diffstat format-patch wrote, and To/Cc
# from get_maintainer.pl over the patches.
fill_cover() {
	local cover=$1 tree=$2 subject to cc patches p
	subject=$(head -1 "$REPO/patches/cover-letter")
	patches=
	for p in "$OUT"/*.patch; do
		[ "${p##*/}" = 0000-cover-letter.patch ] || patches="$patches $p"
	done
	# Maintainers and reviewers in To, the lists in Cc.
	to=$(cd "$tree" && ./scripts/get_maintainer.pl --no-git --no-git-fallback --no-fixes \
		--no-rolestats --nol $patches | paste -sd, - | sed 's/,/, /g')
	cc=$(cd "$tree" && ./scripts/get_maintainer.pl --no-git --no-git-fallback --no-fixes \
		--no-rolestats --nom --nor $patches | paste -sd, - | sed 's/,/, /g')
	python3 - "$cover" "$subject" "$REPO/patches/cover-letter" "$to" "$cc" <<-'EOT'
	import sys
	path, subject, body_file, to, cc = sys.argv[1:6]
	text = open(path).read()
	body = open(body_file).read().split('\n', 1)[1].lstrip('\n')
	text = text.replace('*** SUBJECT HERE ***', subject)
	text = text.replace('*** BLURB HERE ***', body.rstrip('\n'))
	head, sep, rest = text.partition('\nSubject: ')
	hdr = ''
	if to:
	    hdr += 'To: ' + to + '\n'
	if cc:
	    hdr += 'Cc: ' + cc + '\n'
	open(path, 'w').write(head + '\n' + hdr.rstrip('\n') + sep + rest)
	EOT
}

build() {
	local tree=$REPO/build/linux-series p f dst n=0
	check_table
	fresh_worktree "$tree"
	for p in $(series_files); do
		git -C "$tree" am -q --empty=keep --keep-cr "$REPO/patches/$p" ||
			die "$p does not apply to the pristine base"
		n=0
		while read -r f; do
			dst=$(tree_path "$f")
			mkdir -p "$(dirname "$tree/$dst")"
			cp "$REPO/$f" "$tree/$dst"
			git -C "$tree" add -f "$dst"
			n=$((n + 1))
		done < <(table | awk -v p="$p" '$2 == p { print $1 }')
		[ $n -eq 0 ] || git -C "$tree" commit -q --amend --no-edit
	done
	rm -rf "$OUT"
	git -C "$tree" format-patch -q --cover-letter --no-signature \
		--thread --base=base -o "$OUT" base..HEAD
	# Not a .patch: "git am build/series/*.patch" applies the patches only.
	fill_cover "$OUT/0000-cover-letter.patch" "$tree"
	mv "$OUT/0000-cover-letter.patch" "$OUT/0000-cover-letter.txt"
	echo "series: $OUT: 0000-cover-letter.txt + $(series_files | wc -l) patches ($(table | wc -l) new files of ours); apply with 'git am $OUT/*.patch'"
}

check() {
	local tree=$CHECK/linux p f name new start step sections last lax fail= added= ign
	[ -f "$OUT/0000-cover-letter.txt" ] || die "no series: run 'make series'"
	start=$(date +%s)
	fresh_worktree "$tree"
	last=$(ls "$OUT"/0*.patch | tail -1)
	for p in "$OUT"/0*.patch; do
		name=$(basename "$p")
		step=$(date +%s)
		# Options a later patch adds may be missing until the last one.
		lax=1
		[ "$p" != "$last" ] || lax=
		export KBUILD_LAX_CONFIG=$lax
		if ! git -C "$tree" am -q --keep-cr "$p"; then
			fail="$name does not apply"
			break
		fi
		# Debian's python3 has ply and git for checkpatch's SPDX check.
		# The "does MAINTAINERS need updating" heuristic is replaced by
		# the real question below: does the entry cover each new file?
		# TRACE_EVENT() layout is exempt, as in scripts/check.sh, and so
		# are Fixes: IDs, which the base's history does not hold.
		# Selftests are userspace code: kernel-only types and APIs do
		# not apply there (as in scripts/check.sh).
		ign=FILE_PATH_CHANGES,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT,UNKNOWN_COMMIT_ID
		if ! grep '^+++ b/' "$p" | grep -qv '^+++ b/tools/testing/selftests/'; then
			ign=$ign,PREFER_KERNEL_TYPES,VOLATILE,STRCPY,PREFER_DEFINED_ATTRIBUTE_MACRO
			ign=$ign,SSCANF_TO_KSTRTO,CAMELCASE,NEW_TYPEDEFS
		fi
		if ! (cd "$tree" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl \
		      --strict --quiet --ignore "$ign" "$p"); then
			fail="checkpatch --strict on $name"
			break
		fi
		added="$added $(git -C "$tree" diff --name-only --diff-filter=A HEAD~1 HEAD)"
		new=$(git -C "$tree" diff --name-only --diff-filter=A HEAD~1 HEAD -- '*.c' '*.h' |
		      grep -v -- '-test\.c$' || true)
		if [ -n "$new" ] &&
		   (cd "$tree" && ./scripts/kernel-doc -none -Wall $new 2>&1) | grep -q .; then
			(cd "$tree" && ./scripts/kernel-doc -none -Wall $new) || true
			fail="kernel-doc on the files $name adds"
			break
		fi
		if ! "$REPO/scripts/kbuild.sh" "$tree" "$CHECK/arm64" \
			"$REPO/configs/e2e-arm64.config" Image; then
			fail="arm64 e2e build after $name"
			break
		fi
		if ! ARCH=powerpc CROSS_COMPILE=powerpc-linux-gnu- "$REPO/scripts/kbuild.sh" \
			"$tree" "$CHECK/ppce500" "$REPO/configs/ppce500.config" vmlinux; then
			fail="ppce500 build after $name"
			break
		fi
		echo "series-check: ok    $name ($(( $(date +%s) - step ))s)"
	done
	# The MAINTAINERS entry is the last patch: it must cover every file
	# the series adds.
	if [ -z "$fail" ]; then
		for f in $added; do
			sections=$(cd "$tree" && ./scripts/get_maintainer.pl --no-git \
				   --no-git-fallback --sections -f "$f" 2>/dev/null || true)
			grep -qx "IOMMU MSI COOKIES" <<< "$sections" ||
				fail="$f, added by the series, is not in the IOMMU MSI COOKIES entry"
		done
	fi
	if [ -n "$fail" ]; then
		echo "series-check: FAIL  first broken patch: $fail"
		exit 1
	fi
	echo "series-check: every patch applies, passes checkpatch --strict and kernel-doc, and builds arm64 e2e + ppce500; wall time $(( $(date +%s) - start ))s"
}

# What make test builds is what we ship: build/series/*.patch applied with
# git am to the pristine base gives exactly the tree of build/linux, whose
# commits are patches/series and whose files of ours are links to this
# repo. Compared as git tree objects; build/linux must hold no unexported
# edit (tree.sh export-check). Then checkpatch --strict on each patch.
shipped() {
	local tree=$REPO/build/linux-am idx p want got bad=0 ign
	[ -f "$OUT/0000-cover-letter.txt" ] || die "no series: run 'make series'"
	fresh_worktree "$tree"
	git -C "$tree" am -q --keep-cr "$OUT"/0*.patch ||
		die "build/series does not apply to the pristine base"
	want=$(git -C "$tree" rev-parse 'HEAD^{tree}')
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git -C "$TREE" read-tree HEAD
	while read -r f p; do
		GIT_INDEX_FILE=$idx git -C "$TREE" update-index --add --cacheinfo \
			"100644,$(git -C "$TREE" hash-object -w -- "$REPO/$f"),$(tree_path "$f")"
	done < <(table)
	got=$(GIT_INDEX_FILE=$idx git -C "$TREE" write-tree)
	rm -f "$idx"
	if [ "$want" != "$got" ]; then
		git -C "$TREE" diff --stat "$want" "$got" >&2
		die "the tree make test builds (build/linux) is not the series applied to the base"
	fi
	for p in "$OUT"/0*.patch; do
		ign=FILE_PATH_CHANGES,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT,UNKNOWN_COMMIT_ID
		if ! grep '^+++ b/' "$p" | grep -qv '^+++ b/tools/testing/selftests/'; then
			ign=$ign,PREFER_KERNEL_TYPES,VOLATILE,STRCPY,PREFER_DEFINED_ATTRIBUTE_MACRO
			ign=$ign,SSCANF_TO_KSTRTO,CAMELCASE,NEW_TYPEDEFS
		fi
		(cd "$tree" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --quiet \
		      --ignore "$ign" "$p") || bad=1
	done
	[ $bad -eq 0 ] || die "checkpatch --strict fails on the series (above)"
	echo "series: git am build/series/*.patch on the pristine base gives the tree make test builds ($(echo "$want" | cut -c1-12)); checkpatch --strict clean on its $(ls "$OUT"/0*.patch | wc -l) patches"
}

case "${1:-}" in
table) check_table && echo "series: patches/own-files maps each of our $(table | wc -l) files to a patch of the series" ;;
build) build ;;
check) check ;;
shipped) shipped ;;
*) die "usage: series.sh table|build|check|shipped" ;;
esac
