// SPDX-License-Identifier: GPL-2.0
/*
 * "dmaapi" check: in-kernel drivers (virtio-blk, nvme) doing DMA and
 * taking MSI-X interrupts through the DMA API and the IOMMU.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "debugfs_msi.h"
#include "doorbell.h"
#include "pci.h"
#include "util.h"

#define DISK_VERIFY_LEN		(1024 * 1024)	/* host writes the pattern */
#define DISK_CHUNK		(64 * 1024)
#define DIRECT_IO_ALIGN		4096
#define DEV_NODE_WAIT_MS	2000
#define NAME_LEN		64

struct disk {
	const char *label;	/* "virtio-blk" / "nvme" */
	char bdf[BDF_LEN];
	char block[NAME_LEN];	/* name under /sys/block and /dev */
	/* start of its /proc/interrupts action names */
	char irq_match[NAME_LEN + 2];
	uint64_t msi_addr;	/* first MSI-X vector's address, 0 = unknown */
};

/* The host generates the image with exactly this formula. */
static uint8_t disk_pattern(uint64_t i)
{
	return (uint8_t)((i * 7 + i / 4096 + 0x5a) & 0xff);
}

/*
 * Sum of all CPU columns of the /proc/interrupts lines whose action
 * names contain match; show logs those lines (they name the irqchip).
 */
static int irq_count(const char *match, uint64_t *sum, int *lines, bool show)
{
	char *line = NULL, *p, *end;
	size_t cap = 0;
	int ncpu = 0, i;
	FILE *f;

	*sum = 0;
	*lines = 0;
	f = fopen("/proc/interrupts", "re");
	if (!f)
		return err_ret(-errno, "open /proc/interrupts");
	/* The header has one "CPUn" column per online CPU. */
	if (getline(&line, &cap, f) > 0)
		for (p = line; (p = strstr(p, "CPU")); p += 3)
			ncpu++;
	while (getline(&line, &cap, f) > 0) {
		uint64_t line_sum = 0;

		p = strchr(line, ':');
		if (!p)
			continue;
		p++;
		for (i = 0; i < ncpu; i++) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			line_sum += v;
			p = end;
		}
		if (strstr(p, match)) {
			*sum += line_sum;
			(*lines)++;
			if (show)
				e2e_log("/proc/interrupts:%s",
					strtok(strchr(line, ':') + 1, "\n"));
		}
	}
	free(line);
	fclose(f);
	return *lines ? 0 : err_ret(-ENOENT, "no '%s' lines in /proc/interrupts",
				    match);
}

static int find_virtio_blk(struct disk *k)
{
	char path[PATH_LEN], vdev[NAME_LEN];
	int ret;

	if (pci_find_id(PCI_VENDOR_VIRTIO, PCI_DEVICE_VIRTIO_BLK1, k->bdf) &&
	    pci_find_id(PCI_VENDOR_VIRTIO, PCI_DEVICE_VIRTIO_BLK, k->bdf))
		return err_ret(-ENODEV, "no virtio-blk PCI device");
	snprintf(path, sizeof(path), "%s/%s", PCI_SYSFS, k->bdf);
	ret = single_dir_entry(path, "virtio", vdev, sizeof(vdev));
	if (ret)
		return err_ret(ret, "no virtio device under %s (driver bound?)",
			       path);
	snprintf(path, sizeof(path), "%s/%s/%s/block", PCI_SYSFS, k->bdf,
		 vdev);
	ret = single_dir_entry(path, "", k->block, sizeof(k->block));
	if (ret)
		return err_ret(ret, "no block device in %s", path);
	/* virtio_pci names its vectors "virtioN-config", "virtioN-req.0" */
	snprintf(k->irq_match, sizeof(k->irq_match), "%s-", vdev);
	return 0;
}

