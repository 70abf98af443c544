/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of the IOMMU MSI cookies: doorbell maps, unmaps and failed
 * prepares, each with the device, the doorbell page, its IOVA and users.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM iommu_msi

#if !defined(_TRACE_IOMMU_MSI_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_IOMMU_MSI_H

#include <linux/device.h>
#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(iommu_msi_doorbell,
	TP_PROTO(struct device *dev, phys_addr_t phys, dma_addr_t iova,
		 unsigned int users),
	TP_ARGS(dev, phys, iova, users),
	TP_STRUCT__entry(
		__string(device, dev ? dev_name(dev) : "-")
		__field(u64, phys)
		__field(u64, iova)
		__field(unsigned int, users)
	),
	TP_fast_assign(
		__assign_str(device);
		__entry->phys = phys;
		__entry->iova = iova;
		__entry->users = users;
	),
	TP_printk("dev=%s phys=0x%llx iova=0x%llx users=%u",
		  __get_str(device), __entry->phys, __entry->iova,
		  __entry->users)
);

DEFINE_EVENT(iommu_msi_doorbell, iommu_msi_map,
	TP_PROTO(struct device *dev, phys_addr_t phys, dma_addr_t iova,
		 unsigned int users),
	TP_ARGS(dev, phys, iova, users)
);

DEFINE_EVENT(iommu_msi_doorbell, iommu_msi_unmap,
	TP_PROTO(struct device *dev, phys_addr_t phys, dma_addr_t iova,
		 unsigned int users),
	TP_ARGS(dev, phys, iova, users)
);

/* The last user went; the doorbell stays mapped until it is reclaimed. */
DEFINE_EVENT(iommu_msi_doorbell, iommu_msi_idle,
	TP_PROTO(struct device *dev, phys_addr_t phys, dma_addr_t iova,
		 unsigned int users),
	TP_ARGS(dev, phys, iova, users)
);

TRACE_EVENT(iommu_msi_prepare_fail,
	TP_PROTO(struct device *dev, phys_addr_t phys, dma_addr_t iova,
		 unsigned int users, int err),
	TP_ARGS(dev, phys, iova, users, err),
	TP_STRUCT__entry(
		__string(device, dev_name(dev))
		__field(u64, phys)
		__field(u64, iova)
		__field(unsigned int, users)
		__field(int, err)
	),
	TP_fast_assign(
		__assign_str(device);
		__entry->phys = phys;
		__entry->iova = iova;
		__entry->users = users;
		__entry->err = err;
	),
	TP_printk("dev=%s phys=0x%llx iova=0x%llx users=%u err=%d",
		  __get_str(device), __entry->phys, __entry->iova,
		  __entry->users, __entry->err)
);

#endif /* _TRACE_IOMMU_MSI_H */

#include <trace/define_trace.h>
