// SPDX-License-Identifier: GPL-2.0
/*
 * MSIs of a device that userspace owns through VFIO, translated by the
 * IOMMU: QEMU's edu device (1234:11e8), opened through the VFIO type1
 * container or through iommufd, fires MSIs and DMAs while the tests look
 * at what the MSI cookie framework mapped for it.
 *
 * What to expect comes from the platform (platform.h): a GICv2m frame
 * cannot isolate MSIs, so VFIO must refuse the device until
 * allow_unsafe_interrupts is set; a doorbell in a hardware MSI region
 * (virtio-iommu) is used untranslated; otherwise the doorbell is mapped
 * in the group's software MSI window.  Without an edu device, every test
 * skips.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "kselftest_harness.h"

#include "debugfs_msi.h"
#include "doorbell.h"
#include "edu.h"
#include "fail_nth.h"
#include "msi_test.h"
#include "pci.h"
#include "platform.h"
#include "util.h"
#include "vfio_lib.h"

#define REPLACE_MIN_MSIS	50	/* enough to notice MSIs stopping */
#define REPLACE_DMA_IOVA	(DMA_BUF_IOVA + 0x100000ULL)
#define BOGUS_PT_ID		0xfffffu
#define STRESS_CYCLES		1000
#define STRESS_BURST		10000
#define FAIL_POSITIONS		256	/* bound on the allocations of a step */
/* The window the window_choice test chooses. */
#define WIN_BASE		0x40000000ULL
#define WIN_MB			1ULL
#define WIN_SIZE		(WIN_MB << 20)

/*
 * Logs what a check of vfio_lib.c saw, then expects it to hold: the
 * message is there on success too.
 */
FIXTURE(vfio_msi) {
	char bdf[BDF_LEN];
	struct msi_expect e;
	struct msi_vfio v;
	unsigned int msis;
	char msg[MSG_LEN];
	char log[LOG_LEN];
};

FIXTURE_VARIANT(vfio_msi) {
	enum msi_backend backend;
};

FIXTURE_VARIANT_ADD(vfio_msi, type1) {
	.backend = MSI_TYPE1,
};

FIXTURE_VARIANT_ADD(vfio_msi, iommufd) {
	.backend = MSI_IOMMUFD,
};

/*
 * The edu device, opened through the variant's backend with the DMA buffer
 * mapped at DMA_BUF_IOVA, MSI off.
 */
FIXTURE_SETUP(vfio_msi)
{
	int ret;

	ret = msi_edu_vfio_setup(self->bdf, &self->e);
	if (ret == 1)
		SKIP(return, "%s", last_error());
	ASSERT_EQ(0, ret) TH_LOG("%s", last_error());
	self->msis = msi_count();
	ret = msi_vfio_open(&self->v, variant->backend, self->bdf,
			    self->e.isolated);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "%s: %s", msi_backend_name(variant->backend),
		     last_error());
	ASSERT_EQ(0, ret)
		TH_LOG("%s through %s: %s", self->bdf,
		       msi_backend_name(variant->backend), last_error());
}

FIXTURE_TEARDOWN(vfio_msi)
{
	msi_vfio_close(&self->v);
}

/* Refused until allow_unsafe_interrupts, where MSIs are not isolated. */
TEST_F(vfio_msi, isolation)
{
	const char *gate = msi_vfio_gate(variant->backend);
	char line[MSG_LEN];

	ASSERT_TRUE(self->v.tried);
	if (self->e.isolated) {
		EXPECT_EQ(0, self->v.first_err)
			TH_LOG("%s refused %s: %s, although %s", gate,
			       self->bdf, strerror(self->v.first_err),
			       self->e.why_isolated);
		TH_LOG("%s accepted at once: %s", gate, self->e.why_isolated);
		return;
	}
	ASSERT_EQ(EPERM, self->v.first_err)
		TH_LOG("%s with allow_unsafe_interrupts=N: %s, expected %s (%s)",
		       gate, self->v.first_err ?
		       strerror(self->v.first_err) : "accepted",
		       strerror(EPERM), self->e.why_isolated);
	/* The refusal must tell the administrator what to do. */
	if (variant->backend == MSI_TYPE1) {
		ASSERT_EQ(0, kmsg_find("allow_unsafe_interrupts", line,
				       sizeof(line)))
			TH_LOG("refused, but the kernel log does not name allow_unsafe_interrupts");
		TH_LOG("kernel says \"%s\"", line);
	}
	LOG_MSG(self->log,
		"%s refused with %s as expected (%s); accepted after allow_unsafe_interrupts=Y",
		gate, strerror(EPERM), self->e.why_isolated);
}

