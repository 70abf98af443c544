// SPDX-License-Identifier: GPL-2.0
/*
 * The demo of make run: an edu device given to a VFIO type1 container
 * fires MSIs through the IOMMU, narrated in plain words as "# DEMO: "
 * lines; one kselftest test, so that /init judges it like the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "debugfs_msi.h"
#include "doorbell.h"
#include "edu.h"
#include "pci.h"
#include "platform.h"
#include "util.h"
#include "vfio_lib.h"

#define NAME_LEN	128
#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_LINE_LEN	512

static void demo_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One narrated line: "# DEMO: ..." */
static void demo_log(const char *fmt, ...)
{
	char line[MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# DEMO: %s\n", line);
}

/* Optional kernel view of MSI mappings; silent when absent. */
static void dump_debugfs(const char *when)
{
	int ret;

	if (!path_exists(DEBUGFS_MSI))
		return;
	demo_log("%s %s:", DEBUGFS_MSI, when);
	ret = dump_file(DEBUGFS_MSI, "# DEMO:   ");
	if (ret < 0)
		demo_log("(could not read %s: %s)", DEBUGFS_MSI,
			 strerror(-ret));
}

static void narrate_doorbell(bool translated, const char *iommu,
			     uint64_t addr)
{
	const struct doorbell *db;

	if (doorbell_get(&db))
		return;
	demo_log("the device writes its MSIs %s 0x%llx (read from its MSI capability)",
		 translated ? "to IOVA" : "straight to address",
		 (unsigned long long)addr);
	if (!translated) {
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
	unsigned int maps = 0, unmaps = 0, idles = 0;
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
		else if (!strncmp(ev, "iommu_msi_idle:", 15))
			idles++;
	}
	fclose(f);
	/*
	 * A doorbell whose last MSI goes is either unmapped at once, or left
	 * unused for iommu_msi.idle_ms and then unmapped: in the device's
	 * name when the device hands it over to its next domain, with no
	 * device to name by the delayed reclaim or with its domain. Each map
	 * must end unused or unmapped; none may be unmapped twice.
	 */
	snprintf(msg, len, "%u map, %u unmap and %u unused events for %s",
		 maps, unmaps, idles, bdf);
	return maps >= 1 && unmaps <= maps && idles <= maps &&
	       unmaps + idles >= maps;
}

TEST(msi_demo)
{
	char bdf[BDF_LEN], iommu[NAME_LEN], msg[MSG_LEN];
	unsigned int got = 0, n = msi_count();
	struct msi_expect e;
	struct msi_vfio v;
	bool ok, tracing;
	uint64_t addr = 0;
	int ret;

	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf))
		SKIP(return, "no edu device (%04x:%04x)", PCI_VENDOR_QEMU,
		     PCI_DEVICE_EDU);
	ASSERT_EQ(0, pci_bind(bdf, "vfio-pci")) TH_LOG("%s", last_error());
	ASSERT_EQ(0, msi_expect_vfio(bdf, &e)) TH_LOG("%s", last_error());
	/* Any platform: where MSIs are not isolated, allow them. */
	ASSERT_EQ(0, msi_vfio_open(&v, MSI_TYPE1, bdf, e.isolated))
		TH_LOG("%s", last_error());
	if (pci_iommu_name(bdf, iommu, sizeof(iommu)))
		snprintf(iommu, sizeof(iommu), "unknown IOMMU");
	demo_log("edu device %s given to a VFIO type1 container (IOMMU %s, group %d)",
		 bdf, iommu, v.t.group_id);
	if (v.first_err == EPERM)
		demo_log("VFIO first refused it: MSIs not isolated, so allow_unsafe_interrupts=Y");
	demo_log("mapped a %llu KiB buffer at IOVA 0x%llx",
		 (unsigned long long)(DMA_BUF_SIZE / 1024),
		 (unsigned long long)DMA_BUF_IOVA);

	dump_debugfs("before enabling MSI");
	tracing = trace_start();
	ret = vfio_dev_msi_enable(&v.d);
	EXPECT_EQ(0, ret) TH_LOG("%s", last_error());
	if (!ret) {
		demo_log("MSI enabled: vector 0 now signals an eventfd");
		ret = edu_fire_msis(&v.d, n, &got);
		demo_log("fired %u MSIs, %u arrived at the eventfd", n, got);
		EXPECT_EQ(0, ret);
		EXPECT_EQ(n, got);
		ok = doorbell_verify(bdf, e.translated, &addr, msg,
				     sizeof(msg));
		if (addr)
			narrate_doorbell(e.translated, iommu, addr);
		TH_LOG("%s%s", ok ? "" : "FAILED: ", msg);
		EXPECT_TRUE(ok);
		dump_debugfs("after firing");
	}
	msi_vfio_close(&v);
	dump_debugfs("after teardown");
	if (tracing && e.translated) {
		ok = trace_show(bdf, msg, sizeof(msg));
		TH_LOG("%s%s", ok ? "" : "FAILED: ", msg);
		EXPECT_TRUE(ok);
	}
}

TEST_HARNESS_MAIN
