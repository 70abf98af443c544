/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu subtests shared by the type1 and iommufd checks.  They take a
 * struct vfio_dev (a device fd) and report their own subchecks, so new
 * tests (e.g. switching the IOAS while MSI is live) can call them again.
 */
#ifndef E2E_VFIO_TESTS_H
#define E2E_VFIO_TESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opts.h"
#include "util.h"
#include "vfio_dev.h"

/* Software MSI window the SMMU drivers reserve (MSI_IOVA_BASE/LENGTH). */
#define MSI_WINDOW_BASE		0x8000000ULL
#define MSI_WINDOW_SIZE		0x100000ULL

/* User DMA buffer mapped for the edu DMA test. */
#define DMA_BUF_IOVA		0x100000ULL
#define DMA_BUF_SIZE		0x10000ULL
#define PROBE_MAP_SIZE		0x1000ULL

struct iova_range {
	uint64_t start;
	uint64_t last;		/* inclusive */
};

/* How a backend maps user memory; ctx is the backend's state. */
struct dma_ops {
	int (*map)(void *ctx, void *va, uint64_t iova, uint64_t len);
	int (*unmap)(void *ctx, uint64_t iova, uint64_t len);
	void *ctx;
};

/*
 * The iommufd backend (vfio_iommufd.c): the VFIO device cdev bound to
 * /dev/iommu, attached to an IOAS through its automatic HWPT.
 */
struct iommufd_dev {
	char bdf[BDF_LEN];
	int iommufd;
	int devfd;
	uint32_t devid;
	uint32_t ioas;		/* IOAS the device is attached to, 0 = none */
	bool bound;		/* we bound the device to vfio-pci */
	bool tried;		/* VFIO_DEVICE_BIND_IOMMUFD was attempted */
	bool quiet;		/* no progress line per attach/detach */
	int first_err;		/* its first errno, 0 = accepted */
};

/* Map/unmap in one IOAS; ctx is a struct ioas_ctx. */
struct ioas_ctx {
	int iommufd;
	uint32_t ioas;
};

/*
 * Bind bdf to vfio-pci, open its cdev and /dev/iommu and bind them.  With
 * allow_unsafe, an EPERM refusal (MSI not isolated) is overridden through
 * the module parameter and retried once.
 */
int iommufd_open(struct iommufd_dev *x, const char *bdf, bool allow_unsafe);
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

void *anon_alloc(size_t len);
void anon_free(void *p, size_t len);

/*
 * "window": the usable IOVA ranges must keep out the MSI window
 * (translated) or the doorbell page (direct), and mapping a page there
 * must be refused.
 */
void vt_window(struct check *c, const struct iova_range *r, unsigned int n,
	       const struct e2e_opts *o, const struct dma_ops *ops);

/*
 * "badinput": with MSI on, maps into the MSI window, over either of its
 * edges and across it must be refused, an unmap of it must not take the
 * doorbell away, and MSIs must still arrive afterwards. MSI stays on.
 */
void vt_badinput(struct check *c, struct vfio_dev *d,
		 const struct dma_ops *ops);

/* Enable MSI, fire n and report sub PASS if all n arrived. */
void vt_fire(struct check *c, const char *sub, struct vfio_dev *d,
	     unsigned int n);
/* vt_fire() as the "msi" subcheck. */
void vt_msi(struct check *c, struct vfio_dev *d, unsigned int n);
void vt_doorbell(struct check *c, struct vfio_dev *d,
		 const struct e2e_opts *o);
void vt_dma(struct check *c, struct vfio_dev *d, uint8_t *buf,
	    uint64_t iova);
void vt_reenable(struct check *c, struct vfio_dev *d, unsigned int n);

/*
 * The "debugfs" subcheck against /sys/kernel/debug/iommu/msi, in two
 * halves.  vt_debugfs_on(), while MSI is enabled: translated, an
 * UNMANAGED cookie maps the doorbell page to the device's MSI address
 * page, once, with one user (exactly one such cookie, or at least one
 * with any_cookie); direct, no UNMANAGED cookie lists the doorbell page.
 * vt_debugfs_off(), after MSI is disabled for good but before the device
 * leaves its domain: no UNMANAGED cookie lists the doorbell page any
 * more.  It reports both halves in one line, if the first one ran.
 */
struct vt_debugfs {
	bool any_cookie;
	bool on_done;
	bool on_ok;
	uint64_t pa;		/* physical doorbell */
	char on_msg[MSG_LEN];
};

void vt_debugfs_on(struct check *c, struct vt_debugfs *v,
		   struct vfio_dev *d, const struct e2e_opts *o);
void vt_debugfs_off(struct check *c, struct vt_debugfs *v);

/*
 * End of a VFIO check: MSI off, then vt_debugfs_off() while the device is
 * still in its domain (before any unbind). Nothing if d has no fd; the
 * caller owns and closes the fd.
 */
void vt_release(struct check *c, struct vt_debugfs *v, struct vfio_dev *d);

/*
 * msi, doorbell, the first half of debugfs, dma, reenable in that order
 * (MSI stays on at the end; the caller runs vt_debugfs_off() after it
 * disabled MSI).
 */
void vt_run_all(struct check *c, struct vfio_dev *d, uint8_t *buf,
		uint64_t iova, const struct e2e_opts *o, struct vt_debugfs *v);

#endif
