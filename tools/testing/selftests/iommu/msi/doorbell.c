// SPDX-License-Identifier: GPL-2.0
/* Physical MSI doorbell from the device tree, and checks against it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "doorbell.h"
#include "pci.h"
#include "util.h"

#ifndef DT_ROOT		/* overridable for host-side unit testing */
#define DT_ROOT			"/proc/device-tree"
#endif
#define DT_MAX_DEPTH		16
#define DT_PROP_LEN		1024
#define DT_DEFAULT_ADDR_CELLS	2	/* devicetree spec default */
#define DT_DEFAULT_SIZE_CELLS	1
#define DT_MAX_ADDR_CELLS	2	/* a 64-bit address at most */

#define COMPAT_ITS		"arm,gic-v3-its"
#define COMPAT_V2M		"arm,gic-v2m-frame"
#define COMPAT_FSL_MSI		"fsl,mpic-msi"
#define GITS_TRANSLATER		0x10040	/* in the ITS frame (GICv3 spec) */
#define V2M_MSI_SETSPI_NS	0x40	/* in the v2m frame */
/*
 * FSL MPIC: MSIIR is 0x140 into the MSI register bank; PCI devices reach
 * the CCSR block through the host bridge's BAR0 (PEXCSRBAR), at the same
 * offset (within 1 MiB) as the bank's reg.
 */
#define FSL_MSIIR		0x140
#define FSL_CCSR_OFFSET_MASK	0xfffffULL
#define FSL_HOST_BRIDGE		"0000:00:00.0"
#define PCI_BAR0		0x10
#define PCI_BAR_MEM_MASK	(~0xfULL)

struct dt_found {
	bool its, v2m, fsl;
	struct doorbell its_db, v2m_db, fsl_db;
};

static bool has_compat(const char *prop, int len, const char *want)
{
	int off = 0;

	/* "compatible" is a list of NUL-terminated strings. */
	while (off < len) {
		if (!strcmp(prop + off, want))
			return true;
		off += (int)strlen(prop + off) + 1;
	}
	return false;
}

static bool node_enabled(const char *dir)
{
	char path[PATH_LEN], status[32];

	snprintf(path, sizeof(path), "%s/status", dir);
	if (read_text(path, status, sizeof(status)) < 0)
		return true;	/* no status property: enabled */
	return !strcmp(status, "okay") || !strcmp(status, "ok");
}

static unsigned int be_cells(const uint8_t *p, unsigned int cells,
			     uint64_t *val)
{
	unsigned int i;

	*val = 0;
	for (i = 0; i < cells * 4; i++)
		*val = *val << 8 | p[i];
	return cells * 4;
}

static void dt_check_node(const char *dir, unsigned int addr_cells,
			  unsigned int size_cells, struct dt_found *f)
{
	char path[PATH_LEN], prop[DT_PROP_LEN];
	uint8_t reg[2 * DT_MAX_ADDR_CELLS * 4];
	struct doorbell *db;
	const char *rel;
	uint64_t base, size = 0;
	bool its, v2m, fsl;
	int n;

	snprintf(path, sizeof(path), "%s/compatible", dir);
	n = read_bin(path, prop, sizeof(prop) - 1);
	if (n <= 0)
		return;
	prop[n] = '\0';
	its = has_compat(prop, n, COMPAT_ITS);
	v2m = has_compat(prop, n, COMPAT_V2M);
	fsl = has_compat(prop, n, COMPAT_FSL_MSI);
	if ((!its && !v2m && !fsl) || !node_enabled(dir))
		return;
	if ((its && f->its) || (v2m && f->v2m) || (fsl && f->fsl))
		return;		/* keep the first frame found */
	if (addr_cells < 1 || addr_cells > DT_MAX_ADDR_CELLS ||
	    size_cells > DT_MAX_ADDR_CELLS) {
		msi_log("device tree: %s has #address-cells %u, #size-cells %u, skipped",
			dir, addr_cells, size_cells);
		return;
	}
	snprintf(path, sizeof(path), "%s/reg", dir);
	n = read_bin(path, reg, (addr_cells + size_cells) * 4);
	if (n < (int)(addr_cells * 4)) {
		msi_log("device tree: %s has no usable reg", dir);
		return;
	}
	be_cells(reg, addr_cells, &base);
	if (n >= (int)((addr_cells + size_cells) * 4))
		be_cells(reg + addr_cells * 4, size_cells, &size);

	if (its) {
		db = &f->its_db;
		db->pa = base + GITS_TRANSLATER;
		db->ctrl = "GICv3 ITS";
		db->reg = "GITS_TRANSLATER";
		f->its = true;
	} else if (v2m) {
		db = &f->v2m_db;
		db->pa = base + V2M_MSI_SETSPI_NS;
		db->ctrl = "GICv2m";
		db->reg = "MSI_SETSPI_NS";
		f->v2m = true;
	} else {
		/* Completed by fsl_pci_view() once PCI is up. */
		db = &f->fsl_db;
		db->pa = (base & FSL_CCSR_OFFSET_MASK) + FSL_MSIIR;
		db->ctrl = "FSL MPIC";
		db->reg = "MSIIR";
		f->fsl = true;
	}
	db->base = base;
	db->size = size;
	rel = dir + strlen(DT_ROOT);
	snprintf(db->node, sizeof(db->node), "%s", *rel ? rel : "/");
}

