/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linux-source-6.12 ships iommufd selftests from a later kernel: they use
 * five names its own uapi and test headers lack. Define only those, with
 * the later kernel's values, so the base tree's tests build unchanged.
 * Their get_hw_info and alloc_hwpt_nested cases then fail on stock 6.12
 * and on ours alike (see tests/iommufd/README).
 */
#ifndef IOMMUFD_SELFTEST_COMPAT_H
#define IOMMUFD_SELFTEST_COMPAT_H

#include <linux/iommufd.h>

#define IOMMU_HW_INFO_TYPE_DEFAULT	0
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE	0x1
#define in_data_type			out_data_type
#define MOCK_FLAGS_DEVICE_PASID		0	/* 6.12 mocks no PASID */
#define MOCK_PASID_WIDTH		20

#endif
