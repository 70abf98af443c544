// SPDX-License-Identifier: GPL-2.0
/* Legacy VFIO: group + type1 container. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "util.h"
#include "vfio_type1.h"

#define VFIO_CONTAINER_PATH	"/dev/vfio/vfio"
#define DEV_NODE_WAIT_MS	2000
#define MAX_CAPS		32	/* bound the capability chain walk */

int type1_open(struct type1 *t, const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_LEN];
	int ret;

	memset(t, 0, sizeof(*t));
	t->container = -1;
	t->group = -1;
	snprintf(t->bdf, sizeof(t->bdf), "%s", bdf);

	ret = pci_bind(bdf, "vfio-pci");
	if (ret)
		return ret;
	t->bound = true;
	ret = pci_iommu_group(bdf, &t->group_id);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/dev/vfio/%d", t->group_id);
	if (wait_for_path(path, DEV_NODE_WAIT_MS))
		return err_ret(-ENOENT, "%s did not appear", path);

	t->container = open(VFIO_CONTAINER_PATH, O_RDWR | O_CLOEXEC);
	if (t->container < 0)
		return err_ret(errno == ENOENT ? -EOPNOTSUPP : -errno, "open %s",
			       VFIO_CONTAINER_PATH);
	ret = ioctl(t->container, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION)
		return err_ret(ret < 0 ? -errno : -EPROTO,
			       "VFIO_GET_API_VERSION returned %d", ret);
	if (ioctl(t->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		return err_ret(-EOPNOTSUPP, "VFIO_TYPE1v2_IOMMU not supported");

	t->group = open(path, O_RDWR | O_CLOEXEC);
	if (t->group < 0)
		return err_ret(-errno, "open %s", path);
	if (ioctl(t->group, VFIO_GROUP_GET_STATUS, &st))
		return err_ret(-errno, "VFIO_GROUP_GET_STATUS");
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return err_ret(-EBUSY, "group %d not viable (other devices not bound to vfio?)",
			       t->group_id);
	if (ioctl(t->group, VFIO_GROUP_SET_CONTAINER, &t->container))
		return err_ret(-errno, "VFIO_GROUP_SET_CONTAINER");

	ret = type1_set_iommu(t);
	t->tried = true;
	t->first_err = -ret;
	if (ret)
		return ret;
	msi_log("%s: group %d in a type1v2 container", bdf, t->group_id);
	return 0;
}

int type1_set_iommu(struct type1 *t)
{
	if (ioctl(t->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return err_ret(-errno, "VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)");
	return 0;
}

static int get_info(struct type1 *t, struct vfio_iommu_type1_info **out)
{
	struct vfio_iommu_type1_info *info, *big;
	uint32_t need;

	info = calloc(1, sizeof(*info));
	if (!info)
		return err_ret(-ENOMEM, "calloc");
	info->argsz = sizeof(*info);
	if (ioctl(t->container, VFIO_IOMMU_GET_INFO, info)) {
		free(info);
		return err_ret(-errno, "VFIO_IOMMU_GET_INFO");
	}
	/* The kernel raises argsz when the capabilities do not fit. */
	need = info->argsz;
	if (need > sizeof(*info)) {
		big = realloc(info, need);
		if (!big) {
			free(info);
			return err_ret(-ENOMEM, "realloc");
		}
		info = big;
		memset(info, 0, need);
		info->argsz = need;
		if (ioctl(t->container, VFIO_IOMMU_GET_INFO, info)) {
			free(info);
			return err_ret(-errno, "VFIO_IOMMU_GET_INFO(%u)", need);
		}
	}
	*out = info;
	return 0;
}

int type1_ranges(struct type1 *t, struct iova_range **r, unsigned int *n)
{
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	struct vfio_iommu_type1_info *info = NULL;
	struct vfio_info_cap_header *hdr;
	uint32_t off, size, i;
	int ret, caps = 0;

	*r = NULL;
	*n = 0;
	ret = get_info(t, &info);
	if (ret)
		return ret;
	size = info->argsz;
	msi_log("type1: flags 0x%x iova_pgsizes 0x%llx argsz %u", info->flags,
		(unsigned long long)info->iova_pgsizes, size);
	if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || !info->cap_offset) {
		ret = err_ret(-ENOENT, "VFIO_IOMMU_GET_INFO has no capabilities");
		goto out;
	}
	ret = -ENOENT;
	for (off = info->cap_offset; off && caps < MAX_CAPS; caps++) {
		if (off + sizeof(*hdr) > size)
			break;
		hdr = (struct vfio_info_cap_header *)((uint8_t *)info + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			cap = (void *)hdr;
			if (off + sizeof(*cap) + (uint64_t)cap->nr_iovas *
			    sizeof(cap->iova_ranges[0]) > size) {
				ret = err_ret(-EOVERFLOW, "IOVA range cap truncated");
				break;
			}
			*r = calloc(cap->nr_iovas ? cap->nr_iovas : 1,
				    sizeof(**r));
			if (!*r) {
				ret = err_ret(-ENOMEM, "calloc");
				break;
			}
			for (i = 0; i < cap->nr_iovas; i++) {
				(*r)[i].start = cap->iova_ranges[i].start;
				(*r)[i].last = cap->iova_ranges[i].end;
			}
			*n = cap->nr_iovas;
			ret = 0;
			break;
		}
		off = hdr->next;
	}
	if (ret == -ENOENT)
		err_ret(ret, "no VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE");
out:
	free(info);
	return ret;
}

int type1_map(void *ctx, void *va, uint64_t iova, uint64_t len)
{
	struct type1 *t = ctx;
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	/* No logging: the window test expects some maps to fail. */
	return ioctl(t->container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

int type1_unmap(void *ctx, uint64_t iova, uint64_t len)
{
	struct type1 *t = ctx;
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = len,
	};

	if (ioctl(t->container, VFIO_IOMMU_UNMAP_DMA, &u))
		return err_ret(-errno, "VFIO_IOMMU_UNMAP_DMA 0x%llx",
			       (unsigned long long)iova);
	return 0;
}

int type1_device_fd(struct type1 *t)
{
	int fd = ioctl(t->group, VFIO_GROUP_GET_DEVICE_FD, t->bdf);

	if (fd < 0)
		return err_ret(-errno, "VFIO_GROUP_GET_DEVICE_FD(%s)", t->bdf);
	return fd;
}

void type1_close(struct type1 *t)
{
	if (t->group >= 0)
		close(t->group);
	if (t->container >= 0)
		close(t->container);
	t->group = -1;
	t->container = -1;
	if (t->bound && !pci_unbind(t->bdf))
		msi_log("%s unbound from vfio-pci", t->bdf);
	t->bound = false;
}
