// SPDX-License-Identifier: GPL-2.0
/* edu subtests shared by the type1 and iommufd checks. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "debugfs_msi.h"
#include "doorbell.h"
#include "edu.h"
#include "pci.h"
#include "vfio_tests.h"

#define DMA_XFER_LEN		1024u
#define DMA_DST_OFF		0x2000u
#define DMA_TIMEOUT_MS		2000
#define DMA_POISON		0xa5

/* Larger edu transfers crash QEMU 7.2; stay well inside its buffer. */
static_assert(EDU_DEV_BUF_SIZE / 2 >= DMA_XFER_LEN, "edu DMA too large");
static_assert(DMA_BUF_IOVA + DMA_BUF_SIZE <= EDU_DMA_LIMIT,
	      "edu truncates DMA addresses to 28 bits");
static_assert(DMA_DST_OFF + DMA_XFER_LEN <= DMA_BUF_SIZE,
	      "DMA destination outside the buffer");

void *anon_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		err_ret(-errno, "mmap %zu anonymous bytes", len);
		return NULL;
	}
	/* Fault it in now: the IOMMU mapping pins these pages. */
	memset(p, 0, len);
	return p;
}

void anon_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

static bool overlaps(const struct iova_range *r, uint64_t start,
		     uint64_t last)
{
	return r->start <= last && start <= r->last;
}

void vt_window(struct check *c, const struct iova_range *r, unsigned int n,
	       const struct e2e_opts *o, const struct dma_ops *ops)
{
	const struct doorbell *db = NULL;
	uint64_t start, last;
	const char *what;
	unsigned int i;
	void *probe;
	int ret;

	for (i = 0; i < n; i++)
		e2e_log("%s: usable IOVA range %u: [0x%llx, 0x%llx]", c->name,
			i, (unsigned long long)r[i].start,
			(unsigned long long)r[i].last);
	if (!n) {
		check_report(c, "window", false, "no usable IOVA ranges");
		return;
	}

	if (o->translated) {
		start = MSI_WINDOW_BASE;
		what = "MSI window";
	} else {
		/* virtio-iommu style: the doorbell page itself is reserved. */
		if (doorbell_get(&db)) {
			check_report(c, "window", false,
				     "direct mode but no doorbell in the device tree");
			return;
		}
		start = db->pa & ~DOORBELL_PAGE_MASK;
		what = "doorbell page";
	}
	last = start + (o->translated ? MSI_WINDOW_SIZE : PROBE_MAP_SIZE) - 1;

	for (i = 0; i < n; i++) {
		if (overlaps(&r[i], start, last)) {
			check_report(c, "window", false,
				     "%s [0x%llx, 0x%llx] overlaps usable range [0x%llx, 0x%llx]",
				     what, (unsigned long long)start,
				     (unsigned long long)last,
				     (unsigned long long)r[i].start,
				     (unsigned long long)r[i].last);
			return;
		}
	}

	probe = anon_alloc(PROBE_MAP_SIZE);
	if (!probe) {
		check_report(c, "window", false, "%s", last_error());
		return;
	}
	ret = ops->map(ops->ctx, probe, start, PROBE_MAP_SIZE);
	if (!ret) {
		ops->unmap(ops->ctx, start, PROBE_MAP_SIZE);
		anon_free(probe, PROBE_MAP_SIZE);
		check_report(c, "window", false,
			     "mapping user memory at %s IOVA 0x%llx succeeded",
			     what, (unsigned long long)start);
		return;
	}
	anon_free(probe, PROBE_MAP_SIZE);
	check_report(c, "window", true,
		     "%u range(s) exclude %s [0x%llx, 0x%llx]; map at 0x%llx refused (%s)",
		     n, what, (unsigned long long)start,
		     (unsigned long long)last, (unsigned long long)start,
		     strerror(-ret));
}

#define BAD_PAGE		0x1000ULL
#define BAD_AFTER_MSIS		50

