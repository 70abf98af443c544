// SPDX-License-Identifier: GPL-2.0
/* What the platform promises for a device's MSIs (see platform.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doorbell.h"
#include "pci.h"
#include "platform.h"

#define RESV_LINE_LEN		128
#define DOORBELL_PAGE		0x1000ULL

/* The "msi" lines of the group's reserved_regions. */
struct resv_msi {
	bool sw, hw;		/* a region without / with the doorbell */
	uint64_t sw_start, sw_last, hw_start, hw_last;
};

/*
 * IOMMU_RESV_MSI and IOMMU_RESV_SW_MSI both read "msi".  A hardware MSI
 * region passes the MSI controller's own registers through untranslated,
 * so it lies inside the controller's frame; a software MSI window is IOVA
 * space and may be anywhere, even over the frame (QEMU virt: the SMMU's
 * 0x8000000 + 1 MiB holds the ITS frame).
 */
static bool in_frame(const struct doorbell *db, uint64_t start, uint64_t last)
{
	return db && db->size && start <= db->pa && db->pa <= last &&
	       db->base <= start && last - db->base < db->size;
}

static int read_resv_msi(const char *bdf, const struct doorbell *db,
			 struct resv_msi *r)
{
	unsigned long long start, last;
	char path[PATH_LEN], line[RESV_LINE_LEN], type[32];
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s/iommu_group/reserved_regions",
		 PCI_SYSFS, bdf);
	f = fopen(path, "re");
	if (!f)
		return err_ret(-errno, "open %s", path);
	while (fgets(line, sizeof(line), f)) {
		msi_log("%s: reserved region %s", bdf, strtok(line, "\n"));
		if (sscanf(line, "%llx %llx %31s", &start, &last, type) != 3 ||
		    strcmp(type, "msi"))
			continue;
		if (in_frame(db, start, last)) {
			r->hw = true;
			r->hw_start = start;
			r->hw_last = last;
		} else if (!r->sw) {
			r->sw = true;
			r->sw_start = start;
			r->sw_last = last;
		}
	}
	fclose(f);
	return 0;
}

