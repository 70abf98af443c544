/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO device fd operations shared by the type1 (group) and iommufd (cdev)
 * paths: once a device fd exists, both use the same ioctls.
 */
#ifndef MSI_VFIO_DEV_H
#define MSI_VFIO_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

struct vfio_dev {
	int fd;
	char bdf[BDF_LEN];
	uint64_t bar0_off, bar0_size;	/* BAR0 window in the device fd */
	uint64_t cfg_off;		/* config space window */
	int efd;			/* MSI eventfd, -1 while MSI is off */
	bool quiet;			/* no progress line per MSI on/off */
};

/* Query regions/IRQs and turn on memory decode + bus mastering. */
int vfio_dev_init(struct vfio_dev *d, int fd, const char *bdf);

int vfio_dev_bar0_read32(struct vfio_dev *d, uint64_t off, uint32_t *val);
int vfio_dev_bar0_write32(struct vfio_dev *d, uint64_t off, uint32_t val);

/* Route MSI vector 0 to a fresh eventfd / turn MSI off again. */
int vfio_dev_msi_enable(struct vfio_dev *d);
int vfio_dev_msi_disable(struct vfio_dev *d);

/* Wait for the eventfd; *count gets the number of MSIs it counted. */
int vfio_dev_msi_wait(struct vfio_dev *d, int timeout_ms, uint64_t *count);
/* Throw away events already counted, so a test starts from zero. */
void vfio_dev_msi_drain(struct vfio_dev *d);

/* Disables MSI; the caller owns and closes the fd. */
void vfio_dev_release(struct vfio_dev *d);

#endif