void vt_badinput(struct check *c, struct vfio_dev *d,
		 const struct dma_ops *ops)
{
	static const struct {
		const char *what;
		uint64_t iova, len;
	} maps[] = {
		{ "into the window", MSI_WINDOW_BASE, BAD_PAGE },
		{ "over its start", MSI_WINDOW_BASE - BAD_PAGE, 2 * BAD_PAGE },
		{ "over its end", MSI_WINDOW_BASE + MSI_WINDOW_SIZE - BAD_PAGE,
		  2 * BAD_PAGE },
		{ "across it", MSI_WINDOW_BASE - BAD_PAGE,
		  MSI_WINDOW_SIZE + 2 * BAD_PAGE },
	};
	const size_t buf_len = MSI_WINDOW_SIZE + 2 * BAD_PAGE;
	char msg[MSG_LEN] = "";
	size_t used = 0, i;
	unsigned int got = 0;
	bool ok = true;
	void *buf;
	int ret;

	buf = anon_alloc(buf_len);
	if (!buf || vfio_dev_msi_enable(d)) {
		check_report(c, "badinput", false, "%s", last_error());
		anon_free(buf, buf_len);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		ret = ops->map(ops->ctx, buf, maps[i].iova, maps[i].len);
		if (!ret) {
			ops->unmap(ops->ctx, maps[i].iova, maps[i].len);
			ok = false;
		}
		used += (size_t)snprintf(msg + used, sizeof(msg) - used,
					 "map %s: %s; ", maps[i].what,
					 ret ? strerror(-ret) : "ACCEPTED");
	}
	anon_free(buf, buf_len);
	/* Nothing of the user's is there: the doorbell must survive. */
	ret = ops->unmap(ops->ctx, MSI_WINDOW_BASE, MSI_WINDOW_SIZE);
	used += (size_t)snprintf(msg + used, sizeof(msg) - used,
				 "unmap of the window: %s; ",
				 ret ? strerror(-ret) : "nothing unmapped");
	ret = edu_fire_msis(d, BAD_AFTER_MSIS, &got);
	if (ret || got != BAD_AFTER_MSIS)
		ok = false;
	snprintf(msg + used, sizeof(msg) - used, "then %u/%u MSIs delivered",
		 got, BAD_AFTER_MSIS);
	check_report(c, "badinput", ok, "%s", msg);
}

void vt_fire(struct check *c, const char *sub, struct vfio_dev *d,
	     unsigned int n)
{
	unsigned int got = 0;
	int ret;

	ret = vfio_dev_msi_enable(d);
	if (ret) {
		check_report(c, sub, false, "%s", last_error());
		return;
	}
	ret = edu_fire_msis(d, n, &got);
	e2e_log("%s: %u/%u MSIs delivered", c->name, got, n);
	check_report(c, sub, !ret && got == n, "%u/%u MSIs delivered%s%s",
		     got, n, ret ? ": " : "",
		     ret ? (ret == -ETIMEDOUT ? "timed out" : last_error())
			 : "");
}

void vt_msi(struct check *c, struct vfio_dev *d, unsigned int n)
{
	vt_fire(c, "msi", d, n);
}

void vt_doorbell(struct check *c, struct vfio_dev *d,
		 const struct e2e_opts *o)
{
	char msg[MSG_LEN];
	bool ok;

	if (d->efd < 0) {
		check_report(c, "doorbell", false, "MSI is not enabled");
		return;
	}
	ok = doorbell_verify(d->bdf, o, NULL, msg, sizeof(msg));
	check_report(c, "doorbell", ok, "%s", msg);
}

static uint8_t dma_pattern(unsigned int i)
{
	return (uint8_t)(i * 31 + 0x17) ^ (uint8_t)(i >> 8);
}

void vt_dma(struct check *c, struct vfio_dev *d, uint8_t *buf,
	    uint64_t iova)
{
	uint8_t *dst = buf + DMA_DST_OFF;
	uint32_t status = 0;
	uint64_t count = 0;
	unsigned int i;
	int ret, irq;

	if (!buf) {
		check_report(c, "dma", false, "DMA buffer is not mapped");
		return;
	}
	ret = vfio_dev_msi_enable(d);
	if (ret)
		goto fail;
	for (i = 0; i < DMA_XFER_LEN; i++)
		buf[i] = dma_pattern(i);
	memset(dst, DMA_POISON, DMA_XFER_LEN);

	/* RAM -> device, completion by polling the command register. */
	ret = edu_dma_start(d, iova, EDU_DEV_BUF, DMA_XFER_LEN,
			    EDU_DMA_CMD_RUN);
	if (!ret)
		ret = edu_dma_wait_idle(d, DMA_TIMEOUT_MS);
	if (ret)
		goto fail;

	/* device -> RAM, completion signalled by an MSI. */
	vfio_dev_msi_drain(d);
	ret = edu_dma_start(d, EDU_DEV_BUF, iova + DMA_DST_OFF, DMA_XFER_LEN,
			    EDU_DMA_CMD_RUN | EDU_DMA_CMD_TO_RAM |
			    EDU_DMA_CMD_IRQ);
	if (ret)
		goto fail;
	irq = vfio_dev_msi_wait(d, DMA_TIMEOUT_MS, &count);
	if (irq)
		edu_dma_wait_idle(d, DMA_TIMEOUT_MS);
	ret = edu_ack(d, &status);
	if (ret)
		goto fail;

	for (i = 0; i < DMA_XFER_LEN; i++)
		if (dst[i] != buf[i])
			break;
	if (i < DMA_XFER_LEN) {
		check_report(c, "dma", false,
			     "data mismatch at byte %u: got 0x%02x want 0x%02x (completion MSI %s, status 0x%x)",
			     i, dst[i], buf[i], irq ? "missing" : "seen",
			     status);
		return;
	}
	if (irq || !(status & EDU_IRQ_DMA)) {
		check_report(c, "dma", false,
			     "data ok but completion interrupt %s (status 0x%x)",
			     irq ? "never arrived" : "had no DMA bit", status);
		return;
	}
	check_report(c, "dma", true,
		     "%u bytes IOVA 0x%llx -> edu -> IOVA 0x%llx match; completion MSI seen (status 0x%x)",
		     DMA_XFER_LEN, (unsigned long long)iova,
		     (unsigned long long)(iova + DMA_DST_OFF), status);
	return;
fail:
	check_report(c, "dma", false, "%s", last_error());
}