/* The usable IOVA ranges keep out the MSI window; a map there is refused. */
TEST_F(vfio_msi, window)
{
	struct iova_range *r = NULL;
	unsigned int n = 0;
	bool ok;

	if (!self->e.win_size)
		SKIP(return, "the IOMMU reports no MSI region for %s",
		     self->bdf);
	ASSERT_EQ(0, msi_vfio_ranges(&self->v, &r, &n))
		TH_LOG("%s", last_error());
	ok = vt_window(r, n, self->e.win_start, self->e.win_size,
		       self->e.translated ? "software MSI window" :
					    "hardware MSI region",
		       &self->v.ops, self->msg, sizeof(self->msg));
	free(r);
	EXPECT_CHECK(ok, self->msg);
}

/* Every MSI the device sends arrives. */
TEST_F(vfio_msi, msi)
{
	unsigned int got = 0;
	int ret;

	ret = vt_fire(&self->v.d, self->msis, &got);
	EXPECT_EQ(0, ret) TH_LOG("%s", last_error());
	EXPECT_EQ(self->msis, got)
		TH_LOG("%u/%u MSIs delivered", got, self->msis);
	TH_LOG("%u/%u MSIs delivered", got, self->msis);
}

/*
 * The device writes to an IOVA in the MSI window with the doorbell's page
 * offset, or to the physical doorbell where nothing translates it.
 */
TEST_F(vfio_msi, doorbell)
{
	uint64_t addr = 0, end;
	unsigned int got = 0;

	ASSERT_TRUE(!!self->e.db)
		TH_LOG("no MSI controller in the device tree");
	ASSERT_EQ(0, vt_fire(&self->v.d, 1, &got)) TH_LOG("%s", last_error());
	EXPECT_CHECK(doorbell_verify(self->bdf, self->e.translated, &addr,
				     self->msg, sizeof(self->msg)), self->msg);
	if (!self->e.translated || !self->e.win_size)
		return;
	end = self->e.win_start + self->e.win_size;
	EXPECT_TRUE(addr >= self->e.win_start && addr < end)
		TH_LOG("MSI address 0x%llx outside the software MSI window [0x%llx, 0x%llx)",
		       (unsigned long long)addr,
		       (unsigned long long)self->e.win_start,
		       (unsigned long long)end);
}

/* edu copies RAM -> device -> RAM and signals completion by MSI. */
TEST_F(vfio_msi, dma)
{
	EXPECT_CHECK(vt_dma(&self->v.d, self->v.buf, DMA_BUF_IOVA, self->msg,
			    sizeof(self->msg)), self->msg);
}

/* MSI off and on again, with a new eventfd: MSIs arrive both times. */
TEST_F(vfio_msi, reenable)
{
	unsigned int got = 0;

	ASSERT_EQ(0, vt_fire(&self->v.d, self->msis, &got))
		TH_LOG("%s", last_error());
	ASSERT_EQ(self->msis, got) TH_LOG("first enable");
	ASSERT_EQ(0, vfio_dev_msi_disable(&self->v.d))
		TH_LOG("%s", last_error());
	EXPECT_EQ(0, vt_fire(&self->v.d, self->msis, &got))
		TH_LOG("%s", last_error());
	EXPECT_EQ(self->msis, got)
		TH_LOG("after re-enable %u/%u MSIs delivered", got,
		       self->msis);
	TH_LOG("MSI disabled and re-enabled with a new eventfd; %u/%u MSIs delivered",
	       got, self->msis);
}

/*
 * Maps into the MSI window, over its edges and across it are refused; an
 * unmap of it leaves the doorbell; MSIs keep arriving.
 */
TEST_F(vfio_msi, badinput)
{
	if (!self->e.win_size)
		SKIP(return, "the IOMMU reports no MSI region for %s",
		     self->bdf);
	EXPECT_CHECK(vt_badinput(&self->v.d, &self->v.ops, self->e.win_start,
				 self->e.win_size, self->msg,
				 sizeof(self->msg)), self->msg);
}

/* debugfs lists the doorbell while MSI is on, and no more after. */
TEST_F(vfio_msi, debugfs)
{
	char off[MSG_LEN];
	unsigned int got = 0;

	if (!msi_debugfs_present())
		SKIP(return, "no %s (CONFIG_DEBUG_FS, the MSI cookie framework)",
		     DEBUGFS_MSI);
	ASSERT_EQ(0, vt_fire(&self->v.d, 1, &got)) TH_LOG("%s", last_error());
	EXPECT_CHECK(vt_debugfs_on(&self->v.d, &self->e, false, self->msg,
				   sizeof(self->msg)), self->msg);
	ASSERT_EQ(0, vfio_dev_msi_disable(&self->v.d))
		TH_LOG("%s", last_error());
	EXPECT_CHECK(vt_debugfs_off(&self->e, off, sizeof(off)), off);
}