/* Moves the MSIIR offset into the host bridge's window onto CCSR. */
static int fsl_pci_view(struct doorbell *db)
{
	char path[PATH_LEN];
	uint8_t cfg[PCI_BAR0 + 4];
	uint64_t bar = 0;
	int i;

	snprintf(path, sizeof(path), "%s/%s/config", PCI_SYSFS,
		 FSL_HOST_BRIDGE);
	if (read_bin(path, cfg, sizeof(cfg)) != (int)sizeof(cfg))
		return err_ret(-EIO, "cannot read BAR0 of host bridge %s",
			       FSL_HOST_BRIDGE);
	for (i = 3; i >= 0; i--)	/* PCI config space is little endian */
		bar = bar << 8 | cfg[PCI_BAR0 + i];
	db->pa += bar & PCI_BAR_MEM_MASK;
	return 0;
}

/* #address-cells or #size-cells of dir's children (prop), or dflt. */
static unsigned int child_cells(const char *dir, const char *prop,
				unsigned int dflt)
{
	char path[PATH_LEN];
	uint8_t cells[4];
	uint64_t v;

	snprintf(path, sizeof(path), "%s/%s", dir, prop);
	if (read_bin(path, cells, sizeof(cells)) != sizeof(cells))
		return dflt;
	be_cells(cells, 1, &v);
	return (unsigned int)v;
}

static bool is_dir(const char *parent, const struct dirent *de)
{
	char path[PATH_LEN];
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void dt_walk(const char *dir, unsigned int addr_cells,
		    unsigned int size_cells, int depth, struct dt_found *f)
{
	unsigned int cells, scells;
	struct dirent *de;
	char path[PATH_LEN];
	DIR *d;

	if (depth > DT_MAX_DEPTH)
		return;
	dt_check_node(dir, addr_cells, size_cells, f);
	cells = child_cells(dir, "#address-cells", DT_DEFAULT_ADDR_CELLS);
	scells = child_cells(dir, "#size-cells", DT_DEFAULT_SIZE_CELLS);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !is_dir(dir, de))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		dt_walk(path, cells, scells, depth + 1, f);
	}
	closedir(d);
}

int doorbell_get(const struct doorbell **db)
{
	static struct dt_found found;
	static bool walked;

	if (!walked) {
		walked = true;
		dt_walk(DT_ROOT, DT_DEFAULT_ADDR_CELLS, DT_DEFAULT_SIZE_CELLS,
			0, &found);
		if (found.its && found.v2m)
			msi_log("device tree has both an ITS and a v2m frame; using the ITS");
		if (found.fsl && fsl_pci_view(&found.fsl_db)) {
			msi_log("FSL MPIC MSI: %s", last_error());
			found.fsl = false;
		}
	}
	/* An ITS is the MSI parent whenever one exists on QEMU virt. */
	if (found.its) {
		*db = &found.its_db;
		return 0;
	}
	if (found.v2m) {
		*db = &found.v2m_db;
		return 0;
	}
	if (found.fsl) {
		*db = &found.fsl_db;
		return 0;
	}
	*db = NULL;
	return -ENOENT;
}

bool doorbell_verify(const char *bdf, bool translated, uint64_t *addr_out,
		     char *msg, size_t len)
{
	const struct doorbell *db;
	const char *how = "MSI";
	uint64_t addr;
	unsigned int off_dev, off_db;
	int ret;

	if (doorbell_get(&db)) {
		snprintf(msg, len, "no %s, %s or %s node in the device tree",
			 COMPAT_ITS, COMPAT_V2M, COMPAT_FSL_MSI);
		return false;
	}
	ret = pci_msi_address(bdf, &addr, &how);
	if (ret) {
		snprintf(msg, len, "cannot read %s MSI address: %s", bdf,
			 last_error());
		return false;
	}
	if (addr_out)
		*addr_out = addr;
	off_dev = (unsigned int)(addr & DOORBELL_PAGE_MASK);
	off_db = (unsigned int)(db->pa & DOORBELL_PAGE_MASK);

	if (!translated) {
		snprintf(msg, len,
			 "%s address 0x%llx %s physical doorbell 0x%llx (%s %s)",
			 how, (unsigned long long)addr,
			 addr == db->pa ? "equals" : "differs from",
			 (unsigned long long)db->pa, db->ctrl, db->reg);
		return addr == db->pa;
	}
	if (addr == db->pa) {
		snprintf(msg, len,
			 "%s address 0x%llx is the physical doorbell itself, expected an IOVA",
			 how, (unsigned long long)addr);
		return false;
	}
	snprintf(msg, len,
		 "%s address 0x%llx is an IOVA; physical doorbell 0x%llx (%s %s); page offset 0x%03x vs 0x%03x%s",
		 how, (unsigned long long)addr, (unsigned long long)db->pa,
		 db->ctrl, db->reg, off_dev, off_db,
		 off_dev == off_db ? " preserved" : " NOT preserved");
	return off_dev == off_db;
}