void vt_reenable(struct check *c, struct vfio_dev *d, unsigned int n)
{
	unsigned int got = 0;
	int ret;

	ret = vfio_dev_msi_disable(d);
	if (!ret)
		ret = vfio_dev_msi_enable(d);
	if (ret) {
		check_report(c, "reenable", false, "%s", last_error());
		return;
	}
	ret = edu_fire_msis(d, n, &got);
	e2e_log("%s: after re-enable %u/%u MSIs delivered", c->name, got, n);
	check_report(c, "reenable", !ret && got == n,
		     "MSI disabled and re-enabled with a new eventfd; %u/%u MSIs delivered%s",
		     got, n, ret ? " (gave up)" : "");
}

static bool is_unmanaged(const struct msi_cookie *ck)
{
	return msi_cookie_is(ck, "UNMANAGED");
}

/* True if no UNMANAGED cookie lists the doorbell page; msg says which. */
static bool none_lists(const struct msi_listing *l, uint64_t pa, char *msg,
		       size_t len)
{
	const struct msi_doorbell *db = NULL;
	const struct msi_cookie *ck;
	unsigned int i, n = 0, nr = 0;

	for (i = 0; i < l->n; i++) {
		ck = &l->cookies[i];
		if (!is_unmanaged(ck) || !msi_cookie_count_phys(ck, pa, &db))
			continue;
		if (!n++) {
			nr = ck->nr;
			snprintf(msg, len,
				 "UNMANAGED cookie %u lists doorbell 0x%llx -> iova 0x%llx, users %u",
				 nr, (unsigned long long)db->phys,
				 (unsigned long long)db->iova, db->users);
		}
	}
	if (n > 1)
		snprintf(msg, len,
			 "%u UNMANAGED cookies list the doorbell page of 0x%llx (first: cookie %u)",
			 n, (unsigned long long)pa, nr);
	else if (!n)
		snprintf(msg, len,
			 "no UNMANAGED cookie (of %u cookie(s)) lists the doorbell page of 0x%llx",
			 l->n, (unsigned long long)pa);
	return !n;
}

/*
 * Translated mode: an UNMANAGED cookie maps the doorbell page to the
 * page of the device's MSI address, lists that doorbell once and counts
 * one user (edu has one vector).  Exactly one cookie may do so, unless
 * any is set.
 */
