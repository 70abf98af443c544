/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The iommufd backend: the VFIO device cdev bound to /dev/iommu, attached
 * to an IOAS through its automatic HWPT.
 */
#ifndef MSI_VFIO_IOMMUFD_H
#define MSI_VFIO_IOMMUFD_H

#include <stdbool.h>
#include <stdint.h>

#include "iova.h"
#include "pci.h"

struct iommufd_dev {
	char bdf[BDF_LEN];
	int iommufd;
	int devfd;
	uint32_t devid;
	uint32_t ioas;		/* IOAS the device is attached to, 0 = none */
	bool bound;		/* we bound the device to vfio-pci */
	bool tried;		/* VFIO_DEVICE_BIND_IOMMUFD was attempted */
	bool quiet;		/* no diagnostic per attach/detach */
	int first_err;		/* its first errno, 0 = accepted */
};

/* Map/unmap in one IOAS; ctx is a struct ioas_ctx. */
struct ioas_ctx {
	int iommufd;
	uint32_t ioas;
};

/*
 * Bind bdf to vfio-pci, open its cdev and /dev/iommu and bind them.  tried
 * and first_err tell whether and how VFIO_DEVICE_BIND_IOMMUFD answered; on
 * EPERM (MSIs not isolated) the caller may allow unsafe interrupts and
 * call iommufd_bind() again.  -EOPNOTSUPP: no iommufd or no VFIO cdev.
 */
int iommufd_open(struct iommufd_dev *x, const char *bdf);
int iommufd_bind(struct iommufd_dev *x);
/* Close the cdev (detaches it) and /dev/iommu, unbind from vfio-pci. */
void iommufd_close(struct iommufd_dev *x);
int ioas_alloc(int iommufd, uint32_t *id);
int iommufd_destroy(int iommufd, uint32_t id);
/* VFIO_DEVICE_ATTACH_IOMMUFD_PT: attach, or replace if attached. */
int iommufd_attach_pt(struct iommufd_dev *x, uint32_t pt_id);
/* VFIO_DEVICE_DETACH_IOMMUFD_PT: back to blocking DMA. */
int iommufd_detach_pt(struct iommufd_dev *x);
/* IOMMU_IOAS_IOVA_RANGES: *r (free it) gets the *n usable ranges. */
int ioas_ranges(int iommufd, uint32_t ioas, struct iova_range **r,
		unsigned int *n);
/* Map/unmap len bytes at iova in the IOAS of ctx (a struct ioas_ctx). */
int ioas_map(void *ctx, void *va, uint64_t iova, uint64_t len);
int ioas_unmap(void *ctx, uint64_t iova, uint64_t len);
/* IOMMU_IOAS_MAP of buf (DMA_BUF_SIZE) at DMA_BUF_IOVA, logged. */
int map_dma_buf(struct ioas_ctx *ic, uint8_t *buf);

#endif
