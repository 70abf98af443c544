/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the platform promises for a device's MSIs, read from the device
 * tree and sysfs: whether the MSI controller isolates devices, and whether
 * the IOMMU translates the doorbell (and through which window).
 *
 * Where the platform cannot tell, environment variables override it (the
 * e2e guest's /init sets them from msi_e2e.<name>=<value> on the kernel
 * command line):
 *   MSI_E2E_ISOLATED=0|1            MSI isolation
 *   MSI_E2E_DOORBELL=translated|direct
 *   MSI_E2E_MSIS=<n>                MSIs per firing test (default 200)
 */
#ifndef MSI_PLATFORM_H
#define MSI_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "doorbell.h"
#include "util.h"

#define DEFAULT_MSIS		200
#define MAX_MSIS		100000
#define WHY_LEN			384

struct msi_expect {
	const struct doorbell *db;	/* NULL: no MSI controller found */
	bool isolated;
	bool translated;
	/*
	 * translated: the software MSI window (IOMMU_RESV_SW_MSI) doorbells
	 * are mapped in; direct: the hardware MSI region holding the
	 * doorbell, or the doorbell page.  0/0 if the IOMMU reports none.
	 */
	uint64_t win_start, win_size;
	int group;			/* IOMMU group, -1 if none */
	char group_type[32];		/* "DMA", "identity", ... or "" */
	char why_isolated[WHY_LEN];	/* how each answer was found */
	char why_translated[WHY_LEN];
};

/*
 * For a device VFIO or iommufd is to own: its domain will be UNMANAGED,
 * so the doorbell is translated iff the group has a software MSI window.
 * -ENODEV (with last_error()) if the device has no IOMMU group.  On
 * device tree platforms the IOMMU takes a device in when a driver binds
 * it: bind it to vfio-pci first.
 */
int msi_expect_vfio(const char *bdf, struct msi_expect *e);

/*
 * For a device its kernel driver owns through the DMA API: translated iff
 * its default domain translates (DMA, DMA-FQ) and the doorbell is not in a
 * hardware MSI region.  No IOMMU group: untranslated.
 */
int msi_expect_dma(const char *bdf, struct msi_expect *e);

/* Logs the expectation as diagnostics. */
void msi_expect_log(const char *bdf, const struct msi_expect *e);

/* MSI_E2E_MSIS, or DEFAULT_MSIS. */
unsigned int msi_count(void);

#endif
