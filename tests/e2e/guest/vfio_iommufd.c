// SPDX-License-Identifier: GPL-2.0
/* VFIO cdev + /dev/iommu: the "iommufd" and "iommufd-replace" checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "checks.h"
#include "debugfs_msi.h"
#include "doorbell.h"
#include "edu.h"
#include "vfio_tests.h"

#define IOMMUFD_PATH		"/dev/iommu"
#define VFIO_CDEV_DIR		"/dev/vfio/devices"
#define DEV_NODE_WAIT_MS	2000
#define REPLACE_MIN_MSIS	50	/* enough to notice MSIs stopping */

static const char *const unsafe_params[] = {
	"/sys/module/iommufd/parameters/allow_unsafe_interrupts",
	NULL,
};

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
 * Called again on an attached device it replaces the page table, which
 * is what a test moving a live-MSI device to a second IOAS would use.
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
		e2e_log("%s: attached to page table %u (now %u)", x->bdf,
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
		e2e_log("%s: detached from IOAS %u", x->bdf, x->ioas);
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
	e2e_log("iommufd: IOAS %u has %u usable range(s), alignment 0x%llx",
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

static int bind_iommufd(struct iommufd_dev *x)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.flags = 0,
		.iommufd = x->iommufd,
	};

	if (ioctl(x->devfd, VFIO_DEVICE_BIND_IOMMUFD, &b))
		return -errno;
	x->devid = b.out_devid;
	return 0;
}

