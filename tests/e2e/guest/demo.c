// SPDX-License-Identifier: GPL-2.0
/* "demo" check: the type1 MSI flow narrated in plain English. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "checks.h"
#include "debugfs_msi.h"
#include "doorbell.h"
#include "edu.h"
#include "vfio_type1.h"

#define NAME_LEN	128
#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_LINE_LEN	512

/* Optional kernel view of MSI mappings; silent when absent. */
static void dump_debugfs(const char *when)
{
	int ret;

	if (!path_exists(DEBUGFS_MSI))
		return;
	demo_log("%s %s:", DEBUGFS_MSI, when);
	ret = dump_file(DEBUGFS_MSI, "DEMO:   ");
	if (ret < 0)
		demo_log("(could not read %s: %s)", DEBUGFS_MSI,
			 strerror(-ret));
}

static void narrate_doorbell(const struct e2e_opts *o, const char *iommu,
			     uint64_t addr)
{
	const struct doorbell *db;

	if (doorbell_get(&db))
		return;
	demo_log("the device writes its MSIs %s 0x%llx (read from its MSI capability)",
		 o->translated ? "to IOVA" : "straight to address",
		 (unsigned long long)addr);
	if (!o->translated) {
		demo_log("that is the %s doorbell %s itself, PA 0x%llx (from DT): no translation",
			 db->ctrl, db->reg, (unsigned long long)db->pa);
		return;
	}
	demo_log("the %s maps IOVA page 0x%llx to the %s doorbell page",
		 strstr(iommu, "smmu") ? "SMMU" : "IOMMU",
		 (unsigned long long)(addr & ~DOORBELL_PAGE_MASK), db->ctrl);
	demo_log("doorbell %s is at PA 0x%llx (from the device tree)",
		 db->reg, (unsigned long long)db->pa);
	if ((addr & DOORBELL_PAGE_MASK) == (db->pa & DOORBELL_PAGE_MASK))
		demo_log("page offset 0x%03llx preserved",
			 (unsigned long long)(addr & DOORBELL_PAGE_MASK));
	else
		demo_log("page offset 0x%03llx NOT preserved (doorbell has 0x%03llx)",
			 (unsigned long long)(addr & DOORBELL_PAGE_MASK),
			 (unsigned long long)(db->pa & DOORBELL_PAGE_MASK));
}

/* Turn on the iommu_msi tracepoints; false if the kernel has none. */
static bool trace_start(void)
{
	int fd;

	mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	fd = open(TRACEFS "/events/iommu_msi/enable", O_WRONLY);
	if (fd < 0)
		return false;
	if (write(fd, "1", 1) != 1) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* Print the doorbell events of @bdf; true if it was mapped and unmapped. */
static bool trace_show(const char *bdf, char *msg, size_t len)
{
	unsigned int maps = 0, unmaps = 0;
	char line[TRACE_LINE_LEN], dev[BDF_LEN + 8];
	FILE *f;

	f = fopen(TRACEFS "/trace", "r");
	if (!f) {
		snprintf(msg, len, "no %s/trace: %s", TRACEFS, strerror(errno));
		return false;
	}
	snprintf(dev, sizeof(dev), "dev=%s ", bdf);
	demo_log("tracepoints events/iommu_msi for %s:", bdf);
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, "iommu_msi_");

		if (!ev || !strstr(line, dev))
			continue;
		line[strcspn(line, "\n")] = 0;
		demo_log("  %s", ev);
		if (!strncmp(ev, "iommu_msi_map:", 14))
			maps++;
		else if (!strncmp(ev, "iommu_msi_unmap:", 16))
			unmaps++;
	}
	fclose(f);
	snprintf(msg, len, "%u map and %u unmap events for %s", maps, unmaps,
		 bdf);
	return maps >= 1 && unmaps == maps;
}

static const char *const demo_subs[] = { "msi", "doorbell", "trace", NULL };

void check_demo(const struct e2e_opts *o)
{
	struct type1 t = { .container = -1, .group = -1 };
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	char bdf[BDF_LEN], iommu[NAME_LEN], msg[MSG_LEN];
	unsigned int got = 0;
	uint8_t *buf = NULL;
	bool mapped = false, tracing = false;
	uint64_t addr = 0;
	struct check c;
	int ret, fd;
	bool ok;

	check_begin(&c, "demo", demo_subs);
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device (%04x:%04x)",
				 PCI_VENDOR_QEMU, PCI_DEVICE_EDU);
		goto out;
	}
	/* The demo must run on any platform: accept the unsafe override. */
	if (type1_open(&t, bdf, true)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	if (pci_iommu_name(bdf, iommu, sizeof(iommu)))
		snprintf(iommu, sizeof(iommu), "unknown IOMMU");
	demo_log("edu device %s given to a VFIO type1 container (IOMMU %s, group %d)",
		 bdf, iommu, t.group_id);
	if (t.first_err == EPERM)
		demo_log("VFIO first refused it: MSIs not isolated, so allow_unsafe_interrupts=Y");

	buf = anon_alloc(DMA_BUF_SIZE);
	if (buf && !type1_map(&t, buf, DMA_BUF_IOVA, DMA_BUF_SIZE)) {
		mapped = true;
		demo_log("mapped a %llu KiB buffer at IOVA 0x%llx",
			 (unsigned long long)(DMA_BUF_SIZE / 1024),
			 (unsigned long long)DMA_BUF_IOVA);
	}

	fd = type1_device_fd(&t);
	if (fd < 0) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	if (vfio_dev_init(&d, fd, bdf) || edu_check_id(&d)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}

	dump_debugfs("before enabling MSI");
	tracing = trace_start();
	ret = vfio_dev_msi_enable(&d);
	if (ret) {
		check_report(&c, "msi", false, "%s", last_error());
		goto out;
	}
	demo_log("MSI enabled: vector 0 now signals an eventfd");
	ret = edu_fire_msis(&d, o->msis, &got);
	demo_log("fired %u MSIs, %u arrived at the eventfd", o->msis, got);
	check_report(&c, "msi", !ret && got == o->msis,
		     "%u/%u MSIs delivered", got, o->msis);

	ok = doorbell_verify(bdf, o, &addr, msg, sizeof(msg));
	if (addr)
		narrate_doorbell(o, iommu, addr);
	check_report(&c, "doorbell", ok, "%s", msg);
	dump_debugfs("after firing");
out:
	if (d.fd >= 0) {
		vfio_dev_release(&d);
		close(d.fd);
	}
	if (mapped)
		type1_unmap(&t, DMA_BUF_IOVA, DMA_BUF_SIZE);
	anon_free(buf, DMA_BUF_SIZE);
	type1_close(&t);
	dump_debugfs("after teardown");
	if (tracing) {
		ok = o->translated ? trace_show(bdf, msg, sizeof(msg)) : true;
		check_report(&c, "trace", ok, "%s",
			     o->translated ? msg : "untranslated: no events");
	}
	check_end(&c);
}
