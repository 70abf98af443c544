// SPDX-License-Identifier: GPL-2.0
/* VFIO cdev + /dev/iommu: bind, IOAS, attach, map. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "util.h"
#include "vfio_iommufd.h"

#define IOMMUFD_PATH		"/dev/iommu"
#define VFIO_CDEV_DIR		"/dev/vfio/devices"
#define DEV_NODE_WAIT_MS	2000

int ioas_alloc(int iommufd, uint32_t *id)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		return err_ret(-errno, "IOMMU_IOAS_ALLOC");
	*id = a.out_ioas_id;
	return 0;
}

int iommufd_destroy(int iommufd, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	if (ioctl(iommufd, IOMMU_DESTROY, &d))
		return err_ret(-errno, "IOMMU_DESTROY(%u)", id);
	return 0;
}

/*
 * Attach the device to a page table (an IOAS gets an automatic HWPT).
 * Called again on an attached device it replaces the page table.
 */
int iommufd_attach_pt(struct iommufd_dev *x, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.flags = 0,
		.pt_id = pt_id,
	};

	if (ioctl(x->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return err_ret(-errno, "VFIO_DEVICE_ATTACH_IOMMUFD_PT(%u)",
			       pt_id);
	if (!x->quiet)
		msi_log("%s: attached to page table %u (now %u)", x->bdf,
			pt_id, at.pt_id);
	x->ioas = pt_id;
	return 0;
}

/* Back to blocking DMA; the automatic HWPT of the IOAS goes away. */
int iommufd_detach_pt(struct iommufd_dev *x)
{
	struct vfio_device_detach_iommufd_pt dt = {
		.argsz = sizeof(dt),
		.flags = 0,
	};

	if (ioctl(x->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt))
		return err_ret(-errno, "VFIO_DEVICE_DETACH_IOMMUFD_PT");
	if (!x->quiet)
		msi_log("%s: detached from IOAS %u", x->bdf, x->ioas);
	x->ioas = 0;
	return 0;
}

int ioas_ranges(int iommufd, uint32_t ioas, struct iova_range **r,
		unsigned int *n)
{
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
	};
	struct iommu_iova_range *arr;
	unsigned int i, num;

	*r = NULL;
	*n = 0;
	/* First call sizes the array (EMSGSIZE + num_iovas). */
	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &q) && errno != EMSGSIZE)
		return err_ret(-errno, "IOMMU_IOAS_IOVA_RANGES");
	num = q.num_iovas;
	msi_log("iommufd: IOAS %u has %u usable range(s), alignment 0x%llx",
		ioas, num, (unsigned long long)q.out_iova_alignment);
	if (!num)
		return 0;
	arr = calloc(num, sizeof(*arr));
	*r = calloc(num, sizeof(**r));
	if (!arr || !*r) {
		free(arr);
		free(*r);
		*r = NULL;
		return err_ret(-ENOMEM, "calloc");
	}
	q.num_iovas = num;
	q.allowed_iovas = (uintptr_t)arr;
	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &q)) {
		free(arr);
		free(*r);
		*r = NULL;
		return err_ret(-errno, "IOMMU_IOAS_IOVA_RANGES(%u)", num);
	}
	for (i = 0; i < num && i < q.num_iovas; i++) {
		(*r)[i].start = arr[i].start;
		(*r)[i].last = arr[i].last;
	}
	*n = i;
	free(arr);
	return 0;
}

int ioas_map(void *ctx, void *va, uint64_t iova, uint64_t len)
{
	struct ioas_ctx *ic = ctx;
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ic->ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	/* No logging: the window test expects some maps to fail. */
	return ioctl(ic->iommufd, IOMMU_IOAS_MAP, &m) ? -errno : 0;
}