/* IOAS C with user memory at the MSI window's start; 0 or -errno. */
static int clash_ioas(struct msi_vfio *v, const struct msi_expect *e,
		      struct ioas_ctx *c, void **probe)
{
	int ret;

	c->iommufd = v->x.iommufd;
	ret = ioas_alloc(v->x.iommufd, &c->ioas);
	if (ret)
		return ret;
	*probe = anon_alloc(PROBE_MAP_SIZE);
	if (!*probe)
		return -ENOMEM;
	/* Not attached yet: nothing reserves the window in C. */
	ret = ioas_map(c, *probe, e->win_start, PROBE_MAP_SIZE);
	return ret ? err_ret(ret, "map into IOAS %u at 0x%llx", c->ioas,
			     (unsigned long long)e->win_start) : 0;
}

/*
 * iommufd moves the device to another IOAS while its MSI is on
 * (VFIO_DEVICE_ATTACH_IOMMUFD_PT): replaces that must fail leave it where
 * it was; the one that works keeps its MSIs, their doorbell address and
 * debugfs entry, and its DMA goes through the new IOAS.
 */
TEST_F_TIMEOUT(vfio_msi, replace, 120)
{
	struct ioas_ctx b = { .iommufd = -1 }, c = { .iommufd = -1 };
	unsigned int n = self->msis, got = 0;
	uint64_t addr = 0, addr_before = 0;
	struct iommufd_dev *x = &self->v.x;
	uint32_t home = self->v.ic.ioas;
	int bogus, clash;
	void *probe = NULL;
	uint8_t *buf_b;
	char off[MSG_LEN];

	if (variant->backend != MSI_IOMMUFD)
		SKIP(return,
		     "%s cannot replace a domain: VFIO_DEVICE_ATTACH_IOMMUFD_PT is iommufd's",
		     msi_backend_name(variant->backend));
	if (n < REPLACE_MIN_MSIS)
		n = REPLACE_MIN_MSIS;
	ASSERT_TRUE(!!self->e.db)
		TH_LOG("no MSI controller in the device tree");

	ASSERT_EQ(0, vt_fire(&self->v.d, n, &got)) TH_LOG("%s", last_error());
	ASSERT_EQ(n, got) TH_LOG("before the replace: %u/%u MSIs", got, n);
	ASSERT_EQ(0, pci_msi_address(self->bdf, &addr_before, NULL))
		TH_LOG("%s", last_error());

	/* Refused: a missing object, and an IOAS using the MSI window. */
	bogus = iommufd_attach_pt(x, BOGUS_PT_ID);
	clash = clash_ioas(&self->v, &self->e, &c, &probe);
	if (!clash)
		clash = iommufd_attach_pt(x, c.ioas);
	else
		clash = 0;	/* could not build the clash: not a refusal */
	x->ioas = home;
	EXPECT_NE(0, bogus)
		TH_LOG("replace to missing object %#x accepted", BOGUS_PT_ID);
	EXPECT_NE(0, clash)
		TH_LOG("replace to IOAS %u, with user memory at the MSI window 0x%llx, %s",
		       c.ioas, (unsigned long long)self->e.win_start,
		       probe ? "accepted" : "not tried");
	EXPECT_EQ(0, edu_fire_msis(&self->v.d, REPLACE_MIN_MSIS, &got));
	EXPECT_EQ((unsigned int)REPLACE_MIN_MSIS, got)
		TH_LOG("after the refused replaces %u/%u MSIs", got,
		       REPLACE_MIN_MSIS);
	LOG_MSG(self->log,
		"replace to missing object %#x: %s; to an IOAS with user memory at the MSI window 0x%llx: %s; then %u/%u MSIs delivered",
		BOGUS_PT_ID, bogus ? strerror(-bogus) : "ACCEPTED",
		(unsigned long long)self->e.win_start,
		clash ? strerror(-clash) : "ACCEPTED", got, REPLACE_MIN_MSIS);
	if (c.ioas) {
		ioas_unmap(&c, self->e.win_start, PROBE_MAP_SIZE);
		iommufd_destroy(x->iommufd, c.ioas);
	}
	anon_free(probe, PROBE_MAP_SIZE);

	/* B maps a buffer at an IOVA the home IOAS does not. */
	b.iommufd = x->iommufd;
	buf_b = anon_alloc(DMA_BUF_SIZE);
	ASSERT_TRUE(!!buf_b);
	ASSERT_EQ(0, ioas_alloc(x->iommufd, &b.ioas));
	ASSERT_EQ(0, ioas_map(&b, buf_b, REPLACE_DMA_IOVA, DMA_BUF_SIZE))
		TH_LOG("%s", last_error());
	ASSERT_EQ(0, iommufd_attach_pt(x, b.ioas))
		TH_LOG("replace IOAS %u -> %u with MSI on: %s", home, b.ioas,
		       last_error());
	LOG_MSG(self->log,
		"VFIO_DEVICE_ATTACH_IOMMUFD_PT moved %s from IOAS %u to IOAS %u with MSI on",
		self->bdf, home, b.ioas);

	/* The eventfd of before, the address of before. */
	EXPECT_EQ(0, edu_fire_msis(&self->v.d, n, &got));
	EXPECT_EQ(n, got) TH_LOG("after the replace: %u/%u MSIs", got, n);
	EXPECT_CHECK(doorbell_verify(self->bdf, self->e.translated, &addr,
				     self->msg, sizeof(self->msg)), self->msg);
	EXPECT_EQ(addr_before, addr)
		TH_LOG("MSI address changed by the replace: 0x%llx -> 0x%llx",
		       (unsigned long long)addr_before,
		       (unsigned long long)addr);
	if (msi_debugfs_present())
		EXPECT_CHECK(vt_debugfs_on(&self->v.d, &self->e, true,
					   self->msg, sizeof(self->msg)),
			     self->msg);
	/* Only IOAS B maps REPLACE_DMA_IOVA. */
	EXPECT_CHECK(vt_dma(&self->v.d, buf_b, REPLACE_DMA_IOVA, self->msg,
			    sizeof(self->msg)), self->msg);
	ASSERT_EQ(0, vfio_dev_msi_disable(&self->v.d));
	if (msi_debugfs_present())
		EXPECT_CHECK(vt_debugfs_off(&self->e, off, sizeof(off)), off);
}

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

