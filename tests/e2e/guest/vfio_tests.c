// SPDX-License-Identifier: GPL-2.0
/* edu subtests shared by the type1 and iommufd checks. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "doorbell.h"
#include "edu.h"
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

void vt_msi(struct check *c, struct vfio_dev *d, unsigned int n)
{
	unsigned int got = 0;
	int ret;

	ret = vfio_dev_msi_enable(d);
	if (ret) {
		check_report(c, "msi", false, "%s", last_error());
		return;
	}
	ret = edu_fire_msis(d, n, &got);
	e2e_log("%s: %u/%u MSIs delivered", c->name, got, n);
	check_report(c, "msi", !ret && got == n, "%u/%u MSIs delivered%s%s",
		     got, n, ret ? ": " : "",
		     ret ? (ret == -ETIMEDOUT ? "timed out" : last_error())
			 : "");
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

void vt_run_all(struct check *c, struct vfio_dev *d, uint8_t *buf,
		uint64_t iova, const struct e2e_opts *o)
{
	vt_msi(c, d, o->msis);
	/* Read the programmed address while MSI is live. */
	vt_doorbell(c, d, o);
	vt_dma(c, d, buf, iova);
	vt_reenable(c, d, o->msis);
}