int ioas_unmap(void *ctx, uint64_t iova, uint64_t len)
{
	struct ioas_ctx *ic = ctx;
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ic->ioas,
		.iova = iova,
		.length = len,
	};

	if (ioctl(ic->iommufd, IOMMU_IOAS_UNMAP, &u))
		return err_ret(-errno, "IOMMU_IOAS_UNMAP 0x%llx",
			       (unsigned long long)iova);
	return 0;
}

int iommufd_bind(struct iommufd_dev *x)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.flags = 0,
		.iommufd = x->iommufd,
	};

	if (ioctl(x->devfd, VFIO_DEVICE_BIND_IOMMUFD, &b))
		return err_ret(-errno, "VFIO_DEVICE_BIND_IOMMUFD");
	x->devid = b.out_devid;
	msi_log("%s: bound to iommufd, devid %u", x->bdf, x->devid);
	return 0;
}

int iommufd_open(struct iommufd_dev *x, const char *bdf)
{
	char path[PATH_LEN], name[64];
	int ret;

	memset(x, 0, sizeof(*x));
	x->iommufd = -1;
	x->devfd = -1;
	snprintf(x->bdf, sizeof(x->bdf), "%s", bdf);
	if (!path_exists(IOMMUFD_PATH))
		return err_ret(-EOPNOTSUPP, "no %s (CONFIG_IOMMUFD)",
			       IOMMUFD_PATH);
	ret = pci_bind(bdf, "vfio-pci");
	if (ret)
		return ret;
	x->bound = true;

	snprintf(path, sizeof(path), "%s/%s/vfio-dev", PCI_SYSFS, bdf);
	if (wait_for_path(path, DEV_NODE_WAIT_MS))
		return err_ret(-EOPNOTSUPP, "%s missing (CONFIG_VFIO_DEVICE_CDEV?)",
			       path);
	ret = single_dir_entry(path, "vfio", name, sizeof(name));
	if (ret)
		return err_ret(ret, "find the vfio cdev in %s", path);
	snprintf(path, sizeof(path), "%s/%s", VFIO_CDEV_DIR, name);
	if (wait_for_path(path, DEV_NODE_WAIT_MS))
		return err_ret(-ENOENT, "%s did not appear", path);

	x->iommufd = open(IOMMUFD_PATH, O_RDWR | O_CLOEXEC);
	if (x->iommufd < 0)
		return err_ret(-errno, "open %s", IOMMUFD_PATH);
	x->devfd = open(path, O_RDWR | O_CLOEXEC);
	if (x->devfd < 0)
		return err_ret(-errno, "open %s", path);
	msi_log("%s: opened %s and %s", bdf, path, IOMMUFD_PATH);

	ret = iommufd_bind(x);
	x->tried = true;
	x->first_err = -ret;
	return ret;
}

void iommufd_close(struct iommufd_dev *x)
{
	/* Closing the cdev detaches and unbinds the device first. */
	if (x->devfd >= 0)
		close(x->devfd);
	if (x->iommufd >= 0) {
		if (x->ioas)
			iommufd_destroy(x->iommufd, x->ioas);
		close(x->iommufd);
	}
	x->devfd = -1;
	x->iommufd = -1;
	x->ioas = 0;
	if (x->bound && !pci_unbind(x->bdf))
		msi_log("%s unbound from vfio-pci", x->bdf);
	x->bound = false;
}

int map_dma_buf(struct ioas_ctx *ic, uint8_t *buf)
{
	int ret;

	ret = ioas_map(ic, buf, DMA_BUF_IOVA, DMA_BUF_SIZE);
	if (ret)
		return err_ret(ret, "IOMMU_IOAS_MAP(IOAS %u) 0x%llx+0x%llx",
			       ic->ioas, (unsigned long long)DMA_BUF_IOVA,
			       (unsigned long long)DMA_BUF_SIZE);
	msi_log("buffer %p mapped at IOVA 0x%llx+0x%llx in IOAS %u", buf,
		(unsigned long long)DMA_BUF_IOVA,
		(unsigned long long)DMA_BUF_SIZE, ic->ioas);
	return 0;
}
