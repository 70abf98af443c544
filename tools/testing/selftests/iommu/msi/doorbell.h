/* SPDX-License-Identifier: GPL-2.0 */
/* Physical MSI doorbell from the device tree, and checks against it. */
#ifndef MSI_DOORBELL_H
#define MSI_DOORBELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOORBELL_PAGE_MASK	0xfffULL	/* 4 KiB translation granule */

struct doorbell {
	uint64_t pa;		/* the register devices write MSIs to */
	uint64_t base;		/* first reg address of the node */
	uint64_t size;		/* and its size, 0 if the node has none */
	const char *ctrl;	/* "GICv3 ITS" or "GICv2m" */
	const char *reg;	/* "GITS_TRANSLATER" or "MSI_SETSPI_NS" */
	char node[256];		/* device tree path */
};

/* Walks /proc/device-tree once; later calls return the cached result. */
int doorbell_get(const struct doorbell **db);

/*
 * Compares the MSI address the device was programmed with against the
 * physical doorbell.  translated: must differ but keep the page offset;
 * direct: must be equal.  msg gets the details, addr (optional) the
 * device's MSI address.
 */
bool doorbell_verify(const char *bdf, bool translated, uint64_t *addr,
		     char *msg, size_t len);

#endif