static int read_group(const char *bdf, struct msi_expect *e)
{
	char path[PATH_LEN];
	int ret;

	e->group = -1;
	e->group_type[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s/iommu_group", PCI_SYSFS, bdf);
	if (!path_exists(path))
		return -ENODEV;
	ret = pci_iommu_group(bdf, &e->group);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s/iommu_group/type", PCI_SYSFS, bdf);
	if (read_text(path, e->group_type, sizeof(e->group_type)) < 0)
		e->group_type[0] = '\0';
	return 0;
}

/* GICv2m cannot tell devices apart by their MSI writes; the ITS can. */
static void expect_isolation(struct msi_expect *e)
{
	const char *env = getenv("MSI_E2E_ISOLATED");

	if (env && (!strcmp(env, "0") || !strcmp(env, "1"))) {
		e->isolated = *env == '1';
		snprintf(e->why_isolated, sizeof(e->why_isolated),
			 "MSI_E2E_ISOLATED=%s", env);
		return;
	}
	if (e->db && !strcmp(e->db->ctrl, "GICv2m")) {
		e->isolated = false;
		snprintf(e->why_isolated, sizeof(e->why_isolated),
			 "the MSI controller is a GICv2m frame (%s): no isolation",
			 e->db->node);
		return;
	}
	e->isolated = true;
	snprintf(e->why_isolated, sizeof(e->why_isolated), "%s%s",
		 e->db ? "the MSI controller is a " : "no GICv2m frame in the device tree",
		 e->db ? e->db->ctrl : "");
}

/* MSI_E2E_DOORBELL overrides what sysfs said; true if it did. */
static bool doorbell_override(struct msi_expect *e)
{
	const char *env = getenv("MSI_E2E_DOORBELL");

	if (!env || (strcmp(env, "translated") && strcmp(env, "direct")))
		return false;
	e->translated = !strcmp(env, "translated");
	snprintf(e->why_translated, sizeof(e->why_translated),
		 "MSI_E2E_DOORBELL=%s", env);
	return true;
}

static void expect_init(struct msi_expect *e)
{
	memset(e, 0, sizeof(*e));
	e->group = -1;
	if (doorbell_get(&e->db))
		e->db = NULL;
	expect_isolation(e);
}

/* The window for a direct doorbell: its hardware region, or its page. */
static void direct_window(struct msi_expect *e, const struct resv_msi *r)
{
	if (r->hw) {
		e->win_start = r->hw_start;
		e->win_size = r->hw_last - r->hw_start + 1;
	} else if (e->db) {
		e->win_start = e->db->pa & ~(DOORBELL_PAGE - 1);
		e->win_size = DOORBELL_PAGE;
	}
}

/* The overrides, then the window the MSIs must sit in (or avoid). */
static void expect_window(struct msi_expect *e, const struct resv_msi *r)
{
	doorbell_override(e);
	if (e->translated && r->sw) {
		e->win_start = r->sw_start;
		e->win_size = r->sw_last - r->sw_start + 1;
	} else if (!e->translated) {
		direct_window(e, r);
	}
}

int msi_expect_vfio(const char *bdf, struct msi_expect *e)
{
	struct resv_msi r;
	int ret;

	expect_init(e);
	ret = read_group(bdf, e);
	if (ret)
		return err_ret(ret, "%s has no IOMMU group", bdf);
	ret = read_resv_msi(bdf, e->db, &r);
	if (ret)
		return ret;
	if (r.hw) {
		e->translated = false;
		snprintf(e->why_translated, sizeof(e->why_translated),
			 "the doorbell is in the hardware MSI region [0x%llx, 0x%llx] of group %d",
			 (unsigned long long)r.hw_start,
			 (unsigned long long)r.hw_last, e->group);
	} else if (r.sw) {
		e->translated = true;
		snprintf(e->why_translated, sizeof(e->why_translated),
			 "group %d reserves the software MSI window [0x%llx, 0x%llx]",
			 e->group, (unsigned long long)r.sw_start,
			 (unsigned long long)r.sw_last);
	} else {
		e->translated = false;
		snprintf(e->why_translated, sizeof(e->why_translated),
			 "group %d reports no MSI region", e->group);
	}
	expect_window(e, &r);
	return 0;
}

int msi_expect_dma(const char *bdf, struct msi_expect *e)
{
	struct resv_msi r = { 0 };
	bool dma;
	int ret;

	expect_init(e);
	ret = read_group(bdf, e);
	if (ret == -ENODEV) {
		e->translated = false;
		snprintf(e->why_translated, sizeof(e->why_translated),
			 "%s is behind no IOMMU", bdf);
		doorbell_override(e);
		return 0;
	}
	if (ret)
		return ret;
	ret = read_resv_msi(bdf, e->db, &r);
	if (ret)
		return ret;
	dma = !strcmp(e->group_type, "DMA") ||
	      !strcmp(e->group_type, "DMA-FQ");
	e->translated = dma && !r.hw;
	snprintf(e->why_translated, sizeof(e->why_translated),
		 "the default domain of group %d is %s%s", e->group,
		 e->group_type[0] ? e->group_type : "(unknown)",
		 r.hw ? ", the doorbell in its hardware MSI region" : "");
	expect_window(e, &r);
	return 0;
}

void msi_expect_log(const char *bdf, const struct msi_expect *e)
{
	if (e->db)
		msi_log("%s: doorbell %s %s at PA 0x%llx (%s)", bdf,
			e->db->ctrl, e->db->reg,
			(unsigned long long)e->db->pa, e->db->node);
	else
		msi_log("%s: no MSI controller (GICv3 ITS, GICv2m, FSL MPIC) in the device tree",
			bdf);
	msi_log("%s: MSIs %sisolated: %s", bdf, e->isolated ? "" : "not ",
		e->why_isolated);
	msi_log("%s: doorbell %s: %s; window 0x%llx+0x%llx", bdf,
		e->translated ? "translated" : "direct", e->why_translated,
		(unsigned long long)e->win_start,
		(unsigned long long)e->win_size);
}

unsigned int msi_count(void)
{
	const char *env = getenv("MSI_E2E_MSIS");
	unsigned long n;
	char *end;

	if (!env)
		return DEFAULT_MSIS;
	errno = 0;
	n = strtoul(env, &end, 0);
	if (errno || *end || !n || n > MAX_MSIS) {
		msi_log("MSI_E2E_MSIS=%s ignored (1..%u)", env, MAX_MSIS);
		return DEFAULT_MSIS;
	}
	return (unsigned int)n;
}
