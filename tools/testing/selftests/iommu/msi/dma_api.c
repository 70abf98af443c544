// SPDX-License-Identifier: GPL-2.0
/*
 * MSIs of devices their kernel drivers own through the DMA API: a
 * virtio-blk and an NVMe disk read a known pattern with O_DIRECT (every
 * byte a device DMA) and count their MSI-X interrupts, while the tests
 * look at the doorbell address the drivers programmed and at what the MSI
 * cookie framework mapped for them.
 *
 * Only disks whose serial is "msie2e" (MSI_E2E_DISK_SERIAL overrides it)
 * are read: the e2e matrix makes them with the pattern disk_pattern()
 * describes.  Without one, the tests skip.  Whether the doorbell is
 * translated comes from the device's default domain (platform.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "debugfs_msi.h"
#include "doorbell.h"
#include "msi_test.h"
#include "pci.h"
#include "platform.h"
#include "util.h"

#define DISK_VERIFY_LEN		(1024 * 1024)	/* the image has the pattern */
#define DISK_CHUNK		(64 * 1024)
#define DIRECT_IO_ALIGN		4096
#define DEV_NODE_WAIT_MS	2000
#define NAME_LEN		64
#define DISK_SERIAL		"msie2e"

struct disk {
	char bdf[BDF_LEN];
	char block[NAME_LEN];	/* name under /sys/block and /dev */
	/* start of its /proc/interrupts action names */
	char irq_match[NAME_LEN + 2];
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
				msi_log("/proc/interrupts:%s",
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

/* The disk's serial, from its block device or the controller. */
static int disk_serial(const struct disk *k, char *buf, size_t len)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), "/sys/block/%s/serial", k->block);
	if (read_text(path, buf, len) >= 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/block/%s/device/serial", k->block);
	if (read_text(path, buf, len) >= 0)
		return 0;
	return err_ret(-ENOENT, "%s has no serial", k->block);
}

/*
 * Translated: a DMA API cookie lists the doorbell page once, with users,
 * and maps it to the page of the disk's MSI-X address.
 */
static bool dma_cookie_maps(const struct msi_listing *l, uint64_t pa,
			    uint64_t addr, char *msg, size_t len)
{
	const struct msi_doorbell *db = NULL, *m;
	const struct msi_cookie *ck;
	unsigned int i, times;

	for (i = 0; i < l->n; i++) {
		ck = &l->cookies[i];
		if (!msi_cookie_is_dma(ck))
			continue;
		m = msi_cookie_find(ck, pa, addr);
		if (!m)
			continue;
		times = msi_cookie_count_phys(ck, pa, &db);
		if (times != 1 || !m->users) {
			snprintf(msg, len,
				 "%s cookie %u lists the doorbell page of 0x%llx %u time(s), users %u",
				 ck->domain, ck->nr, (unsigned long long)pa,
				 times, m->users);
			return false;
		}
		snprintf(msg, len,
			 "%s cookie %u (owner %s) maps doorbell 0x%llx -> iova 0x%llx, users %u: the page of MSI-X address 0x%llx",
			 ck->domain, ck->nr, ck->owner,
			 (unsigned long long)m->phys,
			 (unsigned long long)m->iova, m->users,
			 (unsigned long long)addr);
		return true;
	}
	snprintf(msg, len,
		 "no DMA cookie (of %u cookie(s)) maps doorbell 0x%llx to the page of MSI-X address 0x%llx",
		 l->n, (unsigned long long)pa, (unsigned long long)addr);
	return false;
}

FIXTURE(dma_api) {
	struct disk k;
	struct msi_expect e;
	char dev[PATH_LEN];
	char msg[MSG_LEN];
};

FIXTURE_VARIANT(dma_api) {
	int (*find)(struct disk *k);
};

FIXTURE_VARIANT_ADD(dma_api, virtio_blk) {
	.find = find_virtio_blk,
};

FIXTURE_VARIANT_ADD(dma_api, nvme) {
	.find = find_nvme,
};

