// SPDX-License-Identifier: GPL-2.0
/*
 * The edu device under VFIO (type1 or iommufd), and the checks the MSI
 * selftests share.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debugfs_msi.h"
#include "doorbell.h"
#include "edu.h"
#include "pci.h"
#include "vfio_lib.h"

#define DMA_XFER_LEN		1024u
#define DMA_DST_OFF		0x2000u
#define DMA_TIMEOUT_MS		2000
#define DMA_POISON		0xa5
#define BAD_PAGE		0x1000ULL
#define BAD_AFTER_MSIS		50
/* A doorbell no MSI uses stays mapped this long, on lazy kernels. */
#define IDLE_MS_PARAM		"/sys/module/iommu_msi/parameters/idle_ms"
#define IDLE_SLACK_MS		1000
#define IDLE_POLL_MS		50

/* Larger edu transfers crash QEMU 7.2; stay well inside its buffer. */
static_assert(EDU_DEV_BUF_SIZE / 2 >= DMA_XFER_LEN, "edu DMA too large");
static_assert(DMA_BUF_IOVA + DMA_BUF_SIZE <= EDU_DMA_LIMIT,
	      "edu truncates DMA addresses to 28 bits");
static_assert(DMA_DST_OFF + DMA_XFER_LEN <= DMA_BUF_SIZE,
	      "DMA destination outside the buffer");

/* VFIO type1's and iommufd's (also behind /dev/vfio/vfio's compat). */
static const char *const unsafe_params[UNSAFE_PARAMS] = {
	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
	"/sys/module/iommufd/parameters/allow_unsafe_interrupts",
};

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

const char *unsafe_param(unsigned int n)
{
	return n < UNSAFE_PARAMS ? unsafe_params[n] : NULL;
}

const char *msi_backend_name(enum msi_backend backend)
{
	return backend == MSI_TYPE1 ? "VFIO type1" : "iommufd";
}

const char *msi_vfio_gate(enum msi_backend backend)
{
	return backend == MSI_TYPE1 ? "VFIO_SET_IOMMU" :
				      "VFIO_DEVICE_BIND_IOMMUFD";
}

/* Writes val to every allow_unsafe_interrupts there is; save: keep old. */
static int unsafe_write(struct msi_vfio *v, const char *val, bool save)
{
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < UNSAFE_PARAMS; i++) {
		if (!path_exists(unsafe_params[i]))
			continue;
		if (save && read_text(unsafe_params[i], v->unsafe_old[i],
				      sizeof(v->unsafe_old[i])) < 0)
			v->unsafe_old[i][0] = '\0';
		ret = write_text(unsafe_params[i], val);
		if (ret)
			return err_ret(ret, "write %s to %s", val,
				       unsafe_params[i]);
		n++;
	}
	if (!n)
		return err_ret(-ENOENT, "no allow_unsafe_interrupts parameter");
	msi_log("allow_unsafe_interrupts=%s (%u parameter(s))", val, n);
	return 0;
}

static void unsafe_restore(struct msi_vfio *v)
{
	unsigned int i;

	for (i = 0; i < UNSAFE_PARAMS; i++) {
		if (!v->unsafe_old[i][0])
			continue;
		if (write_text(unsafe_params[i], v->unsafe_old[i]))
			msi_log("cannot restore %s to %s", unsafe_params[i],
				v->unsafe_old[i]);
		v->unsafe_old[i][0] = '\0';
	}
}

/*
 * Bind, and attach to the IOMMU: type1 container, or (if attach) a new
 * iommufd IOAS.
 */
static int backend_open(struct msi_vfio *v, bool isolated, bool attach)
{
	int ret;

	if (!isolated) {
		ret = unsafe_write(v, "N", true);
		if (ret)
			return ret;
	}
	if (v->backend == MSI_TYPE1) {
		ret = type1_open(&v->t, v->bdf);
		v->tried = v->t.tried;
		v->first_err = v->t.first_err;
	} else {
		ret = iommufd_open(&v->x, v->bdf);
		v->tried = v->x.tried;
		v->first_err = v->x.first_err;
	}
	if (ret == -EPERM && v->tried && !isolated) {
		msi_log("%s refused %s: %s (MSIs not isolated)",
			msi_vfio_gate(v->backend), v->bdf, strerror(EPERM));
		ret = unsafe_write(v, "Y", false);
		if (!ret)
			ret = v->backend == MSI_TYPE1 ?
			      type1_set_iommu(&v->t) : iommufd_bind(&v->x);
		if (!ret)
			msi_log("%s accepted after allow_unsafe_interrupts=Y",
				msi_vfio_gate(v->backend));
	}
	if (ret || v->backend == MSI_TYPE1 || !attach)
		return ret;

	v->ic.iommufd = v->x.iommufd;
	ret = ioas_alloc(v->x.iommufd, &v->ic.ioas);
	if (!ret)
		ret = iommufd_attach_pt(&v->x, v->ic.ioas);
	return ret;
}