/* The window in force: start and size in bytes. */
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

/* The MSI address is an IOVA inside the chosen window. */
static bool in_chosen(struct vfio_dev *d, const struct msi_expect *e,
		      char *msg, size_t len)
{
	uint64_t addr = 0;
	size_t used;
	bool ok;

	ok = doorbell_verify(d->bdf, e->translated, &addr, msg, len);
	used = strlen(msg);
	ok = ok && addr >= WIN_BASE && addr < WIN_BASE + WIN_SIZE;
	snprintf(msg + used, len - used, "; %s the chosen window 0x%llx+0x%llx",
		 addr >= WIN_BASE && addr < WIN_BASE + WIN_SIZE ?
		 "inside" : "OUTSIDE", WIN_BASE, WIN_SIZE);
	return ok;
}

/* An iommufd cookie has the chosen window and the doorbell in it. */
static bool chosen_listed(const struct msi_expect *e, char *msg, size_t len)
{
	struct msi_listing l = { 0 };
	char want[64];
	unsigned int i;
	bool ok = false;

	snprintf(want, sizeof(want), "window [0x%016llx-0x%016llx]", WIN_BASE,
		 WIN_BASE + WIN_SIZE - 1);
	if (msi_listing_read(&l)) {
		snprintf(msg, len, "%s", last_error());
		msi_listing_free(&l);
		return false;
	}
	for (i = 0; i < l.n && !ok; i++) {
		const struct msi_cookie *ck = &l.cookies[i];
		const struct msi_doorbell *m;

		if (!strstr(ck->text, want) ||
		    !msi_cookie_count_phys(ck, e->db->pa, &m))
			continue;
		ok = m->iova >= WIN_BASE && m->iova < WIN_BASE + WIN_SIZE;
	}
	if (!ok)
		msi_listing_log(&l, "debugfs", NULL);
	msi_listing_free(&l);
	snprintf(msg, len, "a cookie with %s %s", want,
		 ok ? "maps the doorbell in it" :
		      "and the doorbell in it is MISSING");
	return ok;
}

/*
 * The VMM moves the MSI window with IOMMU_OPTION_SW_MSI_START/SIZE while
 * the device is not attached: GET gives the driver's window first, a
 * misaligned start is refused, a SET while attached gets EBUSY; the IOVA
 * ranges, the refused maps, the MSI addresses and debugfs follow the
 * chosen window, also across a replace with MSI on; the driver's window
 * is then usable for DMA.
 */
