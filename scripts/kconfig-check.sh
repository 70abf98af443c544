#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kconfig corner cases of the MSI cookie symbols: each fragment below, on
# top of allnoconfig, must configure without an unmet-dependency warning
# and must give IOMMU_MSI_COOKIE the value it names.
#   kconfig-check.sh <kernel tree> <scratch dir>
set -euo pipefail

TREE=$1
OUT=$2
fail=0

# name | ARCH | expected IOMMU_MSI_COOKIE | fragment (\n separated)
cases=(
"vfio-without-iommu-support|arm64|y|CONFIG_PCI=y\nCONFIG_PCI_MSI=y\nCONFIG_VFIO=y\nCONFIG_VFIO_PCI=y\nCONFIG_EVENTFD=y\n# CONFIG_IOMMU_SUPPORT is not set"
"gicv3-without-iommu|arm64|n|CONFIG_PCI=y\nCONFIG_PCI_MSI=y\n# CONFIG_IOMMU_SUPPORT is not set"
"smmuv3-its|arm64|y|CONFIG_PCI=y\nCONFIG_PCI_MSI=y\nCONFIG_IOMMU_SUPPORT=y\nCONFIG_ARM_SMMU_V3=y"
)

for c in "${cases[@]}"; do
	IFS='|' read -r name arch want frag <<< "$c"
	dir=$OUT/$name
	mkdir -p "$dir"
	printf '%b\n' "$frag" > "$dir/fragment"
	log=$(make -s -C "$TREE" ARCH="$arch" O="$dir" \
	      KCONFIG_ALLCONFIG="$dir/fragment" allnoconfig 2>&1 || true)
	got=$(sed -n 's/^CONFIG_IOMMU_MSI_COOKIE=//p' "$dir/.config")
	got=${got:-n}
	if echo "$log" | grep -q "unmet direct dependencies"; then
		echo "kconfig: $name: unmet dependency"
		echo "$log" | grep -A4 "unmet direct dependencies" | head -8
		fail=1
	elif [ "$got" != "$want" ]; then
		echo "kconfig: $name: IOMMU_MSI_COOKIE=$got, expected $want"
		fail=1
	fi
done
exit $fail
