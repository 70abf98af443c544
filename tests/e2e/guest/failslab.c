// SPDX-License-Identifier: GPL-2.0
/*
 * The "failslab" check: slab allocations of this process fail, one at a
 * time and at a moving position, while it enables MSI on an edu device
 * under VFIO type1 (MSI allocation, doorbell prepare and mapping, IRQ
 * request). Each attempt must fail cleanly or succeed, and the next,
 * unhindered attempt must deliver its MSI. Afterwards nothing may be left
 * mapped; the kmemleak check of the same boot looks for leaks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "edu.h"
#include "vfio_type1.h"

#define FAILSLAB		"/sys/kernel/debug/failslab"
#define MAKE_IT_FAIL		"/proc/self/make-it-fail"
/* Positions of the failing allocation, counted from the enable call. */
#define FAIL_POSITIONS		64

static const char *const failslab_subs[] = {
	"inject", "recover", "debugfs", NULL
};

static int fs_write(const char *attr, const char *val)
{
	char path[PATH_LEN];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", FAILSLAB, attr);
	ret = write_text(path, val);
	return ret ? err_ret(ret, "write %s to %s", val, path) : 0;
}

/* Only this task, GFP_KERNEL too, silently (a stack dump reads as a bug). */
static int failslab_setup(void)
{
	if (fs_write("task-filter", "Y") || fs_write("ignore-gfp-wait", "N") ||
	    fs_write("verbose", "0") || fs_write("probability", "100"))
		return -EIO;
	return 0;
}

/* Fail the n-th slab allocation of this task from now on, once. */
static int failslab_arm(unsigned int n)
{
	char val[16];

	snprintf(val, sizeof(val), "%u", n);
	if (fs_write("times", "1") || fs_write("interval", val) ||
	    fs_write("space", "0"))
		return -EIO;
	/* The counter behind interval only runs for tasks that may fail. */
	return write_text(MAKE_IT_FAIL, "1") ?
	       err_ret(-errno, "write %s", MAKE_IT_FAIL) : 0;
}

/* Stops injecting; true if a failure was injected since failslab_arm(). */
static bool failslab_disarm(void)
{
	unsigned long times = 1;
	char path[PATH_LEN];

	write_text(MAKE_IT_FAIL, "0");
	snprintf(path, sizeof(path), "%s/times", FAILSLAB);
	read_hex(path, &times);		/* 1 or 0: same in any base */
	fs_write("times", "0");
	return times == 0;
}

static void failslab_cycles(struct check *c, struct vfio_dev *d)
{
	unsigned int n, injected = 0, failed = 0, bad = 0, got;
	char first_bad[MSG_LEN] = "";
	int ret;

	for (n = 1; n <= FAIL_POSITIONS; n++) {
		if (failslab_arm(n)) {
			check_report(c, "inject", false, "%s", last_error());
			return;
		}
		ret = vfio_dev_msi_enable(d);
		if (failslab_disarm())
			injected++;
		if (ret)
			failed++;
		vfio_dev_msi_disable(d);

		/* The next attempt, with nothing failing, must work. */
		got = 0;
		ret = vfio_dev_msi_enable(d);
		if (!ret)
			ret = edu_fire_msis(d, 1, &got);
		vfio_dev_msi_disable(d);
		if ((ret || got != 1) && !bad++)
			snprintf(first_bad, sizeof(first_bad),
				 "after a failure at allocation %u: %s", n,
				 ret ? last_error() : "MSI lost");
	}
	check_report(c, "inject", injected > 0,
		     "%u slab allocation failures injected over %u MSI enables; %u enables returned an error",
		     injected, FAIL_POSITIONS, failed);
	check_report(c, "recover", !bad,
		     "%u/%u follow-up enables delivered their MSI%s%s",
		     FAIL_POSITIONS - bad, FAIL_POSITIONS, bad ? "; first: " : "",
		     first_bad);
}

void check_failslab(const struct e2e_opts *o)
{
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = false };
	struct type1 t = { .container = -1, .group = -1 };
	char bdf[BDF_LEN];
	unsigned int got;
	struct check c;
	int fd;

	check_begin(&c, "failslab", failslab_subs);
	if (!path_exists(FAILSLAB)) {
		check_setup_fail(&c, "%s missing (needs %s)", FAILSLAB,
				 "CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS");
		goto out;
	}
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device");
		goto out;
	}
	if (type1_open(&t, bdf, !o->isolated)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	fd = type1_device_fd(&t);
	if (fd < 0 || vfio_dev_init(&d, fd, bdf) || edu_check_id(&d) ||
	    failslab_setup()) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}

	failslab_cycles(&c, &d);
	/* MSI on again for the debugfs listing, then off for good. */
	if (!vfio_dev_msi_enable(&d) && !edu_fire_msis(&d, 1, &got))
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
