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

void *anon_alloc(size_t len);
void anon_free(void *p, size_t len);

/*
 * "window": the usable IOVA ranges must keep out the MSI window
 * (translated) or the doorbell page (direct), and mapping a page there
 * must be refused.
 */
void vt_window(struct check *c, const struct iova_range *r, unsigned int n,
	       const struct e2e_opts *o, const struct dma_ops *ops);

void vt_msi(struct check *c, struct vfio_dev *d, unsigned int n);
void vt_doorbell(struct check *c, struct vfio_dev *d,
		 const struct e2e_opts *o);
void vt_dma(struct check *c, struct vfio_dev *d, uint8_t *buf,
	    uint64_t iova);
void vt_reenable(struct check *c, struct vfio_dev *d, unsigned int n);

/* msi, doorbell, dma, reenable in that order (MSI stays on at the end). */
void vt_run_all(struct check *c, struct vfio_dev *d, uint8_t *buf,
		uint64_t iova, const struct e2e_opts *o);

#endif
