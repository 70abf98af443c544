/* SPDX-License-Identifier: GPL-2.0 */
/* IOVA ranges and user mappings, the same for VFIO type1 and iommufd. */
#ifndef MSI_IOVA_H
#define MSI_IOVA_H

#include <stddef.h>
#include <stdint.h>

/* User DMA buffer mapped for the edu DMA tests. */
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

/* Anonymous memory, faulted in (the IOMMU mapping pins it); NULL + log. */
void *anon_alloc(size_t len);
void anon_free(void *p, size_t len);

#endif
