#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the project needs; quiet when all are there.
# Arguments name more, for the targets that alone need them.
set -euo pipefail

PKGS="linux-source-6.12 gcc-aarch64-linux-gnu gcc-powerpc-linux-gnu
qemu-system-arm qemu-system-ppc coccinelle sparse ccache flex bison bc
libelf-dev libssl-dev cpio python3 python3-sphinx python3-ply python3-git git make xz-utils
$*"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -n "$missing" ] || exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing >/dev/null
