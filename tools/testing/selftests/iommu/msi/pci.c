// SPDX-License-Identifier: GPL-2.0
/* PCI devices through sysfs: lookup, driver binding, config, MSI address. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmio.h"
#include "pci.h"
#include "util.h"

#define BIND_WAIT_MS		2000
#define BIND_POLL_MS		10

/* Config space layout (PCI Local Bus spec) */
#define CFG_HDR_LEN		256
#define CFG_STATUS		0x06
#define CFG_STATUS_CAP_LIST	0x10
#define CFG_CAP_PTR		0x34
#define CFG_CAP_PTR_MASK	0xfc
#define CFG_CAP_MAX		48	/* bound the walk on a broken list */

#define CAP_ID_MSI		0x05
#define CAP_ID_MSIX		0x11

#define MSI_CTRL		2
#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_64BIT		0x0080
#define MSI_ADDR_LO		4
#define MSI_ADDR_HI		8

#define MSIX_CTRL		2
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_SIZE_MASK	0x07ff
#define MSIX_TABLE		4
#define MSIX_TABLE_BIR_MASK	0x7
#define MSIX_ENTRY_SIZE		16
#define MSIX_ENTRY_ADDR_LO	0
#define MSIX_ENTRY_ADDR_HI	4
#define MSIX_ENTRY_CTRL		12
#define MSIX_ENTRY_MASKED	0x1