static void msi_vfio_init(struct msi_vfio *v, enum msi_backend backend,
			  const char *bdf)
{
	memset(v, 0, sizeof(*v));
	v->backend = backend;
	v->t.container = -1;
	v->t.group = -1;
	v->x.iommufd = -1;
	v->x.devfd = -1;
	v->ic.iommufd = -1;
	v->d.fd = -1;
	v->d.efd = -1;
	snprintf(v->bdf, sizeof(v->bdf), "%s", bdf);
	if (backend == MSI_TYPE1)
		v->ops = (struct dma_ops){ type1_map, type1_unmap, &v->t };
	else
		v->ops = (struct dma_ops){ ioas_map, ioas_unmap, &v->ic };
}

/* The device fd, memory decode and bus mastering on, an edu. */
static int device_open(struct msi_vfio *v)
{
	int ret, fd;

	fd = v->backend == MSI_TYPE1 ? type1_device_fd(&v->t) : v->x.devfd;
	if (fd < 0)
		return fd;
	ret = vfio_dev_init(&v->d, fd, v->bdf);
	return ret ? ret : edu_check_id(&v->d);
}

int msi_vfio_open(struct msi_vfio *v, enum msi_backend backend,
		  const char *bdf, bool isolated)
{
	int ret;

	msi_vfio_init(v, backend, bdf);
	ret = backend_open(v, isolated, true);
	if (ret)
		goto fail;
	v->buf = anon_alloc(DMA_BUF_SIZE);
	if (!v->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = v->ops.map(v->ops.ctx, v->buf, DMA_BUF_IOVA, DMA_BUF_SIZE);
	if (ret) {
		err_ret(ret, "map the DMA buffer at 0x%llx+0x%llx",
			(unsigned long long)DMA_BUF_IOVA,
			(unsigned long long)DMA_BUF_SIZE);
		anon_free(v->buf, DMA_BUF_SIZE);
		v->buf = NULL;
		goto fail;
	}
	ret = device_open(v);
	if (!ret)
		return 0;
fail:
	msi_vfio_close(v);
	return ret;
}

int msi_vfio_bind(struct msi_vfio *v, const char *bdf, bool isolated)
{
	int ret;

	msi_vfio_init(v, MSI_IOMMUFD, bdf);
	ret = backend_open(v, isolated, false);
	if (!ret)
		ret = device_open(v);
	if (ret)
		msi_vfio_close(v);
	return ret;
}

void msi_vfio_close(struct msi_vfio *v)
{
	vfio_dev_release(&v->d);
	/* iommufd: the device fd is the cdev, closed with the backend. */
	if (v->backend == MSI_TYPE1 && v->d.fd >= 0)
		close(v->d.fd);
	v->d.fd = -1;
	if (v->buf) {
		v->ops.unmap(v->ops.ctx, DMA_BUF_IOVA, DMA_BUF_SIZE);
		anon_free(v->buf, DMA_BUF_SIZE);
		v->buf = NULL;
	}
	if (v->backend == MSI_TYPE1) {
		type1_close(&v->t);
	} else {
		/* A replace may have moved the device: destroy the first IOAS too. */
		if (v->ic.ioas && v->ic.ioas != v->x.ioas && v->x.iommufd >= 0)
			iommufd_destroy(v->x.iommufd, v->ic.ioas);
		v->ic.ioas = 0;
		iommufd_close(&v->x);
	}
	unsafe_restore(v);
}

int msi_vfio_ranges(struct msi_vfio *v, struct iova_range **r,
		    unsigned int *n)
{
	if (v->backend == MSI_TYPE1)
		return type1_ranges(&v->t, r, n);
	return ioas_ranges(v->x.iommufd, v->ic.ioas, r, n);
}

static bool overlaps(const struct iova_range *r, uint64_t start,
		     uint64_t last)
{
	return r->start <= last && start <= r->last;
}

bool vt_window(const struct iova_range *r, unsigned int n, uint64_t start,
	       uint64_t size, const char *what, const struct dma_ops *ops,
	       char *msg, size_t len)
{
	uint64_t last = start + size - 1;
	unsigned int i;
	void *probe;
	int ret;

	for (i = 0; i < n; i++)
		msi_log("usable IOVA range %u: [0x%llx, 0x%llx]", i,
			(unsigned long long)r[i].start,
			(unsigned long long)r[i].last);
	if (!n) {
		snprintf(msg, len, "no usable IOVA ranges");
		return false;
	}
	for (i = 0; i < n; i++) {
		if (overlaps(&r[i], start, last)) {
			snprintf(msg, len,
				 "%s [0x%llx, 0x%llx] overlaps usable range [0x%llx, 0x%llx]",
				 what, (unsigned long long)start,
				 (unsigned long long)last,
				 (unsigned long long)r[i].start,
				 (unsigned long long)r[i].last);
			return false;
		}
	}
	probe = anon_alloc(PROBE_MAP_SIZE);
	if (!probe) {
		snprintf(msg, len, "%s", last_error());
		return false;
	}
	ret = ops->map(ops->ctx, probe, start, PROBE_MAP_SIZE);
	if (!ret)
		ops->unmap(ops->ctx, start, PROBE_MAP_SIZE);
	anon_free(probe, PROBE_MAP_SIZE);
	if (!ret) {
		snprintf(msg, len,
			 "mapping user memory at %s IOVA 0x%llx succeeded",
			 what, (unsigned long long)start);
		return false;
	}
	snprintf(msg, len,
		 "%u range(s) exclude %s [0x%llx, 0x%llx]; map at 0x%llx refused (%s)",
		 n, what, (unsigned long long)start, (unsigned long long)last,
		 (unsigned long long)start, strerror(-ret));
	return true;
}

bool vt_badinput(struct vfio_dev *d, const struct dma_ops *ops,
		 uint64_t start, uint64_t size, char *msg, size_t len)
{
	const struct {
		const char *what;
		uint64_t iova, len;
	} maps[] = {
		{ "into the window", start, BAD_PAGE },
		{ "over its start", start - BAD_PAGE, 2 * BAD_PAGE },
		{ "over its end", start + size - BAD_PAGE, 2 * BAD_PAGE },
		{ "across it", start - BAD_PAGE, size + 2 * BAD_PAGE },
	};
	const size_t buf_len = size + 2 * BAD_PAGE;
	size_t used = 0, i;
	unsigned int got = 0;
	bool ok = true;
	void *buf;
	int ret;

	msg[0] = '\0';
	buf = anon_alloc(buf_len);
	if (!buf || vfio_dev_msi_enable(d)) {
		snprintf(msg, len, "%s", last_error());
		anon_free(buf, buf_len);
		return false;
	}
	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		ret = ops->map(ops->ctx, buf, maps[i].iova, maps[i].len);
		if (!ret) {
			ops->unmap(ops->ctx, maps[i].iova, maps[i].len);
			ok = false;
		}
		used += (size_t)snprintf(msg + used, len - used,
					 "map %s (0x%llx+0x%llx): %s; ",
					 maps[i].what,
					 (unsigned long long)maps[i].iova,
					 (unsigned long long)maps[i].len,
					 ret ? strerror(-ret) : "ACCEPTED");
		if (used >= len)
			return false;
	}
	anon_free(buf, buf_len);
	/* Nothing of the user's is there: the doorbell must survive. */
	ret = ops->unmap(ops->ctx, start, size);
	used += (size_t)snprintf(msg + used, len - used,
				 "unmap of the window: %s; ",
				 ret ? strerror(-ret) : "nothing unmapped");
	if (used >= len)
		return false;
	ret = edu_fire_msis(d, BAD_AFTER_MSIS, &got);
	if (ret || got != BAD_AFTER_MSIS)
		ok = false;
	snprintf(msg + used, len - used, "then %u/%u MSIs delivered", got,
		 BAD_AFTER_MSIS);
	return ok;
}

