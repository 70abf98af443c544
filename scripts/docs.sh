#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build only our documentation (Documentation/iommu/) with Sphinx, using
# the kernel tree's kernel-doc extension, into build/docs/html. Fails if
# Sphinx fails or if any warning concerns our files.
#
# Usage: docs.sh [source-dir]
#   source-dir  defaults to $KSRC/Documentation/iommu, where "make tree"
#               links the repo's Documentation/iommu/*
# Environment:
#   KSRC         kernel tree (default <repo>/build/linux); kernel-doc
#                directives are resolved against it
#   DOCS_OUT     output directory (default <repo>/build/docs)
#   SPHINXBUILD  sphinx-build to run (default sphinx-build)
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "docs: $*" >&2; exit 1; }

ksrc=${KSRC:-$REPO/build/linux}
KSRC=$(cd "$ksrc" 2>/dev/null && pwd) ||
	die "kernel tree $ksrc is missing: run 'make tree'"
SRC=${1:-$KSRC/Documentation/iommu}
OUT=${DOCS_OUT:-$REPO/build/docs}
SPHINXBUILD=${SPHINXBUILD:-sphinx-build}
export KSRC

command -v "$SPHINXBUILD" >/dev/null ||
	die "$SPHINXBUILD not found: apt-get install python3-sphinx"
[ -x "$KSRC/scripts/kernel-doc" ] || die "$KSRC/scripts/kernel-doc is missing: run 'make tree'"
[ -d "$KSRC/Documentation/sphinx" ] || die "$KSRC/Documentation/sphinx is missing"
[ -f "$SRC/index.rst" ] || die "$SRC/index.rst is missing: run 'make tree'"
SRC=$(cd "$SRC" && pwd)

log=$(mktemp)
uapi=$(mktemp -d)
trap 'rm -rf "$log" "$uapi"' EXIT

# -E: read every file again, so that warnings are reported on each run.
"$SPHINXBUILD" -q -E -b html -c "$REPO/scripts/docs" \
	-d "$OUT/doctrees" "$SRC" "$OUT/html" 2> "$log"
rc=$?

# The iommufd userspace API page, which documents the MSI window options
# with the uAPI header's kernel-doc, built on its own.
if [ $rc -eq 0 ] && [ -z "${1:-}" ]; then
	cp "$KSRC/Documentation/userspace-api/iommufd.rst" "$uapi/"
	printf 'iommufd\n=======\n\n.. toctree::\n\n   iommufd\n' > "$uapi/index.rst"
	"$SPHINXBUILD" -q -E -b html -c "$REPO/scripts/docs" \
		-d "$OUT/uapi-doctrees" "$uapi" "$OUT/uapi" 2>> "$log"
	rc=$?
fi

# Sphinx says WARNING/ERROR/SEVERE, kernel-doc says warning:/error:.
warnings=$(grep -Ei 'warning|error|severe|critical' "$log" || true)
ours=$( { echo "$warnings" | grep -E 'msi-cookie|iommu-msi|iommu_msi|iommu/index|SW_MSI|sw_msi|iommufd'
	  echo "$warnings" | grep -F "$SRC/"; } | sort -u)

cat "$log" >&2
if [ $rc -ne 0 ]; then
	die "sphinx-build failed (exit $rc)"
fi
if [ -n "$ours" ]; then
	die "$(echo "$ours" | wc -l) warning(s) about our documentation (above)"
fi
if [ -n "$warnings" ]; then
	echo "docs: $(echo "$warnings" | wc -l) warning(s) not about our files, ignored"
fi
echo "docs: $OUT/html/index.html, $OUT/uapi/iommufd.html"
