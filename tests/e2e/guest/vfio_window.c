// SPDX-License-Identifier: GPL-2.0
/*
 * The "iommufd-window" check: the VMM moves the device's MSI window with
 * IOMMU_OPTION_SW_MSI_START/SIZE before attaching it, and everything that
 * used to sit at the driver's window follows: the IOVA ranges, the
 * refused maps, the MSI addresses, debugfs, and a replace with MSI live.
 */
#include <errno.h>
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/iommufd.h>

#include "checks.h"
#include "debugfs_msi.h"
#include "doorbell.h"
#include "edu.h"
#include "vfio_tests.h"

/* The window this check chooses, and a DMA buffer where the default was. */
#define WIN_BASE		0x40000000ULL
#define WIN_MB			1ULL
#define WIN_SIZE		(WIN_MB << 20)
#define LOW_DMA_IOVA		MSI_WINDOW_BASE
#define WIN_MSIS		200

static_assert(LOW_DMA_IOVA + DMA_BUF_SIZE <= EDU_DMA_LIMIT,
	      "the DMA buffer at the default window must be in edu's reach");

static int sw_msi_option(struct iommufd_dev *x, uint32_t option, uint16_t op,
			 uint64_t *val)
{
	struct iommu_option opt = {
		.size = sizeof(opt),
		.option_id = option,
		.op = op,
		.object_id = x->devid,
		.val64 = *val,
	};

	if (ioctl(x->iommufd, IOMMU_OPTION, &opt))
		return -errno;
	*val = opt.val64;
	return 0;
}

static int sw_msi_set(struct iommufd_dev *x, uint32_t option, uint64_t val)
{
	return sw_msi_option(x, option, IOMMU_OPTION_OP_SET, &val);
}

/* The window in force: start and size in bytes; 0 on success. */
static int sw_msi_get(struct iommufd_dev *x, uint64_t *start, uint64_t *size)
{
	uint64_t mb = 0;
	int ret;

	*start = 0;
	ret = sw_msi_option(x, IOMMU_OPTION_SW_MSI_START, IOMMU_OPTION_OP_GET,
			    start);
	if (!ret)
		ret = sw_msi_option(x, IOMMU_OPTION_SW_MSI_SIZE,
				    IOMMU_OPTION_OP_GET, &mb);
	*size = mb << 20;
	return ret;
}

static const char *err_name(int ret)
{
	return ret ? strerror(-ret) : "accepted";
}

/*
 * "options", before attach: GET gives the driver's window; a misaligned
 * start and a SIZE before any START are refused with EINVAL and change
 * nothing; then the chosen window is set and read back.
 */
static bool choose_window(struct check *c, struct iommufd_dev *x)
{
	uint64_t s0, z0, s1, z1, s2, z2;
	int g0, bad_start, g1, set_start, set_size, g2;

	g0 = sw_msi_get(x, &s0, &z0);
	bad_start = sw_msi_set(x, IOMMU_OPTION_SW_MSI_START,
			       WIN_BASE + 0x1000);
	g1 = sw_msi_get(x, &s1, &z1);
	set_start = sw_msi_set(x, IOMMU_OPTION_SW_MSI_START, WIN_BASE);
	set_size = sw_msi_set(x, IOMMU_OPTION_SW_MSI_SIZE, WIN_MB);
	g2 = sw_msi_get(x, &s2, &z2);
	check_report(c, "options",
		     !g0 && s0 == MSI_WINDOW_BASE && z0 == MSI_WINDOW_SIZE &&
		     bad_start == -EINVAL && !g1 && s1 == s0 && z1 == z0 &&
		     !set_start && !set_size &&
		     !g2 && s2 == WIN_BASE && z2 == WIN_SIZE,
		     "default 0x%" PRIx64 "+0x%" PRIx64 " (%s); start 0x%llx: %s, window then 0x%" PRIx64 "+0x%" PRIx64 "; set 0x%llx + %llu MiB: %s/%s; read back 0x%" PRIx64 "+0x%" PRIx64 " (%s)",
		     s0, z0, err_name(g0), WIN_BASE + 0x1000,
		     err_name(bad_start), s1, z1, WIN_BASE, WIN_MB,
		     err_name(set_start), err_name(set_size), s2, z2,
		     err_name(g2));
	return !set_start && !set_size;
}