int vt_fire(struct vfio_dev *d, unsigned int n, unsigned int *got)
{
	int ret;

	*got = 0;
	ret = vfio_dev_msi_enable(d);
	if (ret)
		return ret;
	ret = edu_fire_msis(d, n, got);
	msi_log("%s: %u/%u MSIs delivered%s%s", d->bdf, *got, n,
		ret ? ": " : "",
		ret ? (ret == -ETIMEDOUT ? "gave up" : last_error()) : "");
	return ret;
}

static uint8_t dma_pattern(unsigned int i)
{
	return (uint8_t)(i * 31 + 0x17) ^ (uint8_t)(i >> 8);
}

bool vt_dma(struct vfio_dev *d, uint8_t *buf, uint64_t iova, char *msg,
	    size_t len)
{
	uint8_t *dst = buf + DMA_DST_OFF;
	uint32_t status = 0;
	uint64_t count = 0;
	unsigned int i;
	int ret, irq;

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
		snprintf(msg, len,
			 "data mismatch at byte %u: got 0x%02x want 0x%02x (completion MSI %s, status 0x%x)",
			 i, dst[i], buf[i], irq ? "missing" : "seen", status);
		return false;
	}
	if (irq || !(status & EDU_IRQ_DMA)) {
		snprintf(msg, len,
			 "data ok but completion interrupt %s (status 0x%x)",
			 irq ? "never arrived" : "had no DMA bit", status);
		return false;
	}
	snprintf(msg, len,
		 "%u bytes IOVA 0x%llx -> edu -> IOVA 0x%llx match; completion MSI seen (status 0x%x)",
		 DMA_XFER_LEN, (unsigned long long)iova,
		 (unsigned long long)(iova + DMA_DST_OFF), status);
	return true;
