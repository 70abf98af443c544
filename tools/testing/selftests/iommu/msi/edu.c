// SPDX-License-Identifier: GPL-2.0
/* QEMU "edu" device registers, reached via VFIO. */
#include <errno.h>

#include "edu.h"
#include "util.h"

#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_IRQ_TEST		0x1	/* any bit works for a raise */
#define MSI_TIMEOUT_MS		1000
#define MSI_MAX_MISSES		3
#define DMA_POLL_MS		5

int edu_check_id(struct vfio_dev *d)
{
	uint32_t id;
	int ret;

	ret = vfio_dev_bar0_read32(d, EDU_REG_ID, &id);
	if (ret)
		return ret;
	msi_log("%s: edu id register 0x%08x", d->bdf, id);
	if (id != EDU_ID_VALUE)
		return err_ret(-ENODEV, "edu id 0x%08x, expected 0x%08x", id,
			       EDU_ID_VALUE);
	return 0;
}

int edu_ack(struct vfio_dev *d, uint32_t *status)
{
	uint32_t st;
	int ret;

	ret = vfio_dev_bar0_read32(d, EDU_REG_IRQ_STATUS, &st);
	if (ret)
		return ret;
	if (status)
		*status = st;
	return st ? vfio_dev_bar0_write32(d, EDU_REG_IRQ_ACK, st) : 0;
}

int edu_raise(struct vfio_dev *d)
{
	return vfio_dev_bar0_write32(d, EDU_REG_IRQ_RAISE, EDU_IRQ_TEST);
}

int edu_fire_msis(struct vfio_dev *d, unsigned int n, unsigned int *got)
{
	unsigned int i, misses = 0;
	uint64_t count;
	int ret;

	*got = 0;
	vfio_dev_msi_drain(d);
	for (i = 0; i < n; i++) {
		ret = edu_raise(d);
		if (ret)
			return ret;
		ret = vfio_dev_msi_wait(d, MSI_TIMEOUT_MS, &count);
		if (!ret) {
			misses = 0;
			*got += (unsigned int)count;
		} else if (ret == -ETIMEDOUT) {
			msi_log("%s: MSI %u/%u not delivered within %d ms",
				d->bdf, i + 1, n, MSI_TIMEOUT_MS);
			if (++misses >= MSI_MAX_MISSES) {
				msi_log("%s: %d misses in a row, giving up",
					d->bdf, MSI_MAX_MISSES);
				edu_ack(d, NULL);
				return -ETIMEDOUT;
			}
		} else {
			return ret;
		}
		ret = edu_ack(d, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

int edu_dma_start(struct vfio_dev *d, uint64_t src, uint64_t dst,
		  uint32_t len, uint32_t cmd)
{
	int ret;

	/*
	 * A 4-byte write to 0x80/0x88/0x90 sets the whole 64-bit register
	 * (zero-extended) in QEMU's edu; 0x84 etc. are ignored, so 32-bit
	 * addresses are written with one access each.
	 */
	if (src >> 32 || dst >> 32)
		return err_ret(-ERANGE, "edu DMA address above 4 GiB");
	ret = vfio_dev_bar0_write32(d, EDU_REG_DMA_SRC, (uint32_t)src);
	if (!ret)
		ret = vfio_dev_bar0_write32(d, EDU_REG_DMA_DST, (uint32_t)dst);
	if (!ret)
		ret = vfio_dev_bar0_write32(d, EDU_REG_DMA_CNT, len);
	if (!ret)
		ret = vfio_dev_bar0_write32(d, EDU_REG_DMA_CMD, cmd);
	return ret;
}

int edu_dma_wait_idle(struct vfio_dev *d, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	uint32_t cmd;
	int ret;

	for (;;) {
		ret = vfio_dev_bar0_read32(d, EDU_REG_DMA_CMD, &cmd);
		if (ret)
			return ret;
		if (!(cmd & EDU_DMA_CMD_RUN))
			return 0;
		if (now_ms() >= end)
			return err_ret(-ETIMEDOUT,
				       "edu DMA still running after %d ms (cmd 0x%x)",
				       timeout_ms, cmd);
		sleep_ms(DMA_POLL_MS);
	}
}
