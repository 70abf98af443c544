/* SPDX-License-Identifier: GPL-2.0 */
/* msi_e2e.* options from /proc/cmdline. */
#ifndef E2E_OPTS_H
#define E2E_OPTS_H

#include <stdbool.h>

#define MAX_CHECKS	16
#define CHECK_NAME_LEN	32
#define DEFAULT_MSIS	200
#define MAX_MSIS	100000

struct e2e_opts {
	char checks[MAX_CHECKS][CHECK_NAME_LEN];
	int nchecks;
	/* doorbell=translated: devices must target an IOVA, not the PA */
	bool translated;
	/* isolated=0: MSI controller cannot isolate (GICv2m) */
	bool isolated;
	unsigned int msis;
};

/* Fills o (defaults first); returns the number of bad options. */
int opts_parse(struct e2e_opts *o);

#endif