TEST_F_TIMEOUT(vfio_msi, window_choice, 120)
{
	uint64_t s0, z0, s1, z1, s2, z2, low = self->e.win_start;
	struct iommufd_dev *x = &self->v.x;
	struct ioas_ctx a = { .iommufd = -1 }, b = { .iommufd = -1 };
	struct iova_range *r = NULL;
	int g0, bad_start, g1, set_start, set_size, g2, probe, mapped;
	unsigned int got = 0, n = 0;
	bool out, in;
	uint8_t *buf;

	if (variant->backend != MSI_IOMMUFD)
		SKIP(return, "the MSI window options are iommufd's");
	if (!self->e.translated)
		SKIP(return, "the doorbell is not translated: %s",
		     self->e.why_translated);
	ASSERT_TRUE(low + DMA_BUF_SIZE <= EDU_DMA_LIMIT)
		TH_LOG("the driver's window 0x%llx is out of edu's DMA reach",
		       (unsigned long long)low);
	ASSERT_EQ(0, iommufd_detach_pt(x)) TH_LOG("%s", last_error());

	g0 = sw_msi_get(x, &s0, &z0);
	if (g0 == -EOPNOTSUPP || g0 == -EINVAL)
		SKIP(return, "IOMMU_OPTION_SW_MSI_START: %s", strerror(-g0));
	bad_start = sw_msi_set(x, IOMMU_OPTION_SW_MSI_START, WIN_BASE + 0x1000);
	g1 = sw_msi_get(x, &s1, &z1);
	set_start = sw_msi_set(x, IOMMU_OPTION_SW_MSI_START, WIN_BASE);
	set_size = sw_msi_set(x, IOMMU_OPTION_SW_MSI_SIZE, WIN_MB);
	g2 = sw_msi_get(x, &s2, &z2);
	LOG_MSG(self->log,
		"default 0x%llx+0x%llx (%s); start 0x%llx: %s, window then 0x%llx+0x%llx; set 0x%llx + %llu MiB: %s/%s; read back 0x%llx+0x%llx (%s)",
		(unsigned long long)s0, (unsigned long long)z0, err_name(g0),
		WIN_BASE + 0x1000, err_name(bad_start), (unsigned long long)s1,
		(unsigned long long)z1, WIN_BASE, WIN_MB, err_name(set_start),
		err_name(set_size), (unsigned long long)s2,
		(unsigned long long)z2, err_name(g2));
	EXPECT_EQ(0, g0);
	EXPECT_EQ(self->e.win_start, s0) TH_LOG("GET: not the driver's window");
	EXPECT_EQ(self->e.win_size, z0) TH_LOG("GET: not the driver's window");
	EXPECT_EQ(-EINVAL, bad_start) TH_LOG("misaligned start");
	EXPECT_EQ(0, g1);
	EXPECT_TRUE(s1 == s0 && z1 == z0) TH_LOG("a refused SET changed the window");
	ASSERT_EQ(0, set_start);
	ASSERT_EQ(0, set_size);
	EXPECT_EQ(0, g2);
	EXPECT_TRUE(s2 == WIN_BASE && z2 == WIN_SIZE)
		TH_LOG("the window read back is not the one set");

	ASSERT_EQ(0, ioas_alloc(x->iommufd, &a.ioas));
	a.iommufd = x->iommufd;
	ASSERT_EQ(0, iommufd_attach_pt(x, a.ioas)) TH_LOG("%s", last_error());

	/* Attached: both options refuse, nothing changes. */
	set_start = sw_msi_set(x, IOMMU_OPTION_SW_MSI_START, 2 * WIN_BASE);
	set_size = sw_msi_set(x, IOMMU_OPTION_SW_MSI_SIZE, 2);
	g2 = sw_msi_get(x, &s2, &z2);
	TH_LOG("set after attach: start %s, size %s; window in force 0x%llx+0x%llx",
	       err_name(set_start), err_name(set_size), (unsigned long long)s2,
	       (unsigned long long)z2);
	EXPECT_EQ(-EBUSY, set_start);
	EXPECT_EQ(-EBUSY, set_size);
	EXPECT_TRUE(!g2 && s2 == WIN_BASE && z2 == WIN_SIZE);

	/* The chosen window is reserved, the driver's is free. */
	buf = anon_alloc(DMA_BUF_SIZE);
	ASSERT_TRUE(!!buf);
	ASSERT_EQ(0, ioas_ranges(x->iommufd, a.ioas, &r, &n))
		TH_LOG("%s", last_error());
	out = !touches(r, n, WIN_BASE, WIN_BASE + WIN_SIZE - 1);
	in = covers(r, n, low, low + self->e.win_size - 1);
	free(r);
	probe = ioas_map(&a, buf, WIN_BASE, PROBE_MAP_SIZE);
	if (!probe)
		ioas_unmap(&a, WIN_BASE, PROBE_MAP_SIZE);
	mapped = ioas_map(&a, buf, low, DMA_BUF_SIZE);
	LOG_MSG(self->log,
		"chosen window 0x%llx+0x%llx %s the %u usable range(s), map into it %s; default window 0x%llx %s, map there %s",
		WIN_BASE, WIN_SIZE, out ? "is outside" : "OVERLAPS", n,
		probe ? strerror(-probe) : "ACCEPTED", (unsigned long long)low,
		in ? "is usable" : "is NOT usable", err_name(mapped));
	EXPECT_TRUE(out);
	EXPECT_TRUE(in);
	EXPECT_NE(0, probe);
	ASSERT_EQ(0, mapped);

	ASSERT_EQ(0, vt_fire(&self->v.d, self->msis, &got))
		TH_LOG("%s", last_error());
	EXPECT_EQ(self->msis, got) TH_LOG("%u/%u MSIs", got, self->msis);
	EXPECT_CHECK(in_chosen(&self->v.d, &self->e, self->msg,
			       sizeof(self->msg)), self->msg);
	EXPECT_CHECK(vt_dma(&self->v.d, buf, low, self->msg,
			    sizeof(self->msg)), self->msg);
	if (msi_debugfs_present())
		EXPECT_CHECK(chosen_listed(&self->e, self->msg,
					   sizeof(self->msg)), self->msg);

	/* Replace to IOAS B with MSI on: the window comes along. */
	ASSERT_EQ(0, ioas_alloc(x->iommufd, &b.ioas));
	b.iommufd = x->iommufd;
	ASSERT_EQ(0, ioas_map(&b, buf, low, DMA_BUF_SIZE))
		TH_LOG("%s", last_error());
	ASSERT_EQ(0, iommufd_attach_pt(x, b.ioas)) TH_LOG("%s", last_error());
	EXPECT_EQ(0, edu_fire_msis(&self->v.d, self->msis, &got));
	EXPECT_EQ(self->msis, got)
		TH_LOG("after the replace %u/%u MSIs", got, self->msis);
	EXPECT_CHECK(in_chosen(&self->v.d, &self->e, self->msg,
			       sizeof(self->msg)), self->msg);
	if (msi_debugfs_present())
		EXPECT_CHECK(chosen_listed(&self->e, self->msg,
					   sizeof(self->msg)), self->msg);
	vfio_dev_msi_disable(&self->v.d);
}

