// SPDX-License-Identifier: GPL-2.0
/*
 * The "stress" check: an edu device under VFIO type1 has its MSI enabled
 * and disabled many times (each cycle maps and unmaps the doorbell in the
 * SMMU), then takes a long burst of MSIs, and userspace throws bad
 * requests at the MSI window in between. MSIs must keep arriving and the
 * doorbell must be gone once MSI is off.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "checks.h"
#include "edu.h"
#include "vfio_type1.h"

#define STRESS_CYCLES		1000
#define STRESS_BURST		10000
#define STRESS_AFTER_BAD	50	/* MSIs that must follow bad input */
#define PAGE			0x1000ULL

static const char *const stress_subs[] = {
	"cycles", "badinput", "burst", "debugfs", NULL
};

/* Enable, one MSI, disable: STRESS_CYCLES times. */
static void stress_cycles(struct check *c, struct vfio_dev *d)
{
	unsigned int i, got, lost = 0, errors = 0;
	uint64_t start = now_ms();
	int ret;

	for (i = 0; i < STRESS_CYCLES; i++) {
		ret = vfio_dev_msi_enable(d);
		if (!ret)
			ret = edu_fire_msis(d, 1, &got);
		if (!ret && got != 1)
			lost++;
		if (ret)
			errors++;
		if (vfio_dev_msi_disable(d))
			errors++;
		if (errors > 3)
			break;
	}
	check_report(c, "cycles", i == STRESS_CYCLES && !lost && !errors,
		     "%u/%u MSI enable/disable cycles through VFIO_DEVICE_SET_IRQS, one MSI each: %u lost, %u errors%s%s; %llu ms",
		     i, STRESS_CYCLES, lost, errors,
		     errors ? ", last: " : "", errors ? last_error() : "",
		     (unsigned long long)(now_ms() - start));
}

/* VFIO_IOMMU_UNMAP_DMA of [iova, iova + len): -errno, or bytes unmapped. */
static long long unmap_bytes(struct type1 *t, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = len,
	};

	if (ioctl(t->container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	return (long long)u.size;
}

/*
 * Requests aimed at the MSI window must fail (or touch nothing), and the
 * MSIs that are live meanwhile must keep arriving.
 */
static void stress_badinput(struct check *c, struct type1 *t,
			    struct vfio_dev *d)
{
	static const struct {
		const char *what;
		uint64_t iova, len;
	} maps[] = {
		{ "into the window", MSI_WINDOW_BASE, PAGE },
		{ "over its start", MSI_WINDOW_BASE - PAGE, 2 * PAGE },
		{ "over its end", MSI_WINDOW_BASE + MSI_WINDOW_SIZE - PAGE,
		  2 * PAGE },
		{ "across it", MSI_WINDOW_BASE - PAGE, MSI_WINDOW_SIZE + 2 * PAGE },
	};
	char msg[MSG_LEN] = "";
	size_t used = 0, i;
	unsigned int got = 0;
	long long unmapped;
	bool ok = true;
	void *buf;
	int ret;

	buf = anon_alloc(MSI_WINDOW_SIZE + 2 * PAGE);
	if (!buf || vfio_dev_msi_enable(d)) {
		check_report(c, "badinput", false, "%s", last_error());
		anon_free(buf, MSI_WINDOW_SIZE + 2 * PAGE);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		ret = type1_map(t, buf, maps[i].iova, maps[i].len);
		if (!ret) {
			type1_unmap(t, maps[i].iova, maps[i].len);
			ok = false;
		}
		used += (size_t)snprintf(msg + used, sizeof(msg) - used,
					 "map %s %s; ", maps[i].what,
					 ret ? strerror(-ret) : "ACCEPTED");
	}
	/* The doorbell mapping belongs to the kernel, not to the user. */
	unmapped = unmap_bytes(t, MSI_WINDOW_BASE, MSI_WINDOW_SIZE);
	if (unmapped > 0)
		ok = false;
	used += (size_t)snprintf(msg + used, sizeof(msg) - used,
				 "unmap of the window: %s; ",
				 unmapped < 0 ? strerror((int)-unmapped) :
				 unmapped ? "UNMAPPED BYTES" : "0 bytes");
	ret = edu_fire_msis(d, STRESS_AFTER_BAD, &got);
	if (ret || got != STRESS_AFTER_BAD)
		ok = false;
	snprintf(msg + used, sizeof(msg) - used, "then %u/%u MSIs delivered",
		 got, STRESS_AFTER_BAD);
	vfio_dev_msi_disable(d);
	anon_free(buf, MSI_WINDOW_SIZE + 2 * PAGE);
	check_report(c, "badinput", ok, "%s", msg);
}

void check_stress(const struct e2e_opts *o)
{
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = false };
	struct type1 t = { .container = -1, .group = -1 };
	char bdf[BDF_LEN];
	struct check c;
	int fd;

	check_begin(&c, "stress", stress_subs);
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device");
		goto out;
	}
	if (type1_open(&t, bdf, !o->isolated)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	fd = type1_device_fd(&t);
	if (fd < 0 || vfio_dev_init(&d, fd, bdf) || edu_check_id(&d)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}

	stress_cycles(&c, &d);
	stress_badinput(&c, &t, &d);
	vt_fire(&c, "burst", &d, STRESS_BURST);
	vt_debugfs_on(&c, &v, &d, o);
out:
	if (d.fd >= 0) {
		vfio_dev_release(&d);
		vt_debugfs_off(&c, &v);
		close(d.fd);
	}
	type1_close(&t);
	check_end(&c);
}
