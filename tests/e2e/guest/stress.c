// SPDX-License-Identifier: GPL-2.0
/*
 * The "stress" check: an edu device under VFIO type1 has its MSI enabled
 * and disabled many times (each cycle maps and unmaps the doorbell in the
 * SMMU), then userspace throws bad requests at the MSI window, then
 * the device sends a long burst of MSIs. MSIs must keep arriving and the
 * doorbell must be gone once MSI is off.
 */
#include <errno.h>
#include <unistd.h>

#include "checks.h"
#include "edu.h"
#include "vfio_type1.h"

#define STRESS_CYCLES		1000
#define STRESS_BURST		10000

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

void check_stress(const struct e2e_opts *o)
{
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = false };
	struct type1 t = { .container = -1, .group = -1 };
	struct dma_ops ops = { type1_map, type1_unmap, &t };
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
	vt_badinput(&c, &d, &ops);
	vfio_dev_msi_disable(&d);
	vt_fire(&c, "burst", &d, STRESS_BURST);
	vt_debugfs_on(&c, &v, &d, o);
out:
	vt_release(&c, &v, &d);
	if (d.fd >= 0)
		close(d.fd);
	type1_close(&t);
	check_end(&c);
}