static int dev_path(char *buf, size_t len, const char *bdf, const char *leaf)
{
	int n = snprintf(buf, len, "%s/%s/%s", PCI_SYSFS, bdf, leaf);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int dev_hex(const char *bdf, const char *leaf, unsigned long *val)
{
	char path[PATH_LEN];
	int ret;

	ret = dev_path(path, sizeof(path), bdf, leaf);
	return ret ? ret : read_hex(path, val);
}

typedef int (*pci_match_fn)(const char *bdf, const void *arg);

struct pci_id {
	unsigned int vendor, device;
};

static int match_id(const char *bdf, const void *arg)
{
	const struct pci_id *id = arg;
	unsigned long v, d;

	if (dev_hex(bdf, "vendor", &v) || dev_hex(bdf, "device", &d))
		return 0;
	return v == id->vendor && d == id->device;
}

static int match_class(const char *bdf, const void *arg)
{
	unsigned long cls;

	if (dev_hex(bdf, "class", &cls))
		return 0;
	return cls == *(const unsigned int *)arg;
}

static int pci_find(pci_match_fn match, const void *arg, char *bdf)
{
	struct dirent *de;
	int ret = -ENODEV;
	DIR *d;

	d = opendir(PCI_SYSFS);
	if (!d)
		return err_ret(-errno, "opendir %s", PCI_SYSFS);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= BDF_LEN)
			continue;
		if (match(de->d_name, arg)) {
			strcpy(bdf, de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int pci_find_id(unsigned int vendor, unsigned int device, char *bdf)
{
	struct pci_id id = { vendor, device };

	return pci_find(match_id, &id, bdf);
}

int pci_find_class(unsigned int class, char *bdf)
{
	return pci_find(match_class, &class, bdf);
}

static int current_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_LEN];
	int ret;

	ret = dev_path(path, sizeof(path), bdf, "driver");
	if (ret)
		return ret;
	ret = link_basename(path, buf, len);
	if (ret == -ENOENT)
		buf[0] = '\0';
	return ret == -ENOENT ? 0 : ret;
}

int pci_unbind(const char *bdf)
{
	char path[PATH_LEN], drv[PATH_LEN];
	int ret;

	ret = current_driver(bdf, drv, sizeof(drv));
	if (ret)
		return err_ret(ret, "%s: read driver link", bdf);
	if (drv[0]) {
		dev_path(path, sizeof(path), bdf, "driver/unbind");
		ret = write_text(path, bdf);
		if (ret)
			return err_ret(ret, "unbind %s from %s", bdf, drv);
	}
	/* An empty write clears the override for whoever binds next. */
	dev_path(path, sizeof(path), bdf, "driver_override");
	ret = write_text(path, "\n");
	if (ret)
		return err_ret(ret, "clear %s", path);
	return 0;
}

int pci_bind(const char *bdf, const char *driver)
{
	char path[PATH_LEN], drv[PATH_LEN];
	uint64_t end;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", driver);
	if (!path_exists(path))
		return err_ret(-EOPNOTSUPP, "driver %s not registered (%s)",
			       driver, path);
	ret = current_driver(bdf, drv, sizeof(drv));
	if (ret)
		return err_ret(ret, "%s: read driver link", bdf);
	if (!strcmp(drv, driver))
		return 0;
	if (drv[0]) {
		msi_log("unbinding %s from %s", bdf, drv);
		dev_path(path, sizeof(path), bdf, "driver/unbind");
		ret = write_text(path, bdf);
		if (ret)
			return err_ret(ret, "unbind %s from %s", bdf, drv);
	}
	dev_path(path, sizeof(path), bdf, "driver_override");
	ret = write_text(path, driver);
	if (ret)
		return err_ret(ret, "write %s to %s", driver, path);
	ret = write_text("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return err_ret(ret, "drivers_probe %s", bdf);

	end = now_ms() + BIND_WAIT_MS;
	do {
		ret = current_driver(bdf, drv, sizeof(drv));
		if (!ret && !strcmp(drv, driver)) {
			msi_log("%s bound to %s", bdf, driver);
			return 0;
		}
		sleep_ms(BIND_POLL_MS);
	} while (now_ms() < end);
	return err_ret(-ENODEV, "%s did not bind to %s (driver now '%s')",
		       bdf, driver, drv);
}

int pci_iommu_group(const char *bdf, int *group)
{
	char path[PATH_LEN], name[64];
	int ret;

	dev_path(path, sizeof(path), bdf, "iommu_group");
	ret = link_basename(path, name, sizeof(name));
	if (ret)
		return err_ret(ret, "%s has no IOMMU group (%s)", bdf, path);
	if (sscanf(name, "%d", group) != 1)
		return err_ret(-EINVAL, "bad iommu_group name '%s'", name);
	return 0;
}

int pci_iommu_name(const char *bdf, char *buf, size_t len)
{
	char path[PATH_LEN];

	dev_path(path, sizeof(path), bdf, "iommu");
	return link_basename(path, buf, len);
}

static int read_config(const char *bdf, uint8_t *cfg, size_t len)
{
	char path[PATH_LEN];
	int n;

	dev_path(path, sizeof(path), bdf, "config");
	n = read_bin(path, cfg, len);
	if (n < 0)
		return err_ret(n, "read %s", path);
	if ((size_t)n < len)
		return err_ret(-EIO, "short read of %s (%d bytes)", path, n);
	return 0;
}

static uint16_t cfg16(const uint8_t *cfg, unsigned int off)
{
	return (uint16_t)(cfg[off] | cfg[off + 1] << 8);
}

static uint32_t cfg32(const uint8_t *cfg, unsigned int off)
{
	return (uint32_t)cfg16(cfg, off) | (uint32_t)cfg16(cfg, off + 2) << 16;
}

/* Offset of capability id in the legacy list, or 0 if absent. */
static unsigned int find_cap(const uint8_t *cfg, uint8_t id)
{
	unsigned int pos, n;

	if (!(cfg16(cfg, CFG_STATUS) & CFG_STATUS_CAP_LIST))
		return 0;
	pos = cfg[CFG_CAP_PTR] & CFG_CAP_PTR_MASK;
	for (n = 0; pos && n < CFG_CAP_MAX; n++) {
		if (pos + 4 > CFG_HDR_LEN)
			return 0;
		if (cfg[pos] == id)
			return pos;
		pos = cfg[pos + 1] & CFG_CAP_PTR_MASK;
	}
	return 0;
}

/*
 * Where BAR @bar starts within a page: an mmap of its resource file maps
 * the page holding its start, and with 64K pages a small BAR need not
 * start on a page boundary.
 */
static uint64_t bar_page_offset(const char *bdf, unsigned int bar, long pgsz)
{
	unsigned long long start = 0, end, flags;
	char path[PATH_LEN];
	unsigned int i;
	FILE *f;

	dev_path(path, sizeof(path), bdf, "resource");
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (i = 0; i <= bar; i++) {
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3) {
			start = 0;
			break;
		}
	}
	fclose(f);
	return start & (uint64_t)(pgsz - 1);
}

static int msix_first_address(const char *bdf, const uint8_t *cfg,
			      unsigned int cap, uint64_t *addr)
{
	uint32_t tbl = cfg32(cfg, cap + MSIX_TABLE);
	unsigned int bir = tbl & MSIX_TABLE_BIR_MASK;
	uint64_t toff = tbl & ~(uint32_t)MSIX_TABLE_BIR_MASK;
	unsigned int nent = (cfg16(cfg, cap + MSIX_CTRL) & MSIX_CTRL_SIZE_MASK)
			    + 1;
	long pgsz = sysconf(_SC_PAGESIZE);
	char path[PATH_LEN], leaf[32];
	uint64_t map_off, delta, map_len;
	const uint8_t *base;
	struct stat st;
	unsigned int i;
	int fd, ret = -ENODATA;
	void *map;

	snprintf(leaf, sizeof(leaf), "resource%u", bir);
	dev_path(path, sizeof(path), bdf, leaf);
	fd = open(path, O_RDONLY | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return err_ret(-errno, "open %s", path);
	if (fstat(fd, &st) < 0) {
		ret = err_ret(-errno, "stat %s", path);
		goto out_close;
	}
	/* mmap offsets must be page aligned; never map past the BAR. */
	map_off = toff & ~(uint64_t)(pgsz - 1);
	delta = toff - map_off + bar_page_offset(bdf, bir, pgsz);
	map_len = delta + (uint64_t)nent * MSIX_ENTRY_SIZE;
	if (st.st_size > 0 && map_off + map_len > (uint64_t)st.st_size) {
		if (toff + MSIX_ENTRY_SIZE > (uint64_t)st.st_size) {
			ret = err_ret(-ERANGE, "MSI-X table 0x%llx beyond BAR%u",
				      (unsigned long long)toff, bir);
			goto out_close;
		}
		nent = (unsigned int)(((uint64_t)st.st_size - toff) /
				      MSIX_ENTRY_SIZE);
		map_len = delta + (uint64_t)nent * MSIX_ENTRY_SIZE;
	}
	map = mmap(NULL, map_len, PROT_READ, MAP_SHARED, fd, (off_t)map_off);
	if (map == MAP_FAILED) {
		ret = err_ret(-errno, "mmap %s at 0x%llx", path,
			      (unsigned long long)map_off);
		goto out_close;
	}
	base = (const uint8_t *)map + delta;
	for (i = 0; i < nent; i++) {
		const volatile uint32_t *e = (const volatile uint32_t *)
			(base + (size_t)i * MSIX_ENTRY_SIZE);
		uint32_t ctrl, lo, hi;

		/* Device memory: 32-bit volatile loads only, guarded. */
		if (mmio_read32(e + MSIX_ENTRY_CTRL / 4, &ctrl) ||
		    mmio_read32(e + MSIX_ENTRY_ADDR_LO / 4, &lo) ||
		    mmio_read32(e + MSIX_ENTRY_ADDR_HI / 4, &hi)) {
			ret = err_ret(-EFAULT, "bus error reading MSI-X entry %u of %s",
				      i, bdf);
			break;
		}
		if (ctrl & MSIX_ENTRY_MASKED)
			continue;
		*addr = (uint64_t)hi << 32 | lo;
		msi_log("%s: MSI-X vector %u (of %u, table in BAR%u+0x%llx) address 0x%llx",
			bdf, i, nent, bir, (unsigned long long)toff,
			(unsigned long long)*addr);
		ret = 0;
		break;
	}
	if (ret == -ENODATA)
		err_ret(ret, "%s: all %u MSI-X vectors masked", bdf, nent);
	munmap(map, map_len);
out_close:
	close(fd);
	return ret;
}

int pci_msi_address(const char *bdf, uint64_t *addr, const char **how)
{
	uint8_t cfg[CFG_HDR_LEN];
	unsigned int cap;
	uint16_t ctrl;
	int ret;

	ret = read_config(bdf, cfg, sizeof(cfg));
	if (ret)
		return ret;

	cap = find_cap(cfg, CAP_ID_MSIX);
	if (cap && (cfg16(cfg, cap + MSIX_CTRL) & MSIX_CTRL_ENABLE)) {
		if (how)
			*how = "MSI-X";
		return msix_first_address(bdf, cfg, cap, addr);
	}

	cap = find_cap(cfg, CAP_ID_MSI);
	if (cap) {
		ctrl = cfg16(cfg, cap + MSI_CTRL);
		if (ctrl & MSI_CTRL_ENABLE) {
			*addr = cfg32(cfg, cap + MSI_ADDR_LO);
			if (ctrl & MSI_CTRL_64BIT)
				*addr |= (uint64_t)cfg32(cfg, cap + MSI_ADDR_HI)
					 << 32;
			if (how)
				*how = "MSI";
			msi_log("%s: MSI capability at 0x%x (%s-bit) address 0x%llx",
				bdf, cap, ctrl & MSI_CTRL_64BIT ? "64" : "32",
				(unsigned long long)*addr);
			return 0;
		}
	}
	return err_ret(-ENODATA, "%s: neither MSI nor MSI-X is enabled", bdf);
}