/* "busy": after attach both options refuse with EBUSY; nothing changes. */
static void window_busy(struct check *c, struct iommufd_dev *x)
{
	uint64_t s, z;
	int start, size, g;

	start = sw_msi_set(x, IOMMU_OPTION_SW_MSI_START, 2 * WIN_BASE);
	size = sw_msi_set(x, IOMMU_OPTION_SW_MSI_SIZE, 2);
	g = sw_msi_get(x, &s, &z);
	check_report(c, "busy",
		     start == -EBUSY && size == -EBUSY && !g &&
		     s == WIN_BASE && z == WIN_SIZE,
		     "set after attach: start %s, size %s; window in force 0x%" PRIx64 "+0x%" PRIx64,
		     err_name(start), err_name(size), s, z);
}

static bool covers(const struct iova_range *r, unsigned int n,
		   uint64_t start, uint64_t last)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (r[i].start <= start && last <= r[i].last)
			return true;
	return false;
}

static bool touches(const struct iova_range *r, unsigned int n,
		    uint64_t start, uint64_t last)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (r[i].start <= last && start <= r[i].last)
			return true;
	return false;
}

/*
 * "ranges": the chosen window is out of the usable ranges and a map into
 * it is refused; the driver's window is usable and a map there accepted
 * (that map is the DMA buffer of the "dma" subcheck).
 */
static bool window_ranges(struct check *c, struct iommufd_dev *x,
			  struct ioas_ctx *ic, uint8_t *buf)
{
	struct iova_range *r = NULL;
	unsigned int n = 0, i;
	bool out, in;
	int probe = -ENOMEM, low;

	if (ioas_ranges(x->iommufd, ic->ioas, &r, &n)) {
		check_report(c, "ranges", false, "%s", last_error());
		return false;
	}
	for (i = 0; i < n; i++)
		e2e_log("%s: usable IOVA range %u: [0x%" PRIx64 ", 0x%" PRIx64 "]",
			c->name, i, r[i].start, r[i].last);
	out = !touches(r, n, WIN_BASE, WIN_BASE + WIN_SIZE - 1);
	in = covers(r, n, MSI_WINDOW_BASE, MSI_WINDOW_BASE + MSI_WINDOW_SIZE - 1);
	if (buf)
		probe = ioas_map(ic, buf, WIN_BASE, PROBE_MAP_SIZE);
	if (!probe)
		ioas_unmap(ic, WIN_BASE, PROBE_MAP_SIZE);
	low = buf ? ioas_map(ic, buf, LOW_DMA_IOVA, DMA_BUF_SIZE) : -ENOMEM;
	check_report(c, "ranges", out && in && probe && probe != -ENOMEM && !low,
		     "chosen window 0x%llx+0x%llx %s the %u usable range(s), map into it %s; default window 0x%llx %s, map there %s",
		     WIN_BASE, WIN_SIZE, out ? "is outside" : "OVERLAPS", n,
		     probe ? strerror(-probe) : "ACCEPTED",
		     MSI_WINDOW_BASE, in ? "is usable" : "is NOT usable",
		     err_name(low));
	free(r);
	return !low;
}

/* "doorbell": the MSI address is an IOVA inside the chosen window. */
static void window_doorbell(struct check *c, struct vfio_dev *d,
			    const struct e2e_opts *o, const char *sub)
{
	char msg[MSG_LEN];
	uint64_t addr = 0;
	bool ok, inside;

	ok = doorbell_verify(d->bdf, o, &addr, msg, sizeof(msg));
	inside = addr >= WIN_BASE && addr < WIN_BASE + WIN_SIZE;
	check_report(c, sub, ok && inside, "%s; %s the chosen window 0x%llx+0x%llx",
		     msg, inside ? "inside" : "OUTSIDE", WIN_BASE, WIN_SIZE);
}

