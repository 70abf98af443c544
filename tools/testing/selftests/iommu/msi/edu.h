/* SPDX-License-Identifier: GPL-2.0 */
/* QEMU "edu" device registers (docs/specs/edu.txt), reached via VFIO. */
#ifndef MSI_EDU_H
#define MSI_EDU_H

#include <stdint.h>
#include <linux/const.h>

#include "vfio_dev.h"

#define EDU_ID_VALUE		0x010000edu

/* Device-side DMA buffer: 4 KiB at this device address. */
#define EDU_DEV_BUF		0x40000ULL
#define EDU_DEV_BUF_SIZE	4096ULL
/* edu masks DMA addresses to 28 bits: IOVAs must stay below 256 MiB. */
#define EDU_DMA_LIMIT		_BITULL(28)

#define EDU_DMA_CMD_RUN		0x1
#define EDU_DMA_CMD_TO_RAM	0x2	/* device buffer -> RAM */
#define EDU_DMA_CMD_IRQ		0x4	/* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA		0x100

/* Reads the identification register; 0 iff it is EDU_ID_VALUE. */
int edu_check_id(struct vfio_dev *d);

/* Raise the test interrupt once: one MSI, acknowledge with edu_ack(). */
int edu_raise(struct vfio_dev *d);

/*
 * Fire n MSIs one at a time (each write to the raise register sends one),
 * waiting for each on the eventfd.  *got is the eventfd count sum.
 * Gives up after a few consecutive misses so a dead path cannot hang.
 */
int edu_fire_msis(struct vfio_dev *d, unsigned int n, unsigned int *got);

/* Read the interrupt status and write it back to acknowledge. */
int edu_ack(struct vfio_dev *d, uint32_t *status);

/* Program and start one DMA transfer (addresses < 4 GiB). */
int edu_dma_start(struct vfio_dev *d, uint64_t src, uint64_t dst,
		  uint32_t len, uint32_t cmd);
/* Poll the command register until the run bit clears. */
int edu_dma_wait_idle(struct vfio_dev *d, int timeout_ms);

#endif