static bool maps_doorbell(const struct msi_listing *l, uint64_t pa,
			  uint64_t addr, bool any, char *msg, size_t len)
{
	const struct msi_doorbell *db, *good_db = NULL;
	const struct msi_cookie *ck, *good = NULL;
	unsigned int i, times, n_map = 0, n_good = 0;
	char bad[MSG_LEN] = "";

	for (i = 0; i < l->n; i++) {
		ck = &l->cookies[i];
		if (!is_unmanaged(ck))
			continue;
		db = msi_cookie_find(ck, pa, addr);
		if (!db)
			continue;
		n_map++;
		times = msi_cookie_count_phys(ck, pa, NULL);
		if (times == 1 && db->users == 1) {
			if (!n_good++) {
				good = ck;
				good_db = db;
			}
		} else if (!bad[0]) {
			snprintf(bad, sizeof(bad),
				 "UNMANAGED cookie %u lists the doorbell page %u time(s), users %u (expected once, 1 user)",
				 ck->nr, times, db->users);
		}
	}
	if (!n_map) {
		none_lists(l, pa, bad, sizeof(bad));
		snprintf(msg, len,
			 "no UNMANAGED cookie maps doorbell 0x%llx to the page of MSI address 0x%llx (%s)",
			 (unsigned long long)pa, (unsigned long long)addr, bad);
		return false;
	}
	if (!n_good) {
		snprintf(msg, len, "%s", bad);
		return false;
	}
	if (!any && n_map > 1) {
		snprintf(msg, len,
			 "%u UNMANAGED cookies map doorbell 0x%llx to the page of MSI address 0x%llx, expected one",
			 n_map, (unsigned long long)pa,
			 (unsigned long long)addr);
		return false;
	}
	/* The SMMUv3 has 4K and 64K granules: the MSI granule is PAGE_SIZE. */
	if (good->granule != (uint64_t)sysconf(_SC_PAGESIZE)) {
		snprintf(msg, len,
			 "UNMANAGED cookie %u has granule 0x%llx, expected the page size 0x%lx",
			 good->nr, (unsigned long long)good->granule,
			 sysconf(_SC_PAGESIZE));
		return false;
	}
	snprintf(msg, len,
		 "UNMANAGED cookie %u (owner %s, granule 0x%llx) maps doorbell 0x%llx -> iova 0x%llx (MSI address 0x%llx), users %u",
		 good->nr, good->owner, (unsigned long long)good->granule,
		 (unsigned long long)good_db->phys,
		 (unsigned long long)good_db->iova, (unsigned long long)addr,
		 good_db->users);
	return true;
}

/* Read the listing and log its UNMANAGED cookies; msg gets any error. */
static int read_listing(struct check *c, const char *when,
			struct msi_listing *l, char *msg, size_t len)
{
	char tag[PATH_LEN];
	int ret;

	ret = msi_listing_read(l);
	if (ret) {
		snprintf(msg, len, "%s", ret == -ENOENT ?
			 "no debugfs listing (" DEBUGFS_MSI " missing)" :
			 last_error());
		msi_listing_free(l);
		return ret;
	}
	snprintf(tag, sizeof(tag), "%s.debugfs %s", c->name, when);
	msi_listing_log(l, tag, is_unmanaged);
	return 0;
}

void vt_debugfs_on(struct check *c, struct vt_debugfs *v,
		   struct vfio_dev *d, const struct e2e_opts *o)
{
	const struct doorbell *db;
	struct msi_listing l;
	uint64_t addr = 0;

	/* MSI never came on: check_end() reports the subcheck as not run. */
	if (d->efd < 0)
		return;
	v->on_done = true;
	v->on_ok = false;
	if (doorbell_get(&db)) {
		snprintf(v->on_msg, sizeof(v->on_msg),
			 "no doorbell in the device tree");
		return;
	}
	v->pa = db->pa;
	if (o->translated && pci_msi_address(d->bdf, &addr, NULL)) {
		snprintf(v->on_msg, sizeof(v->on_msg), "%s", last_error());
		return;
	}
	if (read_listing(c, "with MSI on", &l, v->on_msg, sizeof(v->on_msg)))
		return;
	if (o->translated)
		v->on_ok = maps_doorbell(&l, v->pa, addr, v->any_cookie,
					 v->on_msg, sizeof(v->on_msg));
	else
		v->on_ok = none_lists(&l, v->pa, v->on_msg,
				      sizeof(v->on_msg));
	msi_listing_free(&l);
}

void vt_debugfs_off(struct check *c, struct vt_debugfs *v)
{
	struct msi_listing l;
	char msg[MSG_LEN];
	bool ok = false;

	if (!v->on_done)
		return;
	v->on_done = false;
	if (!v->pa) {
		snprintf(msg, sizeof(msg), "no doorbell in the device tree");
	} else if (!read_listing(c, "after MSI disable", &l, msg,
				 sizeof(msg))) {
		ok = none_lists(&l, v->pa, msg, sizeof(msg));
		msi_listing_free(&l);
	}
	check_report(c, "debugfs", v->on_ok && ok,
		     "with MSI on: %s; after MSI disable: %s", v->on_msg, msg);
}

void vt_release(struct check *c, struct vt_debugfs *v, struct vfio_dev *d)
{
	if (d->fd < 0)
		return;
	vfio_dev_release(d);
	vt_debugfs_off(c, v);
}

void vt_run_all(struct check *c, struct vfio_dev *d, uint8_t *buf,
		uint64_t iova, const struct e2e_opts *o, struct vt_debugfs *v)
{
	vt_msi(c, d, o->msis);
	/* Read the programmed address while MSI is live. */
	vt_doorbell(c, d, o);
	vt_debugfs_on(c, v, d, o);
	vt_dma(c, d, buf, iova);
	vt_reenable(c, d, o->msis);
}