/* Bind edu to vfio-pci, open its cdev and /dev/iommu, bind them. */
int iommufd_open(struct iommufd_dev *x, const char *bdf, bool allow_unsafe)
{
	char path[PATH_LEN], name[64];
	int ret;

	snprintf(x->bdf, sizeof(x->bdf), "%s", bdf);
	ret = pci_bind(bdf, "vfio-pci");
	if (ret)
		return ret;
	x->bound = true;

	snprintf(path, sizeof(path), "%s/%s/vfio-dev", PCI_SYSFS, bdf);
	if (wait_for_path(path, DEV_NODE_WAIT_MS))
		return err_ret(-ENOENT, "%s missing (CONFIG_VFIO_DEVICE_CDEV?)",
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
	e2e_log("%s: opened %s and %s", bdf, path, IOMMUFD_PATH);

	ret = bind_iommufd(x);
	x->tried = true;
	x->first_err = -ret;
	if (ret == -EPERM && allow_unsafe) {
		e2e_log("iommufd refused VFIO_DEVICE_BIND_IOMMUFD: %s (MSIs not isolated)",
			strerror(EPERM));
		ret = vfio_allow_unsafe_interrupts(unsafe_params);
		if (ret)
			return ret;
		ret = bind_iommufd(x);
	}
	if (ret)
		return err_ret(ret, "VFIO_DEVICE_BIND_IOMMUFD");
	e2e_log("%s: bound to iommufd, devid %u", bdf, x->devid);
	return 0;
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
		e2e_log("%s unbound from vfio-pci", x->bdf);
	x->bound = false;
}

static void report_isolation(struct check *c, const struct e2e_opts *o,
			     const struct iommufd_dev *x, int open_ret)
{
	if (o->isolated) {
		check_report(c, "isolation", x->first_err == 0,
			     x->first_err ? "VFIO_DEVICE_BIND_IOMMUFD refused: %s" :
			     "VFIO_DEVICE_BIND_IOMMUFD accepted at once (MSI isolated)%s",
			     x->first_err ? strerror(x->first_err) : "");
		return;
	}
	if (x->first_err != EPERM) {
		check_report(c, "isolation", false,
			     "expected VFIO_DEVICE_BIND_IOMMUFD to fail with EPERM (MSI not isolated), got %s",
			     x->first_err ? strerror(x->first_err) : "success");
		return;
	}
	check_report(c, "isolation", open_ret == 0,
		     "refused with %s as expected; %s after allow_unsafe_interrupts=Y",
		     strerror(EPERM), open_ret ? "still failing" : "accepted");
}

static const char *const iommufd_subs[] = {
	"isolation", "window", "msi", "doorbell", "dma", "reenable",
	"badinput", "debugfs", NULL
};

void check_iommufd(const struct e2e_opts *o)
{
	struct iommufd_dev x = { .iommufd = -1, .devfd = -1 };
	struct ioas_ctx ic = { .iommufd = -1 };
	struct dma_ops ops = { ioas_map, ioas_unmap, &ic };
	struct iova_range *ranges = NULL;
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = false };
	uint8_t *buf = NULL;
	bool mapped = false;
	char bdf[BDF_LEN];
	unsigned int nr = 0;
	struct check c;
	uint32_t ioas = 0;
	int ret;

	check_begin(&c, "iommufd", iommufd_subs);
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device (%04x:%04x)",
				 PCI_VENDOR_QEMU, PCI_DEVICE_EDU);
		goto out;
	}
	e2e_log("edu device at %s", bdf);

	ret = iommufd_open(&x, bdf, !o->isolated);
	if (x.tried)
		report_isolation(&c, o, &x, ret);
	if (ret) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	if (ioas_alloc(x.iommufd, &ioas)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	if (iommufd_attach_pt(&x, ioas)) {
		iommufd_destroy(x.iommufd, ioas);
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	ic.iommufd = x.iommufd;
	ic.ioas = ioas;

	/* Reserved regions join the IOAS on attach: query after it. */
	if (ioas_ranges(x.iommufd, ioas, &ranges, &nr))
		check_report(&c, "window", false, "%s", last_error());
	else
		vt_window(&c, ranges, nr, o, &ops);

	buf = anon_alloc(DMA_BUF_SIZE);
	if (buf) {
		ret = ioas_map(&ic, buf, DMA_BUF_IOVA, DMA_BUF_SIZE);
		if (ret)
			err_ret(ret, "IOMMU_IOAS_MAP 0x%llx+0x%llx",
				(unsigned long long)DMA_BUF_IOVA,
				(unsigned long long)DMA_BUF_SIZE);
		else
			mapped = true;
	}

	if (vfio_dev_init(&d, x.devfd, bdf) || edu_check_id(&d)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	vt_run_all(&c, &d, mapped ? buf : NULL, DMA_BUF_IOVA, o, &v);
	vt_badinput(&c, &d, &ops);
out:
	/* d.fd is x.devfd: iommufd_close() closes it. */
	vt_release(&c, &v, &d);
	if (mapped)
		ioas_unmap(&ic, DMA_BUF_IOVA, DMA_BUF_SIZE);
	anon_free(buf, DMA_BUF_SIZE);
	free(ranges);
	iommufd_close(&x);
	check_end(&c);
}

/* IOMMU_IOAS_MAP of the DMA buffer at DMA_BUF_IOVA, logged. */
int map_dma_buf(struct ioas_ctx *ic, uint8_t *buf)
{
	int ret;

	ret = ioas_map(ic, buf, DMA_BUF_IOVA, DMA_BUF_SIZE);
	if (ret)
		return err_ret(ret, "IOMMU_IOAS_MAP(IOAS %u) 0x%llx+0x%llx",
			       ic->ioas, (unsigned long long)DMA_BUF_IOVA,
			       (unsigned long long)DMA_BUF_SIZE);
	e2e_log("buffer %p mapped at IOVA 0x%llx+0x%llx in IOAS %u", buf,
		(unsigned long long)DMA_BUF_IOVA,
		(unsigned long long)DMA_BUF_SIZE, ic->ioas);
	return 0;
}

static void log_listing(const char *tag)
{
	struct msi_listing l;

	if (!path_exists(DEBUGFS_MSI))
		return;
	if (!msi_listing_read(&l))
		msi_listing_log(&l, tag, NULL);
	msi_listing_free(&l);
}

/*
 * Everything after the replace: MSIs (with the eventfd of before), the
 * doorbell translation, its debugfs entry and a DMA that can only use B.
 */
static void replace_after(struct check *c, struct vfio_dev *d,
			  struct ioas_ctx *a, uint8_t *buf,
			  const struct e2e_opts *o, struct vt_debugfs *v,
			  unsigned int n, uint64_t addr_before)
{
	char msg[MSG_LEN];
	uint64_t addr = 0;
	bool ok;

	vt_fire(c, "msi", d, n);

	/* Read while MSI is live, as vt_doorbell() does. */
	ok = doorbell_verify(d->bdf, o, &addr, msg, sizeof(msg));
	if (addr && addr_before && addr != addr_before)
		check_report(c, "doorbell", ok,
			     "%s; changed by the switch (was 0x%llx)", msg,
			     (unsigned long long)addr_before);
	else
		check_report(c, "doorbell", ok, "%s%s", msg,
			     addr && addr == addr_before ?
			     "; unchanged by the switch" : "");
	vt_debugfs_on(c, v, d, o);

	/* With the buffer gone from A, the DMA below can only go through B. */
	if (!ioas_unmap(a, DMA_BUF_IOVA, DMA_BUF_SIZE))
		e2e_log("buffer unmapped from IOAS %u (no longer attached)",
			a->ioas);
	vt_dma(c, d, buf, DMA_BUF_IOVA);
}

#define BOGUS_PT_ID		0xfffffu

/*
 * Replaces that must fail while MSI is live, leaving the device where it
 * was with its MSIs working: to an object that does not exist, and to an
 * IOAS whose user mapping sits where the device's MSI window must go.
 */
static void replace_refused(struct check *c, struct iommufd_dev *x,
			    struct vfio_dev *d, uint32_t home)
{
	struct ioas_ctx cc = { .iommufd = x->iommufd };
	int bogus, clash = 0;
	unsigned int got = 0;
	void *probe = NULL;
	int ret;

	bogus = iommufd_attach_pt(x, BOGUS_PT_ID);
	if (!ioas_alloc(x->iommufd, &cc.ioas)) {
		probe = anon_alloc(PROBE_MAP_SIZE);
		/* Not attached yet: nothing reserves the window in C. */
		clash = probe ? ioas_map(&cc, probe, MSI_WINDOW_BASE,
					 PROBE_MAP_SIZE) : -ENOMEM;
		if (!clash)
			clash = iommufd_attach_pt(x, cc.ioas);
		else
			e2e_log("could not map into IOAS %u: %s", cc.ioas,
				strerror(-clash));
	}
	x->ioas = home;
	ret = edu_fire_msis(d, REPLACE_MIN_MSIS, &got);
	check_report(c, "refused",
		     bogus && clash && clash != -ENOMEM && !ret &&
		     got == REPLACE_MIN_MSIS,
		     "replace to missing object %#x: %s; to an IOAS with user memory at the MSI window 0x%llx: %s; then %u/%u MSIs delivered",
		     BOGUS_PT_ID, bogus ? strerror(-bogus) : "ACCEPTED",
		     (unsigned long long)MSI_WINDOW_BASE,
		     clash ? strerror(-clash) : "ACCEPTED", got,
		     REPLACE_MIN_MSIS);
	if (cc.ioas) {
		ioas_unmap(&cc, MSI_WINDOW_BASE, PROBE_MAP_SIZE);
		iommufd_destroy(x->iommufd, cc.ioas);
	}
	anon_free(probe, PROBE_MAP_SIZE);
}

static const char *const replace_subs[] = {
	"before", "refused", "attach", "msi", "dma", "doorbell", "debugfs",
	NULL
};

/*
 * Move edu from IOAS A to IOAS B (the same buffer at the same IOVA) with
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT while its MSI stays enabled: the HWPT
 * replace must carry the MSI doorbell mapping over to the new domain.
 */
void check_iommufd_replace(const struct e2e_opts *o)
{
	struct iommufd_dev x = { .iommufd = -1, .devfd = -1 };
	struct ioas_ctx a = { .iommufd = -1 }, b = { .iommufd = -1 };
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = true };
	unsigned int n = o->msis;
	uint64_t addr_before = 0;
	uint8_t *buf = NULL;
	char bdf[BDF_LEN];
	struct check c;
	int ret;

	if (n < REPLACE_MIN_MSIS)
		n = REPLACE_MIN_MSIS;
	check_begin(&c, "iommufd-replace", replace_subs);
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device (%04x:%04x)",
				 PCI_VENDOR_QEMU, PCI_DEVICE_EDU);
		goto out;
	}
	e2e_log("edu device at %s", bdf);

	if (iommufd_open(&x, bdf, !o->isolated)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	a.iommufd = x.iommufd;
	b.iommufd = x.iommufd;
	buf = anon_alloc(DMA_BUF_SIZE);
	if (!buf || ioas_alloc(x.iommufd, &a.ioas) ||
	    iommufd_attach_pt(&x, a.ioas) || map_dma_buf(&a, buf) ||
	    vfio_dev_init(&d, x.devfd, bdf) || edu_check_id(&d)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}

	vt_fire(&c, "before", &d, n);
	if (d.efd < 0)
		goto out;
	if (pci_msi_address(bdf, &addr_before, NULL))
		addr_before = 0;
	log_listing("iommufd-replace.debugfs before the switch");
	replace_refused(&c, &x, &d, a.ioas);

	if (ioas_alloc(x.iommufd, &b.ioas) || map_dma_buf(&b, buf)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	e2e_log("%s: replacing IOAS %u with IOAS %u, MSI enabled", bdf,
		a.ioas, b.ioas);
	ret = iommufd_attach_pt(&x, b.ioas);
	if (ret) {
		check_report(&c, "attach", false, "%s", last_error());
		goto out;
	}
	check_report(&c, "attach", true,
		     "VFIO_DEVICE_ATTACH_IOMMUFD_PT moved %s from IOAS %u to IOAS %u with MSI enabled",
		     bdf, a.ioas, b.ioas);
	replace_after(&c, &d, &a, buf, o, &v, n, addr_before);
out:
	/* d.fd is x.devfd: iommufd_close() closes it. */
	vt_release(&c, &v, &d);
	/* If the detach fails, closing the cdev detaches and x.ioas goes. */
	if (x.ioas)
		iommufd_detach_pt(&x);
	if (a.ioas && a.ioas != x.ioas && !iommufd_destroy(x.iommufd, a.ioas))
		e2e_log("IOAS %u (A) destroyed", a.ioas);
	if (b.ioas && b.ioas != x.ioas && !iommufd_destroy(x.iommufd, b.ioas))
		e2e_log("IOAS %u (B) destroyed", b.ioas);
	iommufd_close(&x);
	anon_free(buf, DMA_BUF_SIZE);
	check_end(&c);
}
