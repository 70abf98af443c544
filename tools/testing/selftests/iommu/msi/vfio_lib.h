/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The edu device under VFIO, through the type1 container or iommufd, and
 * the checks the MSI selftests share.  A check returns whether it held and
 * describes what it saw in msg (addresses, counts), for the test to assert
 * on and log.
 */
#ifndef MSI_VFIO_LIB_H
#define MSI_VFIO_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iova.h"
#include "platform.h"
#include "vfio_dev.h"
#include "vfio_iommufd.h"
#include "vfio_type1.h"

enum msi_backend {
	MSI_TYPE1,
	MSI_IOMMUFD,
};

#define UNSAFE_PARAMS		2

struct msi_vfio {
	enum msi_backend backend;
	char bdf[BDF_LEN];
	struct type1 t;
	struct iommufd_dev x;
	struct ioas_ctx ic;	/* iommufd: the IOAS of the open */
	struct vfio_dev d;
	struct dma_ops ops;
	uint8_t *buf;		/* DMA_BUF_SIZE at DMA_BUF_IOVA, or NULL */
	bool tried;		/* the backend said whether MSIs are safe */
	int first_err;		/* and how: 0 or an errno (EPERM) */
	/* allow_unsafe_interrupts before msi_vfio_open() wrote them */
	char unsafe_old[UNSAFE_PARAMS][8];
};

/*
 * Open bdf through backend as a VMM does: bind it to vfio-pci, attach it
 * (type1: a type1v2 container; iommufd: a new IOAS), map the DMA buffer,
 * get the device fd with memory decode and bus mastering on, and check
 * that it is an edu.  Where MSIs are not isolated, allow_unsafe_interrupts
 * is set to N first so that the refusal shows in first_err, then to Y;
 * msi_vfio_close() puts back what was there.  Cleans up after itself on
 * failure; -EOPNOTSUPP if this kernel has no such backend.
 */
int msi_vfio_open(struct msi_vfio *v, enum msi_backend backend,
		  const char *bdf, bool isolated);
/*
 * iommufd only, and stop before the attach: the device is bound to
 * /dev/iommu with its fd set up, in no IOAS, no DMA buffer mapped.
 */
int msi_vfio_bind(struct msi_vfio *v, const char *bdf, bool isolated);
/*
 * The fixtures' common start: find the edu device, bind it to vfio-pci
 * and read what the platform expects of its MSIs (logged). Returns 0, 1
 * when the test must be skipped, or a negative errno; last_error() says
 * why in both cases.
 */
int msi_edu_vfio_setup(char *bdf, struct msi_expect *e);
void msi_vfio_close(struct msi_vfio *v);
const char *msi_backend_name(enum msi_backend backend);
/* The ioctl that refuses a device whose MSIs are not isolated. */
const char *msi_vfio_gate(enum msi_backend backend);
/* The usable IOVA ranges of the device's address space; free(*r). */
int msi_vfio_ranges(struct msi_vfio *v, struct iova_range **r,
		    unsigned int *n);

/*
 * The n-th allow_unsafe_interrupts parameter (type1's, iommufd's): its
 * sysfs path, NULL past the last.
 */
const char *unsafe_param(unsigned int n);

/*
 * The usable ranges keep out [start, start + size) and a map of a page
 * at start is refused.
 */
bool vt_window(const struct iova_range *r, unsigned int n, uint64_t start,
	       uint64_t size, const char *what, const struct dma_ops *ops,
	       char *msg, size_t len);

/*
 * With MSI on, maps into the MSI window, over either of its edges and
 * across it are refused, an unmap of it does not take the doorbell away,
 * and MSIs still arrive afterwards.  MSI stays on.
 */
bool vt_badinput(struct vfio_dev *d, const struct dma_ops *ops,
		 uint64_t start, uint64_t size, char *msg, size_t len);

/* MSI on (if off), then n MSIs; 0 or -errno, *got delivered. */
int vt_fire(struct vfio_dev *d, unsigned int n, unsigned int *got);

/*
 * RAM -> edu -> RAM through buf at iova, with the completion MSI (MSI is
 * turned on).
 */
bool vt_dma(struct vfio_dev *d, uint8_t *buf, uint64_t iova, char *msg,
	    size_t len);

/* /sys/kernel/debug/iommu/msi exists. */
bool msi_debugfs_present(void);

/*
 * While MSI is on: translated, an UNMANAGED cookie maps the doorbell page
 * to the device's MSI address page, once, with one user (exactly one such
 * cookie, or at least one with any_cookie); direct, no UNMANAGED cookie
 * lists the doorbell page.
 */
bool vt_debugfs_on(struct vfio_dev *d, const struct msi_expect *e,
		   bool any_cookie, char *msg, size_t len);
/*
 * After MSI is off: no UNMANAGED cookie lists the doorbell page.  Where
 * the kernel keeps an unused doorbell mapped for a while
 * (iommu_msi.idle_ms), within that time and a second.
 */
bool vt_debugfs_off(const struct msi_expect *e, char *msg, size_t len);

#endif