/* "debugfs": an iommufd cookie has the chosen window and the doorbell. */
static void window_debugfs(struct check *c, const char *sub)
{
	struct msi_listing l = { 0 };
	const struct doorbell *db;
	char want[64];
	unsigned int i;
	bool ok = false;
	int ret;

	snprintf(want, sizeof(want), "window [0x%016llx-0x%016llx]", WIN_BASE,
		 WIN_BASE + WIN_SIZE - 1);
	ret = doorbell_get(&db);
	if (!ret)
		ret = msi_listing_read(&l);
	for (i = 0; !ret && i < l.n && !ok; i++) {
		const struct msi_cookie *ck = &l.cookies[i];
		const struct msi_doorbell *m;

		if (!strstr(ck->text, want) ||
		    !msi_cookie_count_phys(ck, db->pa, &m))
			continue;
		ok = m->iova >= WIN_BASE && m->iova < WIN_BASE + WIN_SIZE;
	}
	if (!ok && !ret)
		msi_listing_log(&l, c->name, NULL);
	check_report(c, sub, ok, "%s%s", ret ? last_error() : "a cookie with ",
		     ret ? "" : ok ? "the chosen window maps the doorbell in it" :
				     "the chosen window and the doorbell in it is MISSING");
	msi_listing_free(&l);
}

static const char *const window_subs[] = {
	"options", "busy", "ranges", "msi", "doorbell", "dma", "debugfs",
	"replace", "replace-doorbell", "replace-debugfs", NULL
};

void check_iommufd_window(const struct e2e_opts *o)
{
	struct iommufd_dev x = { .iommufd = -1, .devfd = -1 };
	struct ioas_ctx a = { .iommufd = -1 }, b = { .iommufd = -1 };
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	uint8_t *buf = NULL;
	bool mapped = false, b_mapped = false;
	char bdf[BDF_LEN];
	struct check c;

	check_begin(&c, "iommufd-window", window_subs);
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device (%04x:%04x)",
				 PCI_VENDOR_QEMU, PCI_DEVICE_EDU);
		goto out;
	}
	if (iommufd_open(&x, bdf, !o->isolated)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	a.iommufd = b.iommufd = x.iommufd;
	if (!choose_window(&c, &x))
		goto out;
	if (ioas_alloc(x.iommufd, &a.ioas) || iommufd_attach_pt(&x, a.ioas)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	window_busy(&c, &x);
	buf = anon_alloc(DMA_BUF_SIZE);
	mapped = window_ranges(&c, &x, &a, buf);

	if (vfio_dev_init(&d, x.devfd, bdf) || edu_check_id(&d)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	vt_msi(&c, &d, o->msis ? o->msis : WIN_MSIS);
	window_doorbell(&c, &d, o, "doorbell");
	if (mapped)
		vt_dma(&c, &d, buf, LOW_DMA_IOVA);
	window_debugfs(&c, "debugfs");

	/* Replace to IOAS B with MSI live: the window comes along. */
	if (!ioas_alloc(x.iommufd, &b.ioas))
		b_mapped = !ioas_map(&b, buf, LOW_DMA_IOVA, DMA_BUF_SIZE);
	if (!b_mapped || iommufd_attach_pt(&x, b.ioas)) {
		check_report(&c, "replace", false, "%s", last_error());
	} else {
		vt_fire(&c, "replace", &d, WIN_MSIS);
		window_doorbell(&c, &d, o, "replace-doorbell");
		window_debugfs(&c, "replace-debugfs");
	}
out:
	vfio_dev_msi_disable(&d);
	if (mapped)
		ioas_unmap(&a, LOW_DMA_IOVA, DMA_BUF_SIZE);
	if (b_mapped)
		ioas_unmap(&b, LOW_DMA_IOVA, DMA_BUF_SIZE);
	anon_free(buf, DMA_BUF_SIZE);
	/* Closing /dev/iommu destroys IOAS A and B too. */
	iommufd_close(&x);
	check_end(&c);
}
