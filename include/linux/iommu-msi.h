/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IOMMU MSI cookies: doorbell mappings for MSIs that go through an IOMMU.
 *
 * A domain owner gives a translating domain a cookie, backed either by an
 * IOVA window it reserved or by the DMA-API IOVA allocator. Irqchip drivers
 * then call iommu_msi_prepare() when an MSI is allocated,
 * iommu_msi_compose() when its message is written and iommu_msi_release()
 * when it is freed. The IOMMU core keeps the doorbells of live MSIs mapped
 * when a device changes domain. See Documentation/iommu/msi-cookie.rst.
 */
#ifndef __LINUX_IOMMU_MSI_H
#define __LINUX_IOMMU_MSI_H

#include <linux/errno.h>
#include <linux/types.h>

struct device;
struct iommu_domain;
struct msi_desc;
struct msi_msg;

/**
 * struct iommu_msi_iova_ops - IOVA source of an allocator-backed MSI cookie
 * @alloc: return @size bytes of IOVA for @dev, ending at or below @limit,
 *         or 0 if there is none. Called in process context, may sleep.
 * @free: give back an IOVA that @alloc returned, with the same @size.
 */
struct iommu_msi_iova_ops {
	dma_addr_t (*alloc)(struct iommu_domain *domain, struct device *dev,
			    size_t size, u64 limit);
	void (*free)(struct iommu_domain *domain, dma_addr_t iova, size_t size);
};

#ifdef CONFIG_IOMMU_MSI_COOKIE

int iommu_msi_cookie_create_window(struct iommu_domain *domain,
				   dma_addr_t base, size_t size);
int iommu_msi_cookie_create_dma(struct iommu_domain *domain,
				const struct iommu_msi_iova_ops *ops);
int iommu_msi_cookie_add_hw_region(struct iommu_domain *domain,
				   phys_addr_t start, size_t size);
void iommu_msi_cookie_destroy(struct iommu_domain *domain);

int iommu_msi_prepare(struct msi_desc *desc, phys_addr_t doorbell);
void iommu_msi_compose(const struct msi_desc *desc, struct msi_msg *msg);
bool iommu_msi_translated(const struct msi_desc *desc);
void iommu_msi_release(struct msi_desc *desc);

#else /* CONFIG_IOMMU_MSI_COOKIE */

static inline int iommu_msi_cookie_create_window(struct iommu_domain *domain,
						 dma_addr_t base, size_t size)
{
	return -ENODEV;
}

static inline int
iommu_msi_cookie_create_dma(struct iommu_domain *domain,
			    const struct iommu_msi_iova_ops *ops)
{
	return -ENODEV;
}

static inline int iommu_msi_cookie_add_hw_region(struct iommu_domain *domain,
						 phys_addr_t start, size_t size)
{
	return 0;
}

static inline void iommu_msi_cookie_destroy(struct iommu_domain *domain)
{
}

static inline int iommu_msi_prepare(struct msi_desc *desc,
				    phys_addr_t doorbell)
{
	return 0;
}

static inline void iommu_msi_compose(const struct msi_desc *desc,
				     struct msi_msg *msg)
{
}

static inline bool iommu_msi_translated(const struct msi_desc *desc)
{
	return false;
}

static inline void iommu_msi_release(struct msi_desc *desc)
{
}

#endif /* CONFIG_IOMMU_MSI_COOKIE */

#endif /* __LINUX_IOMMU_MSI_H */