fail:
	snprintf(msg, len, "%s", last_error());
	return false;
}

bool msi_debugfs_present(void)
{
	return path_exists(DEBUGFS_MSI);
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
static int read_listing(const char *when, struct msi_listing *l, char *msg,
			size_t len)
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
	snprintf(tag, sizeof(tag), "debugfs %s", when);
	msi_listing_log(l, tag, is_unmanaged);
	return 0;
}

bool vt_debugfs_on(struct vfio_dev *d, const struct msi_expect *e,
		   bool any_cookie, char *msg, size_t len)
{
	struct msi_listing l;
	uint64_t addr = 0;
	bool ok;

	if (!e->db) {
		snprintf(msg, len, "no doorbell in the device tree");
		return false;
	}
	if (e->translated && pci_msi_address(d->bdf, &addr, NULL)) {
		snprintf(msg, len, "%s", last_error());
		return false;
	}
	if (read_listing("with MSI on", &l, msg, len))
		return false;
	if (e->translated)
		ok = maps_doorbell(&l, e->db->pa, addr, any_cookie, msg, len);
	else
		ok = none_lists(&l, e->db->pa, msg, len);
	msi_listing_free(&l);
	return ok;
}

/* How long a doorbell no MSI uses may stay mapped (lazy unmap), in ms. */
static unsigned int idle_ms(void)
{
	char buf[32];

	if (read_text(IDLE_MS_PARAM, buf, sizeof(buf)) < 0)
		return 0;
	return (unsigned int)strtoul(buf, NULL, 10);
}

bool vt_debugfs_off(const struct msi_expect *e, char *msg, size_t len)
{
	unsigned int idle = idle_ms();
	uint64_t start = now_ms(), waited;
	struct msi_listing l;
	size_t used;
	bool ok;

	if (!e->db) {
		snprintf(msg, len, "no doorbell in the device tree");
		return false;
	}
	for (;;) {
		if (read_listing("after MSI disable", &l, msg, len))
			return false;
		ok = none_lists(&l, e->db->pa, msg, len);
		msi_listing_free(&l);
		waited = now_ms() - start;
		if (ok || waited > idle + IDLE_SLACK_MS)
			break;
		/* A kernel that unmaps lazily keeps it idle_ms. */
		sleep_ms(IDLE_POLL_MS);
	}
	used = strlen(msg);
	if (idle && used < len)
		snprintf(msg + used, len - used,
			 " (%s %llu ms after MSI disable; iommu_msi.idle_ms=%u)",
			 ok ? "gone" : "still there", (unsigned long long)waited,
			 idle);
	return ok;
}

int msi_edu_vfio_setup(char *bdf, struct msi_expect *e)
{
	int ret;

	if (geteuid())
		return err_ret(1, "needs root");
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf))
		return err_ret(1, "no edu device (%04x:%04x)", PCI_VENDOR_QEMU,
			       PCI_DEVICE_EDU);
	/* The IOMMU takes the device in (its group) when a driver binds. */
	ret = pci_bind(bdf, "vfio-pci");
	if (ret == -EOPNOTSUPP)
		return 1;
	if (ret)
		return ret;
	if (msi_expect_vfio(bdf, e))
		return 1;
	msi_expect_log(bdf, e);
	return 0;
}