/* Enable, one MSI, disable: STRESS_CYCLES times. */
static bool stress_cycles(struct vfio_dev *d, char *msg, size_t len)
{
	unsigned int i, got, lost = 0, errors = 0;
	uint64_t start = now_ms();
	int ret;

	d->quiet = true;
	for (i = 0; i < STRESS_CYCLES; i++) {
		ret = vfio_dev_msi_enable(d);
		if (!ret)
			ret = edu_fire_msis(d, 1, &got);
		if (!ret && got != 1)
			lost++;
		if (ret)
			errors++;
		if (vfio_dev_msi_disable(d))
			errors++;
		if (errors > 3)
			break;
	}
	d->quiet = false;
	snprintf(msg, len,
		 "%u/%u MSI enable/disable cycles through VFIO_DEVICE_SET_IRQS, one MSI each: %u lost, %u errors%s%s; %llu ms",
		 i, STRESS_CYCLES, lost, errors, errors ? ", last: " : "",
		 errors ? last_error() : "",
		 (unsigned long long)(now_ms() - start));
	return i == STRESS_CYCLES && !lost && !errors;
}

/*
 * Many MSI enable/disable cycles (each maps and unmaps the doorbell), bad
 * input at the MSI window, a long burst; the doorbell is gone after.
 */
