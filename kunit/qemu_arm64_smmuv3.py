# SPDX-License-Identifier: GPL-2.0
# QEMU virt with GICv3 (ITS) and an SMMUv3, the platform our code targets.
from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='arm64',
			   kconfig='''
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
CONFIG_PCI=y
CONFIG_PCI_HOST_GENERIC=y
CONFIG_PCI_MSI=y
CONFIG_ARM_GIC_V3_ITS=y
CONFIG_IOMMU_SUPPORT=y
CONFIG_ARM_SMMU_V3=y''',
			   qemu_arch='aarch64',
			   kernel_path='arch/arm64/boot/Image.gz',
			   kernel_command_line='console=ttyAMA0',
			   extra_qemu_params=['-machine',
					      'virt,gic-version=3,iommu=smmuv3',
					      '-cpu', 'max,pauth-impdef=on',
					      '-smp', '2'])
