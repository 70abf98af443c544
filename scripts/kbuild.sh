#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build one kernel: kbuild.sh <srctree> <objdir> <fragment>
# [make targets...]. The .config is allnoconfig plus the fragment; every
# option the fragment sets must survive, so a missing dependency fails loudly
# (unless KBUILD_LAX_CONFIG is set: series steps before the option exists).
# Any warning in the build output fails the build.
set -euo pipefail

SRC=$1 OBJ=$2 FRAG=$3
shift 3
ARCH=${ARCH:-arm64}
CROSS=${CROSS_COMPILE:-aarch64-linux-gnu-}
KMAKE=(make -s -C "$SRC" O="$OBJ" ARCH="$ARCH" CROSS_COMPILE="$CROSS"
       CC="ccache ${CROSS}gcc" -j"$(nproc)")
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$SRC

mkdir -p "$OBJ"
stamp=$OBJ/.fragment.sha
want=$(cat "$FRAG" | sha256sum | cut -d' ' -f1)
if [ ! -f "$OBJ/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	"${KMAKE[@]}" KCONFIG_ALLCONFIG="$FRAG" ${BASECONFIG:-allnoconfig}
	missing=0
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$OBJ/.config" || { echo "kbuild: $line did not stick" >&2; missing=1; } ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			if grep -q "^$sym=" "$OBJ/.config"; then
				echo "kbuild: $sym is set" >&2
				missing=1
			fi ;;
		esac
	done < "$FRAG"
	if [ $missing -ne 0 ] && [ -n "${KBUILD_LAX_CONFIG:-}" ]; then
		# A series step before the patch that adds the option: build
		# what there is, and configure again next time.
		echo "kbuild: going on without those options (KBUILD_LAX_CONFIG)" >&2
	else
		[ $missing -eq 0 ] || exit 1
		echo "$want" > "$stamp"
	fi
fi
# No warning is acceptable: the compiler's, modpost's or the linker's.
log=$OBJ/.build.log
set +e
"${KMAKE[@]}" "${@:-Image}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || exit "$rc"
if grep -qi "warning" "$log"; then
	echo "kbuild: $OBJ built with warnings (see $log)" >&2
	exit 1
fi
