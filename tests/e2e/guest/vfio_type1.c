// SPDX-License-Identifier: GPL-2.0
/* Legacy VFIO: group + type1 container, and the "type1" check. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "checks.h"
#include "edu.h"
#include "vfio_type1.h"

#define VFIO_CONTAINER_PATH	"/dev/vfio/vfio"
#define DEV_NODE_WAIT_MS	2000
#define MAX_CAPS		32	/* bound the capability chain walk */

static const char *const unsafe_params[] = {
	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
	/* /dev/vfio/vfio may be iommufd's compat container instead */
	"/sys/module/iommufd/parameters/allow_unsafe_interrupts",
	NULL,
};

static int set_iommu(struct type1 *t)
{
	return ioctl(t->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ?
	       -errno : 0;
}

int type1_open(struct type1 *t, const char *bdf, bool allow_unsafe)
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
		return err_ret(-errno, "open %s", VFIO_CONTAINER_PATH);
	ret = ioctl(t->container, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION)
		return err_ret(ret < 0 ? -errno : -EPROTO,
			       "VFIO_GET_API_VERSION returned %d", ret);
	if (ioctl(t->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		return err_ret(-ENOTSUP, "VFIO_TYPE1v2_IOMMU not supported");

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

	ret = set_iommu(t);
	t->tried = true;
	t->first_err = -ret;
	if (ret == -EPERM && allow_unsafe) {
		e2e_log("VFIO refused the assignment: VFIO_SET_IOMMU: %s (MSIs not isolated)",
			strerror(EPERM));
		ret = vfio_allow_unsafe_interrupts(unsafe_params);
		if (ret)
			return ret;
		ret = set_iommu(t);
		if (!ret)
			e2e_log("VFIO_SET_IOMMU accepted after allow_unsafe_interrupts=Y");
	}
	if (ret)
		return err_ret(ret, "VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)");
	e2e_log("%s: group %d in a type1v2 container", bdf, t->group_id);
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
	e2e_log("type1: flags 0x%x iova_pgsizes 0x%llx argsz %u", info->flags,
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
		e2e_log("%s unbound from vfio-pci", t->bdf);
	t->bound = false;
}

static void report_isolation(struct check *c, const struct e2e_opts *o,
			     const struct type1 *t, int open_ret)
{
	char line[MSG_LEN];

	if (o->isolated) {
		check_report(c, "isolation", t->first_err == 0,
			     t->first_err ? "VFIO_SET_IOMMU refused: %s"
					  : "VFIO_SET_IOMMU accepted at once (MSI isolated)%s",
			     t->first_err ? strerror(t->first_err) : "");
		return;
	}
	if (t->first_err != EPERM) {
		check_report(c, "isolation", false,
			     "expected VFIO_SET_IOMMU to fail with EPERM (MSI not isolated), got %s",
			     t->first_err ? strerror(t->first_err) : "success");
		return;
	}
	/* The refusal must tell the administrator what to do. */
	if (kmsg_find("allow_unsafe_interrupts", line, sizeof(line))) {
		check_report(c, "isolation", false,
			     "refused with %s, but %s", strerror(EPERM),
			     last_error());
		return;
	}
	check_report(c, "isolation", open_ret == 0,
		     "refused with %s as expected, kernel says \"%s\"; %s after allow_unsafe_interrupts=Y",
		     strerror(EPERM), line,
		     open_ret ? "still failing" : "accepted");
}

static const char *const type1_subs[] = {
	"isolation", "window", "msi", "doorbell", "dma", "reenable",
	"debugfs", NULL
};

void check_type1(const struct e2e_opts *o)
{
	struct dma_ops ops = { type1_map, type1_unmap, NULL };
	struct iova_range *ranges = NULL;
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = false };
	struct type1 t = { .container = -1, .group = -1 };
	uint8_t *buf = NULL;
	bool mapped = false;
	char bdf[BDF_LEN];
	unsigned int nr = 0;
	struct check c;
	int ret, fd;

	check_begin(&c, "type1", type1_subs);
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device (%04x:%04x)",
				 PCI_VENDOR_QEMU, PCI_DEVICE_EDU);
		goto out;
	}
	e2e_log("edu device at %s", bdf);

	ret = type1_open(&t, bdf, !o->isolated);
	if (ret && !t.tried) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	report_isolation(&c, o, &t, ret);
	if (ret) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	ops.ctx = &t;

	if (type1_ranges(&t, &ranges, &nr))
		check_report(&c, "window", false, "%s", last_error());
	else
		vt_window(&c, ranges, nr, o, &ops);

	buf = anon_alloc(DMA_BUF_SIZE);
	if (buf) {
		ret = type1_map(&t, buf, DMA_BUF_IOVA, DMA_BUF_SIZE);
		if (ret)
			err_ret(ret, "VFIO_IOMMU_MAP_DMA 0x%llx+0x%llx",
				(unsigned long long)DMA_BUF_IOVA,
				(unsigned long long)DMA_BUF_SIZE);
		else
			mapped = true;
	}

	fd = type1_device_fd(&t);
	if (fd < 0) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	if (vfio_dev_init(&d, fd, bdf) || edu_check_id(&d)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	vt_run_all(&c, &d, mapped ? buf : NULL, DMA_BUF_IOVA, o, &v);
out:
	vt_release(&c, &v, &d);
	if (d.fd >= 0)
		close(d.fd);
	if (mapped)
		type1_unmap(&t, DMA_BUF_IOVA, DMA_BUF_SIZE);
	anon_free(buf, DMA_BUF_SIZE);
	free(ranges);
	type1_close(&t);
	check_end(&c);
}
