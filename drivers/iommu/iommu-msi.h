/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals of the MSI cookie core shared with its KUnit suite. */
#ifndef __IOMMU_MSI_INTERNAL_H
#define __IOMMU_MSI_INTERNAL_H

#include <kunit/visibility.h>
#include <linux/iommu-msi.h>
#include <linux/list.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

struct iommu_domain;
struct msi_desc;

/* An IOVA range where doorbells are used untranslated (IOMMU_RESV_MSI). */
struct iommu_msi_hw_region {
	struct list_head	node;
	phys_addr_t		start;
	phys_addr_t		last;
};

struct iommu_msi_doorbell {
	struct iommu_msi_cookie	*cookie;
	phys_addr_t		phys;		/* granule aligned */
	dma_addr_t		iova;
	unsigned int		users;
	bool			mapped;		/* false once the domain died */
};

struct iommu_msi_cookie {
	struct list_head	node;		/* in the debugfs listing */
	const void		*owner;		/* who created it */
	/* One for the domain, one per doorbell still held by an msi_desc. */
	struct kref		ref;
	/* Serialises prepare, release and destroy; never taken by compose. */
	struct mutex		lock;
	struct iommu_domain	*domain;	/* NULL after destroy */
	unsigned int		shift;		/* log2 of the granule */
	struct xarray		doorbells;	/* phys >> shift -> doorbell */
	struct list_head	hw_regions;
	struct list_head	pins;		/* held by domain install */
	/* IOVA source: the DMA allocator if set, else the window below. */
	const struct iommu_msi_iova_ops *dma_ops;
	dma_addr_t		base;
	unsigned long		nr_slots;
	unsigned long		*slots;
};

/* Every live cookie, for debugfs; never taken on the prepare path. */
extern struct list_head iommu_msi_cookies;
extern struct mutex iommu_msi_cookies_lock;

#if IS_ENABLED(CONFIG_KUNIT)
int iommu_msi_domain_prepare(struct iommu_domain *domain,
			     struct msi_desc *desc, phys_addr_t doorbell,
			     u64 limit);
#endif

#endif /* __IOMMU_MSI_INTERNAL_H */