/* With native multipath the controller only has hidden nvmeXcYnZ paths. */
static int nvme_head_of(const char *path_dev, char *head, size_t len)
{
	char path[PATH_LEN];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	d = opendir("/sys/block");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "nvme", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/multipath/%s",
			 de->d_name, path_dev);
		if (path_exists(path) && strlen(de->d_name) < len) {
			memcpy(head, de->d_name, strlen(de->d_name) + 1);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

static int find_nvme(struct disk *k)
{
	char path[PATH_LEN], ctrl[NAME_LEN], ns[NAME_LEN], probe[PATH_LEN];
	int ret;

	if (pci_find_class(PCI_CLASS_NVME, k->bdf))
		return err_ret(-ENODEV, "no NVMe PCI device (class 0x%06x)",
			       PCI_CLASS_NVME);
	snprintf(path, sizeof(path), "%s/%s/nvme", PCI_SYSFS, k->bdf);
	ret = single_dir_entry(path, "nvme", ctrl, sizeof(ctrl));
	if (ret)
		return err_ret(ret, "no controller in %s (driver bound?)", path);
	snprintf(path, sizeof(path), "%s/%s/nvme/%s", PCI_SYSFS, k->bdf,
		 ctrl);
	ret = single_dir_entry(path, ctrl, ns, sizeof(ns));
	if (ret)
		return err_ret(ret, "no namespace in %s", path);
	snprintf(probe, sizeof(probe), "/sys/block/%s", ns);
	if (path_exists(probe)) {
		snprintf(k->block, sizeof(k->block), "%s", ns);
	} else {
		ret = nvme_head_of(ns, k->block, sizeof(k->block));
		if (ret)
			return err_ret(ret, "no /sys/block entry for %s", ns);
	}
	/* nvme names its vectors "nvmeXq0", "nvmeXq1", ... */
	snprintf(k->irq_match, sizeof(k->irq_match), "%sq", ctrl);
	return 0;
}

static int read_verify(const char *dev, uint64_t *verified, char *msg,
		       size_t len)
{
	uint8_t *buf = NULL;
	uint64_t off, i;
	ssize_t n;
	int fd, ret = 0;

	*verified = 0;
	/* O_DIRECT: every byte must come from a device DMA, not the cache. */
	fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return err_ret(-errno, "open %s O_DIRECT", dev);
	ret = posix_memalign((void **)&buf, DIRECT_IO_ALIGN, DISK_CHUNK);
	if (ret) {
		close(fd);
		return err_ret(-ret, "posix_memalign");
	}
	for (off = 0; off < DISK_VERIFY_LEN; off += DISK_CHUNK) {
		n = pread(fd, buf, DISK_CHUNK, (off_t)off);
		if (n != DISK_CHUNK) {
			ret = err_ret(n < 0 ? -errno : -EIO,
				      "read %s at 0x%llx (got %zd)", dev,
				      (unsigned long long)off, n);
			break;
		}
		for (i = 0; i < DISK_CHUNK; i++) {
			if (buf[i] != disk_pattern(off + i)) {
				snprintf(msg, len,
					 "byte 0x%llx is 0x%02x, expected 0x%02x",
					 (unsigned long long)(off + i), buf[i],
					 disk_pattern(off + i));
				ret = -EILSEQ;
				break;
			}
		}
		if (ret)
			break;
		*verified += DISK_CHUNK;
	}
	free(buf);
	close(fd);
	return ret;
}

static void test_disk(struct check *c, struct disk *k,
		      int (*find)(struct disk *), const struct e2e_opts *o)
{
	char sub[NAME_LEN], dev[PATH_LEN], msg[MSG_LEN] = "";
	uint64_t before, after, verified;
	int lines, ret;
	bool ok;

	snprintf(sub, sizeof(sub), "%s.doorbell", k->label);
	if (find(k)) {
		check_report(c, k->label, false, "%s", last_error());
		check_report(c, sub, false, "%s", last_error());
		return;
	}
	e2e_log("%s: PCI %s, block device %s, irq names '%s*'", k->label,
		k->bdf, k->block, k->irq_match);

	snprintf(dev, sizeof(dev), "/dev/%s", k->block);
	if (wait_for_path(dev, DEV_NODE_WAIT_MS)) {
		check_report(c, k->label, false, "%s did not appear", dev);
	} else if (irq_count(k->irq_match, &before, &lines, false)) {
		check_report(c, k->label, false, "%s", last_error());
	} else {
		ret = read_verify(dev, &verified, msg, sizeof(msg));
		if (ret) {
			check_report(c, k->label, false, "%s",
				     ret == -EILSEQ ? msg : last_error());
		} else if (irq_count(k->irq_match, &after, &lines, true)) {
			check_report(c, k->label, false, "%s", last_error());
		} else {
			check_report(c, k->label, after > before,
				     "%llu bytes verified from %s; interrupts %llu -> %llu (+%llu over %d line(s))",
				     (unsigned long long)verified, dev,
				     (unsigned long long)before,
				     (unsigned long long)after,
				     (unsigned long long)(after - before),
				     lines);
		}
	}

	ok = doorbell_verify(k->bdf, o, &k->msi_addr, msg, sizeof(msg));
	check_report(c, sub, ok, "%s", msg);
}

/*
 * Translated: at least two DMA API cookies (virtio-blk and nvme are in
 * different groups) list the doorbell page once, with users, and each
 * disk's MSI-X address page is the IOVA of the doorbell in one of them.
 */
static bool dma_cookies_map(const struct msi_listing *l, uint64_t pa,
			    struct disk *const *disks, unsigned int nd,
			    char *msg, size_t len)
{
	const struct msi_doorbell *db = NULL;
	const struct msi_cookie *ck;
	unsigned int i, j, times, n_ok = 0;
	int used;

	for (i = 0; i < l->n; i++) {
		ck = &l->cookies[i];
		if (!msi_cookie_is_dma(ck))
			continue;
		times = msi_cookie_count_phys(ck, pa, &db);
		if (times > 1 || (times == 1 && !db->users)) {
			snprintf(msg, len,
				 "%s cookie %u lists the doorbell page of 0x%llx %u time(s), users %u",
				 ck->domain, ck->nr, (unsigned long long)pa,
				 times, db->users);
			return false;
		}
		n_ok += times;
	}
	if (n_ok < 2) {
		snprintf(msg, len,
			 "%u DMA cookie(s) list the doorbell page of 0x%llx, expected at least 2 (one per disk's group)",
			 n_ok, (unsigned long long)pa);
		return false;
	}
	for (j = 0; j < nd; j++) {
		if (!disks[j]->msi_addr) {
			snprintf(msg, len, "%s: MSI-X address unknown",
				 disks[j]->label);
			return false;
		}
		for (i = 0; i < l->n; i++)
			if (msi_cookie_is_dma(&l->cookies[i]) &&
			    msi_cookie_find(&l->cookies[i], pa,
					    disks[j]->msi_addr))
				break;
		if (i == l->n) {
			snprintf(msg, len,
				 "%s MSI-X address 0x%llx: no DMA cookie maps doorbell 0x%llx to its page",
				 disks[j]->label,
				 (unsigned long long)disks[j]->msi_addr,
				 (unsigned long long)pa);
			return false;
		}
	}
	used = snprintf(msg, len,
			"%u DMA cookies map doorbell 0x%llx; MSI-X address pages found as its IOVA:",
			n_ok, (unsigned long long)pa);
	for (j = 0; j < nd && used > 0 && (size_t)used < len; j++)
		used += snprintf(msg + used, len - (size_t)used,
				 " %s 0x%llx", disks[j]->label,
				 (unsigned long long)disks[j]->msi_addr);
	return true;
}

/* Direct: no DMA API cookie may list the doorbell page. */
static bool no_dma_cookie_lists(const struct msi_listing *l, uint64_t pa,
				char *msg, size_t len)
{
	const struct msi_doorbell *db = NULL;
	const struct msi_cookie *ck;
	unsigned int i;

	for (i = 0; i < l->n; i++) {
		ck = &l->cookies[i];
		if (msi_cookie_is_dma(ck) &&
		    msi_cookie_count_phys(ck, pa, &db)) {
			snprintf(msg, len,
				 "%s cookie %u lists doorbell 0x%llx -> iova 0x%llx, users %u",
				 ck->domain, ck->nr,
				 (unsigned long long)db->phys,
				 (unsigned long long)db->iova, db->users);
			return false;
		}
	}
	snprintf(msg, len,
		 "no DMA cookie (of %u cookie(s)) lists the doorbell page of 0x%llx",
		 l->n, (unsigned long long)pa);
	return true;
}

static void test_debugfs(struct check *c, struct disk *const *disks,
			 unsigned int nd, const struct e2e_opts *o)
{
	const struct doorbell *db;
	struct msi_listing l;
	char msg[MSG_LEN];
	bool ok;
	int ret;

	if (doorbell_get(&db)) {
		check_report(c, "debugfs", false,
			     "no doorbell in the device tree");
		return;
	}
	ret = msi_listing_read(&l);
	if (ret) {
		check_report(c, "debugfs", false, "%s", ret == -ENOENT ?
			     "no debugfs listing (" DEBUGFS_MSI " missing)" :
			     last_error());
		msi_listing_free(&l);
		return;
	}
	msi_listing_log(&l, "dmaapi.debugfs", msi_cookie_is_dma);
	if (o->translated)
		ok = dma_cookies_map(&l, db->pa, disks, nd, msg, sizeof(msg));
	else
		ok = no_dma_cookie_lists(&l, db->pa, msg, sizeof(msg));
	msi_listing_free(&l);
	check_report(c, "debugfs", ok, "%s", msg);
}

static const char *const dmaapi_subs[] = {
	"virtio-blk", "virtio-blk.doorbell", "nvme", "nvme.doorbell",
	"debugfs", NULL
};

void check_dmaapi(const struct e2e_opts *o)
{
	struct disk vblk = { .label = "virtio-blk" };
	struct disk nvme = { .label = "nvme" };
	struct disk *const disks[] = { &vblk, &nvme };
	struct check c;

	check_begin(&c, "dmaapi", dmaapi_subs);
	test_disk(&c, &vblk, find_virtio_blk, o);
	test_disk(&c, &nvme, find_nvme, o);
	/* Their MSI-X vectors stay enabled while the drivers are bound. */
	test_debugfs(&c, disks, ARRAY_SIZE(disks), o);
	check_end(&c);
}