/* The variant's disk, if it is the test image, and what to expect. */
FIXTURE_SETUP(dma_api)
{
	const char *want = getenv("MSI_E2E_DISK_SERIAL");
	char serial[NAME_LEN] = "";

	if (!want)
		want = DISK_SERIAL;
	if (geteuid())
		SKIP(return, "needs root");
	if (variant->find(&self->k))
		SKIP(return, "%s", last_error());
	if (disk_serial(&self->k, serial, sizeof(serial)) ||
	    strcmp(serial, want))
		SKIP(return, "%s (%s) is not a test disk (serial '%s', want '%s')",
		     self->k.block, self->k.bdf, serial, want);
	snprintf(self->dev, sizeof(self->dev), "/dev/%s", self->k.block);
	ASSERT_EQ(0, wait_for_path(self->dev, DEV_NODE_WAIT_MS))
		TH_LOG("%s did not appear", self->dev);
	ASSERT_EQ(0, msi_expect_dma(self->k.bdf, &self->e))
		TH_LOG("%s", last_error());
	msi_log("%s: block device %s, irq names '%s*'", self->k.bdf,
		self->k.block, self->k.irq_match);
	msi_expect_log(self->k.bdf, &self->e);
}

FIXTURE_TEARDOWN(dma_api)
{
}

/* The pattern reads back through the DMA API; the disk's MSIs arrive. */
TEST_F(dma_api, read)
{
	uint64_t before, after, verified;
	int lines, ret;

	ASSERT_EQ(0, irq_count(self->k.irq_match, &before, &lines, false))
		TH_LOG("%s", last_error());
	ret = read_verify(self->dev, &verified, self->msg, sizeof(self->msg));
	ASSERT_EQ(0, ret)
		TH_LOG("%s", ret == -EILSEQ ? self->msg : last_error());
	ASSERT_EQ(0, irq_count(self->k.irq_match, &after, &lines, true))
		TH_LOG("%s", last_error());
	TH_LOG("%llu bytes verified from %s; interrupts %llu -> %llu (+%llu over %d line(s))",
	       (unsigned long long)verified, self->dev,
	       (unsigned long long)before, (unsigned long long)after,
	       (unsigned long long)(after - before), lines);
	EXPECT_LT(before, after) TH_LOG("no MSI-X interrupt while reading");
}

/*
 * The MSI-X address the driver programmed is an IOVA with the doorbell's
 * page offset, or the physical doorbell where nothing translates it.
 */
TEST_F(dma_api, doorbell)
{
	EXPECT_CHECK(doorbell_verify(self->k.bdf, self->e.translated, NULL,
				     self->msg, sizeof(self->msg)), self->msg);
}

/*
 * debugfs: translated, the disk's DMA cookie maps the doorbell at the
 * IOVA the disk writes to; untranslated, no DMA cookie lists it.
 */
TEST_F(dma_api, debugfs)
{
	struct msi_listing l;
	uint64_t addr = 0;
	bool ok;

	if (!path_exists(DEBUGFS_MSI))
		SKIP(return, "no %s (CONFIG_DEBUG_FS, the MSI cookie framework)",
		     DEBUGFS_MSI);
	ASSERT_TRUE(!!self->e.db) TH_LOG("no MSI controller in the device tree");
	if (self->e.translated)
		ASSERT_EQ(0, pci_msi_address(self->k.bdf, &addr, NULL))
			TH_LOG("%s", last_error());
	ASSERT_EQ(0, msi_listing_read(&l)) {
		TH_LOG("%s", last_error());
		msi_listing_free(&l);
	}
	msi_listing_log(&l, "debugfs", msi_cookie_is_dma);
	if (self->e.translated)
		ok = dma_cookie_maps(&l, self->e.db->pa, addr, self->msg,
				     sizeof(self->msg));
	else
		ok = no_dma_cookie_lists(&l, self->e.db->pa, self->msg,
					 sizeof(self->msg));
	msi_listing_free(&l);
	EXPECT_CHECK(ok, self->msg);
}

TEST_HARNESS_MAIN