TEST_F_TIMEOUT(vfio_msi, stress, 600)
{
	unsigned int got = 0;
	char off[MSG_LEN];

	EXPECT_CHECK(stress_cycles(&self->v.d, self->msg, sizeof(self->msg)),
		     self->msg);
	if (self->e.win_size)
		EXPECT_CHECK(vt_badinput(&self->v.d, &self->v.ops,
					 self->e.win_start, self->e.win_size,
					 self->msg, sizeof(self->msg)),
			     self->msg);
	ASSERT_EQ(0, vfio_dev_msi_disable(&self->v.d));
	EXPECT_EQ(0, vt_fire(&self->v.d, STRESS_BURST, &got))
		TH_LOG("%s", last_error());
	EXPECT_EQ((unsigned int)STRESS_BURST, got)
		TH_LOG("burst: %u/%u MSIs delivered", got, STRESS_BURST);
	TH_LOG("burst: %u/%u MSIs delivered", got, STRESS_BURST);
	if (!msi_debugfs_present())
		return;
	EXPECT_CHECK(vt_debugfs_on(&self->v.d, &self->e, false, self->msg,
				   sizeof(self->msg)), self->msg);
	ASSERT_EQ(0, vfio_dev_msi_disable(&self->v.d));
	EXPECT_CHECK(vt_debugfs_off(&self->e, off, sizeof(off)), off);
}

/* MSI on, one MSI, off; -errno, or -ENODATA if the MSI was lost. */
static int one_msi(struct vfio_dev *d)
{
	unsigned int got = 0;
	int ret;

	ret = vfio_dev_msi_enable(d);
	if (!ret)
		ret = edu_fire_msis(d, 1, &got);
	vfio_dev_msi_disable(d);
	return ret ? ret : got == 1 ? 0 : -ENODATA;
}

/* Nothing of a failed MSI enable is left: no cookie lists the doorbell. */
static bool nothing_left(const struct msi_expect *e, char *msg, size_t len)
{
	if (!msi_debugfs_present() || !e->db) {
		snprintf(msg, len, "(no debugfs listing to look at)");
		return true;
	}
	return vt_debugfs_off(e, msg, len);
}

struct sweep {
	unsigned int n;		/* the first position past the step */
	unsigned int failed;	/* the step returned an error */
	unsigned int absorbed;	/* it failed inside, and the step worked */
	unsigned int bad;	/* something did not work, see first_bad */
	bool ended;		/* a step made fewer allocations than n */
	char first_bad[2 * MSG_LEN];
};

/*
 * MSI enable with its n-th slab allocation failing, n = 1, 2, ... until the
 * enable makes fewer.  A failure the enable returns must leave no doorbell
 * behind; with fire_absorbed, one the kernel absorbs (a retry, a fallback)
 * must leave MSI working; either way the next, unhindered enable must
 * deliver its MSI.
 */
static void sweep_msi_enable(struct vfio_dev *d, const struct msi_expect *e,
			     bool fire_absorbed, struct sweep *s)
{
	char msg[MSG_LEN];
	bool injected = true;
	unsigned int got;
	int ret;

	memset(s, 0, sizeof(*s));
	d->quiet = true;
	for (s->n = 1; s->n <= FAIL_POSITIONS && injected; s->n++) {
		if (fail_nth_arm(s->n))
			break;
		ret = vfio_dev_msi_enable(d);
		injected = fail_nth_disarm();
		if (ret) {
			s->failed++;
			if (!nothing_left(e, msg, sizeof(msg)) && !s->bad++)
				snprintf(s->first_bad, sizeof(s->first_bad),
					 "after a failure at allocation %u: %s",
					 s->n, msg);
		} else if (injected) {
			s->absorbed++;
			if (fire_absorbed &&
			    (edu_fire_msis(d, 1, &got) || got != 1) &&
			    !s->bad++)
				snprintf(s->first_bad, sizeof(s->first_bad),
					 "allocation %u failed, the enable worked, its MSI was lost",
					 s->n);
		}
		vfio_dev_msi_disable(d);
		ret = one_msi(d);
		if (ret && !s->bad++)
			snprintf(s->first_bad, sizeof(s->first_bad),
				 "after a failure at allocation %u: %s", s->n,
				 ret == -ENODATA ? "MSI lost" : last_error());
	}
	d->quiet = false;
	s->ended = !injected;
	s->n--;
}

/*
 * The open (bind + type1 attach or iommufd attach) with its n-th slab
 * allocation under the filter's function failing, n = 1, 2, ... until
 * none fails: a failure the open returns must leave the device free to
 * open again, one the kernel absorbs must leave it working.
 */
