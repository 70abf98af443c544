/* SPDX-License-Identifier: GPL-2.0 */
/* Legacy VFIO: group + type1 container. */
#ifndef MSI_VFIO_TYPE1_H
#define MSI_VFIO_TYPE1_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "iova.h"

struct type1 {
	char bdf[BDF_LEN];
	int container;
	int group;
	int group_id;
	bool tried;	/* VFIO_SET_IOMMU was attempted */
	int first_err;	/* errno of the first VFIO_SET_IOMMU, 0 = accepted */
	bool bound;	/* we bound the device to vfio-pci */
};

/*
 * Bind bdf to vfio-pci, open its group and a type1v2 container.  tried
 * and first_err tell whether and how VFIO_SET_IOMMU answered; on EPERM
 * (MSIs not isolated) the caller may allow unsafe interrupts and call
 * type1_set_iommu() again.  -EOPNOTSUPP: no type1 container here.
 */
int type1_open(struct type1 *t, const char *bdf);
int type1_set_iommu(struct type1 *t);
int type1_ranges(struct type1 *t, struct iova_range **r, unsigned int *n);
int type1_map(void *ctx, void *va, uint64_t iova, uint64_t len);
int type1_unmap(void *ctx, uint64_t iova, uint64_t len);
int type1_device_fd(struct type1 *t);
/* Close group and container, unbind the device from vfio-pci. */
void type1_close(struct type1 *t);

#endif
