#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the kernel work tree: Debian's linux-source-6.12 as a git repo
# (tag "base"), patches/series applied on top as commits, and the files we
# own linked in, so edits made in the tree land in this repo.
#
# Usage: tree.sh [prepare|export|export-check|stock <dir> [patch]|negative <dir> <patch>]
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TREE=${TREE:-$REPO/build/linux}
TARBALL=${TARBALL:-/usr/src/linux-source-6.12.tar.xz}
GITDIR=$TREE/.git
# Repo paths that mirror the kernel tree; Kconfig is our fragment.
OWN_ROOTS="arch drivers include Documentation kernel lib scripts/coccinelle tools/testing/selftests/iommu/msi"
KCONFIG_LINK=drivers/iommu/msi/Kconfig

die() { echo "tree: $*" >&2; exit 1; }

tgit() { git -C "$TREE" "$@"; }

series_files() {
	[ -f "$REPO/patches/series" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REPO/patches/series"
}

series_hash() {
	{
		series_files
		series_files | while read -r p; do cat "$REPO/patches/$p"; done
	} | sha256sum | cut -d' ' -f1
}

# Our own files: "repo-path tree-path" pairs.
own_files() {
	local f
	(cd "$REPO" && git ls-files --cached --others --exclude-standard -- $OWN_ROOTS Kconfig) |
	sort -u | while read -r f; do
		[ -e "$REPO/$f" ] || continue
		if [ "$f" = Kconfig ]; then
			echo "$f $KCONFIG_LINK"
		else
			echo "$f $f"
		fi
	done
}

link_own_files() {
	local old=$GITDIR/msi-own-links new src dst
	new=$(mktemp)
	own_files > "$new"
	# Drop links to files that left the repo.
	if [ -f "$old" ]; then
		cut -d' ' -f2 "$old" | while read -r dst; do
			grep -q " $dst\$" "$new" || rm -f "$TREE/$dst"
		done
	fi
	while read -r src dst; do
		if [ -e "$TREE/$dst" ] && [ ! -L "$TREE/$dst" ]; then
			die "$dst exists upstream; our files must be new files"
		fi
		mkdir -p "$(dirname "$TREE/$dst")"
		ln -sfn "$REPO/$src" "$TREE/$dst"
	done < "$new"
	mv "$new" "$old"
	{
		echo "# files linked from $REPO"
		cut -d' ' -f2 "$old" | sed 's|^|/|'
	} > "$GITDIR/info/exclude"
}

# Anything in the tree that is not committed (our links are excluded).
dirty_files() {
	# Debian's top-level .gitignore hides everything, so list by hand.
	tgit diff --name-only HEAD
	tgit ls-files --others --exclude-from="$GITDIR/info/exclude"
}

unpack_base() {
	local tmp
	tmp=$(mktemp -d "$REPO/build/unpack.XXXXXX")
	echo "tree: unpacking $TARBALL"
	tar -C "$tmp" -xf "$TARBALL"
	mv "$tmp"/linux-source-* "$TREE"
	rmdir "$tmp"
	tgit init -q
	tgit config user.name "$(git -C "$REPO" config user.name || echo msi-cookie)"
	tgit config user.email "$(git -C "$REPO" config user.email || echo tree@localhost)"
	tgit config gc.auto 0
	tgit add -f -A
	tgit commit -q -m "base: $(basename "$TARBALL") $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)"
	tgit tag base
}

apply_series() {
	local p
	tgit reset -q --hard base
	for p in $(series_files); do
		# --empty=keep: see format_series.
		tgit am -q --empty=keep --keep-cr "$REPO/patches/$p" ||
			die "patch $p does not apply; fix it, then 'git -C $TREE am --continue' and 'make export'"
	done
	record_applied
}

record_applied() {
	series_hash > "$GITDIR/msi-series-stamp"
	tgit rev-parse HEAD > "$GITDIR/msi-applied-head"
}

# Patches the tree's commits would export to, in a fresh directory.
format_series() {
	local out=$1
	mkdir -p "$out"
	# --always: a patch made only of our files (patches/own-files) is empty here.
	tgit format-patch -q --always --zero-commit --no-signature -o "$out" base..HEAD
	(cd "$out" && ls -1 *.patch 2>/dev/null) > "$out/series" || true
}

prepare() {
	mkdir -p "$REPO/build"
	if [ ! -d "$GITDIR" ]; then
		[ -f "$TARBALL" ] || die "$TARBALL is missing: run 'make deps'"
		unpack_base
		apply_series
	else
		local dirty
		dirty=$(dirty_files)
		if [ -n "$dirty" ]; then
			echo "$dirty" | sed 's/^/  /' >&2
			die "the tree has uncommitted edits (above); commit them in $TREE and run 'make export', or discard them with 'git -C $TREE checkout -- . && git -C $TREE clean -fd'"
		fi
		if [ "$(series_hash)" != "$(cat "$GITDIR/msi-series-stamp" 2>/dev/null)" ]; then
			if [ "$(tgit rev-parse HEAD)" != "$(cat "$GITDIR/msi-applied-head" 2>/dev/null)" ]; then
				die "the tree has commits that are not in patches/ and patches/ changed too; run 'make export' to keep the tree's commits, or 'git -C $TREE reset --hard base' to drop them"
			fi
			echo "tree: patches/ changed, re-applying the series"
			apply_series
		fi
	fi
	link_own_files
	echo "tree: $TREE at $(tgit describe --tags --always) + $(series_files | wc -l) patches + $(wc -l < "$GITDIR/msi-own-links") own files"
}

export_series() {
	[ -d "$GITDIR" ] || die "no tree: run 'make tree'"
	local dirty tmp
	dirty=$(dirty_files)
	[ -z "$dirty" ] || die "commit these in $TREE first: $(echo $dirty)"
	tmp=$(mktemp -d)
	format_series "$tmp"
	mkdir -p "$REPO/patches"
	rm -f "$REPO/patches/"*.patch
	cp "$tmp"/*.patch "$REPO/patches/" 2>/dev/null || true
	cp "$tmp/series" "$REPO/patches/series"
	rm -rf "$tmp"
	record_applied
	echo "export: $(series_files | wc -l) patches in patches/"
}

export_check() {
	[ -d "$GITDIR" ] || { echo "export-check: no tree yet, nothing to lose"; return 0; }
	local dirty tmp rc=0
	dirty=$(dirty_files)
	if [ -n "$dirty" ]; then
		echo "export-check: uncommitted edits to upstream files in $TREE:"
		echo "$dirty" | sed 's/^/  /'
		rc=1
	fi
	tmp=$(mktemp -d)
	format_series "$tmp"
	# patches/ also holds own-files and cover-letter, which are ours.
	local skip=(-x series -x own-files -x cover-letter)
	if ! diff -r -q "${skip[@]}" "$tmp" "$REPO/patches" >/dev/null 2>&1 ||
	   ! diff -q <(series_files) "$tmp/series" >/dev/null; then
		echo "export-check: commits in $TREE differ from patches/ ('make export' regenerates it):"
		diff -r -q "${skip[@]}" "$tmp" "$REPO/patches" 2>&1 | sed 's/^/  /' || true
		rc=1
	fi
	rm -rf "$tmp"
	[ $rc -ne 0 ] || echo "export-check: tree and patches/ agree"
	return $rc
}

# A detached worktree at "base" (stock) or at HEAD plus one patch.
worktree_at() {
	local dir=$1 rev=$2
	if [ ! -d "$dir" ]; then
		tgit worktree prune
		tgit worktree add -q --detach "$dir" "$rev"
	fi
}

case "${1:-prepare}" in
prepare) prepare ;;
export) export_series ;;
export-check) export_check ;;
stock)
	# The base, with one patch on it if given (make bench-floor).
	worktree_at "$2" base
	# Redone only if the tree is not exactly base + patch: files left
	# alone keep their times, and their objects.
	want=$([ -z "${3:-}" ] || git patch-id --stable < "$3")
	have=$(git -C "$2" diff base | git patch-id --stable)
	if [ "$(git -C "$2" rev-parse HEAD)" != "$(tgit rev-parse "base^{commit}")" ] ||
	   [ "${have%% *}" != "${want%% *}" ]; then
		git -C "$2" checkout -q -f --detach base
		git -C "$2" reset -q --hard
		if [ -n "${3:-}" ]; then
			git -C "$2" apply "$3" || die "patch $3 does not apply to the base"
		fi
	fi
	;;
negative)
	# The tree's HEAD, copies of our files, and one patch that breaks it.
	worktree_at "$2" HEAD
	git -C "$2" checkout -q -f --detach "$(tgit rev-parse HEAD)"
	git -C "$2" reset -q --hard
	own_files | while read -r src dst; do
		mkdir -p "$(dirname "$2/$dst")"
		cmp -s "$REPO/$src" "$2/$dst" || cp "$REPO/$src" "$2/$dst"
	done
	git -C "$2" apply "$3" || die "negative patch $3 does not apply to this tree"
	;;
*) die "unknown command $1" ;;
esac
