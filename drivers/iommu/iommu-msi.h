/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals of the MSI cookie core shared with its KUnit suite. */
#ifndef __IOMMU_MSI_INTERNAL_H
#define __IOMMU_MSI_INTERNAL_H

#include <kunit/visibility.h>
#include <linux/iommu-msi.h>

struct iommu_domain;
struct msi_desc;

VISIBLE_IF_KUNIT int iommu_msi_domain_prepare(struct iommu_domain *domain,
					      struct msi_desc *desc,
					      phys_addr_t doorbell, u64 limit);

#endif /* __IOMMU_MSI_INTERNAL_H */