static void sweep_open(struct msi_vfio *v, const struct msi_expect *e,
		       const char *bdf, struct sweep *s)
{
	enum msi_backend backend = v->backend;
	bool injected = true;
	int ret;

	memset(s, 0, sizeof(*s));
	msi_vfio_close(v);
	for (s->n = 1; s->n <= FAIL_POSITIONS && injected; s->n++) {
		if (fail_nth_arm(s->n))
			break;
		ret = msi_vfio_open(v, backend, bdf, e->isolated);
		injected = fail_nth_disarm();
		if (ret)
			s->failed++;
		if (!ret && injected) {
			s->absorbed++;
			ret = one_msi(&v->d);
			if (ret && !s->bad++)
				snprintf(s->first_bad, sizeof(s->first_bad),
					 "allocation %u failed, the open worked, then: %s",
					 s->n, ret == -ENODATA ? "MSI lost" :
					 last_error());
			ret = 0;
		}
		if (!ret)
			msi_vfio_close(v);
		ret = msi_vfio_open(v, backend, bdf, e->isolated);
		if (!ret) {
			ret = one_msi(&v->d);
			msi_vfio_close(v);
		}
		if (ret && !s->bad++)
			snprintf(s->first_bad, sizeof(s->first_bad),
				 "after a failure at allocation %u: %s", s->n,
				 ret == -ENODATA ? "MSI lost" : last_error());
	}
	s->ended = !injected;
	s->n--;
	/* The fixture's teardown closes it. */
	msi_vfio_open(v, backend, bdf, e->isolated);
}

/*
 * What a sweep did, and that it ended, that the step returned some of the
 * failures to userspace and that nothing went wrong.
 */
static void sweep_expect(struct __test_metadata *_metadata, char *log,
			 const char *step, const char *where,
			 const struct sweep *s)
{
	LOG_MSG(log,
		"%s: each of the %u slab allocations %s failed once (allocation %u is past the path): %u returned to userspace, %u absorbed, %u follow-up(s) bad%s%s",
		step, s->n - 1, where, s->n, s->failed, s->absorbed, s->bad,
		s->bad ? "; first: " : "", s->first_bad);
	EXPECT_TRUE(s->ended && s->n > 1)
		TH_LOG("%s: the sweep did not end after one injected failure at least",
		       step);
	EXPECT_LT(0u, s->failed)
		TH_LOG("%s: no failure reached userspace", step);
	EXPECT_EQ(0u, s->bad);
}

/*
 * Fail-nth sweeps (as iommufd_fail_nth does): the slab allocations of the
 * framework's window reserve at attach and of its doorbell prepare at MSI
 * enable fail one at a time, then every slab allocation of an MSI enable
 * but those of /proc/irq.  After each failure nothing is left mapped and
 * the next attempt works; where the kernel absorbs a failure in the
 * framework, the attach or the MSI works.
 *
 * Outside the framework genirq has two known gaps, so the last sweep
 * fires no MSI after an absorbed failure and avoids /proc/irq: it ignores
 * a /proc/irq entry it could not create (and WARNs when it removes it),
 * and irq_domain_set_mapping() ignores a failed radix tree insert, after
 * which the MSI arrives as an "Unexpected interrupt" (GICv3 WARNs).
 */
TEST_F_TIMEOUT(vfio_msi, failslab, 600)
{
	struct sweep s;

	if (!fail_nth_available(self->msg, sizeof(self->msg)))
		SKIP(return, "%s", self->msg);
	ASSERT_EQ(0, fail_nth_open()) TH_LOG("%s", last_error());

	ASSERT_EQ(0, fail_nth_require("iommu_msi_cookie_create_window"))
		TH_LOG("%s", last_error());
	sweep_open(&self->v, &self->e, self->bdf, &s);
	fail_nth_unfilter();
	sweep_expect(_metadata, self->log, "reserve",
		     "under iommu_msi_cookie_create_window() of an open", &s);
	ASSERT_GE(self->v.d.fd, 0) TH_LOG("reopen: %s", last_error());

	ASSERT_EQ(0, fail_nth_require("iommu_msi_prepare"))
		TH_LOG("%s", last_error());
	sweep_msi_enable(&self->v.d, &self->e, true, &s);
	fail_nth_unfilter();
	sweep_expect(_metadata, self->log, "prepare",
		     "under iommu_msi_prepare() of an MSI enable", &s);

	ASSERT_EQ(0, fail_nth_reject("register_irq_proc"))
		TH_LOG("%s", last_error());
	sweep_msi_enable(&self->v.d, &self->e, false, &s);
	fail_nth_unfilter();
	fail_nth_close();
	sweep_expect(_metadata, self->log, "enable",
		     "of an MSI enable (but /proc/irq's)", &s);
}

TEST_HARNESS_MAIN
