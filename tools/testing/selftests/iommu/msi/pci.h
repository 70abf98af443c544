/* SPDX-License-Identifier: GPL-2.0 */
/* PCI devices through sysfs: lookup, driver binding, config, MSI address. */
#ifndef MSI_PCI_H
#define MSI_PCI_H

#include <stddef.h>
#include <stdint.h>

#define PCI_SYSFS	"/sys/bus/pci/devices"
#define BDF_LEN		32

#define PCI_VENDOR_QEMU		0x1234
#define PCI_DEVICE_EDU		0x11e8
#define PCI_VENDOR_VIRTIO	0x1af4
#define PCI_DEVICE_VIRTIO_BLK	0x1001	/* transitional */
#define PCI_DEVICE_VIRTIO_BLK1	0x1042	/* modern (virtio 1.0) */
#define PCI_CLASS_NVME		0x010802

int pci_find_id(unsigned int vendor, unsigned int device, char *bdf);
int pci_find_class(unsigned int class, char *bdf);

/* Bind to driver via driver_override + drivers_probe. */
int pci_bind(const char *bdf, const char *driver);
/* Unbind from the current driver and clear driver_override. */
int pci_unbind(const char *bdf);

int pci_iommu_group(const char *bdf, int *group);
/* Name of the IOMMU instance the device sits behind. */
int pci_iommu_name(const char *bdf, char *buf, size_t len);

/*
 * Address programmed into the first enabled MSI-X vector or, failing
 * that, into an enabled MSI capability, read from the real hardware.
 * how (optional) receives "MSI" or "MSI-X".
 */
int pci_msi_address(const char *bdf, uint64_t *addr, const char **how);

#endif
