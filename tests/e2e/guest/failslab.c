// SPDX-License-Identifier: GPL-2.0
/*
 * The "failslab" check: slab allocations of this process fail, first
 * those made under the framework's reserve and prepare entry points
 * (stacktrace filter), then each allocation in turn while it enables
 * MSI on an edu device under VFIO type1 (MSI allocation, doorbell
 * prepare and mapping, IRQ request). Each attempt must fail cleanly or
 * succeed, and the next, unhindered attempt must deliver its MSI. Afterwards nothing may be left
 * mapped; the kmemleak check of the same boot looks for leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "edu.h"
#include "vfio_type1.h"

#define FAILSLAB		"/sys/kernel/debug/failslab"
#define FAIL_NTH		"/proc/thread-self/fail-nth"
/* Bound on the allocations of one MSI enable. */
#define FAIL_POSITIONS		256

/*
 * fail-nth counts exactly, per task, from the write. It stays open: an
 * open() would itself allocate, and count.
 */
static int fail_nth_fd = -1;

static const char *const failslab_subs[] = {
	"inject", "recover", "reserve", "prepare", "debugfs", NULL
};

static int fs_write(const char *attr, const char *val)
{
	char path[PATH_LEN];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", FAILSLAB, attr);
	ret = write_text(path, val);
	return ret ? err_ret(ret, "write %s to %s", val, path) : 0;
}

/* GFP_KERNEL too, silently (a stack dump reads as a bug). */
static int failslab_setup(void)
{
	if (fs_write("ignore-gfp-wait", "N") || fs_write("verbose", "0"))
		return -EIO;
	fail_nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	return fail_nth_fd < 0 ? err_ret(-errno, "open %s", FAIL_NTH) : 0;
}

/* Fail the n-th slab allocation of this task from now on, once. */
static int failslab_arm(unsigned int n)
{
	char val[16];
	int len = snprintf(val, sizeof(val), "%u", n);

	if (pwrite(fail_nth_fd, val, (size_t)len, 0) != len)
		return err_ret(-errno, "write %s to %s", val, FAIL_NTH);
	return 0;
}

/* Stops injecting; true if the failure was injected since failslab_arm(). */
static bool failslab_disarm(void)
{
	char val[16] = "";
	ssize_t n = pread(fail_nth_fd, val, sizeof(val) - 1, 0);

	if (pwrite(fail_nth_fd, "0", 1, 0) != 1)
		e2e_log("cannot reset %s: %s", FAIL_NTH, strerror(errno));
	return n > 0 && val[0] == '0';
}

/* [start, end) of a kernel function: its symbol up to the next one. */
static int ksym_range(const char *name, unsigned long long *start,
		      unsigned long long *end)
{
	unsigned long long addr, best = 0;
	char type, sym[256], line[512];
	FILE *f = fopen("/proc/kallsyms", "re");

	*start = 0;
	*end = ~0ULL;
	if (!f)
		return err_ret(-errno, "open /proc/kallsyms");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) != 3)
			continue;
		if (!strcmp(sym, name))
			best = addr;
		else if (best && addr > best && addr < *end)
			*end = addr;
	}
	fclose(f);
	/* kallsyms is sorted: the first address after ours ends it. */
	if (!best || *end == ~0ULL)
		return err_ret(-ENOENT, "%s not in /proc/kallsyms", name);
	*start = best;
	return 0;
}

/*
 * Fail the first slab allocation made, by this task, under @func (its
 * address range on the stack). Returns 0 when armed.
 */
static int failslab_arm_in(const char *func)
{
	unsigned long long start, end;
	char val[32];

	if (ksym_range(func, &start, &end))
		return -ENOENT;
	snprintf(val, sizeof(val), "0x%llx", start);
	if (fs_write("require-start", val))
		return -EIO;
	snprintf(val, sizeof(val), "0x%llx", end);
	if (fs_write("require-end", val) || fs_write("stacktrace-depth", "32"))
		return -EIO;
	return failslab_arm(1);
}

static void failslab_unfilter(void)
{
	fs_write("require-start", "0");
	fs_write("require-end", "0xffffffffffffffff");
}

/*
 * The framework's own allocations: its cookie when VFIO type1 reserves the
 * window at attach, its doorbell bookkeeping at the first MSI prepare.
 * Each failure must reach userspace, and the retry must work.
 */
static void failslab_framework(struct check *c, struct type1 *t,
			       struct vfio_dev *d, const char *bdf,
			       bool allow_unsafe)
{
	bool injected;
	unsigned int got = 0;
	int ret, retry;

	if (failslab_arm_in("iommu_msi_cookie_create_window")) {
		check_report(c, "reserve", false, "%s", last_error());
	} else {
		ret = type1_open(t, bdf, allow_unsafe);
		injected = failslab_disarm();
		failslab_unfilter();
		type1_close(t);
		retry = type1_open(t, bdf, allow_unsafe);
		check_report(c, "reserve", injected && ret && !retry,
			     "allocation under iommu_msi_cookie_create_window() failed: %s; VFIO_SET_IOMMU %s; retry %s",
			     injected ? "yes" : "NOT INJECTED",
			     ret ? strerror(-ret) : "SUCCEEDED",
			     retry ? strerror(-retry) : "attached");
		if (retry)
			return;
	}

	ret = type1_device_fd(t);
	if (ret < 0 || vfio_dev_init(d, ret, bdf) || edu_check_id(d)) {
		check_report(c, "prepare", false, "%s", last_error());
		return;
	}
	if (failslab_arm_in("iommu_msi_prepare")) {
		check_report(c, "prepare", false, "%s", last_error());
		return;
	}
	ret = vfio_dev_msi_enable(d);
	injected = failslab_disarm();
	failslab_unfilter();
	vfio_dev_msi_disable(d);
	retry = vfio_dev_msi_enable(d);
	if (!retry)
		retry = edu_fire_msis(d, 1, &got);
	check_report(c, "prepare", injected && ret && !retry && got == 1,
		     "allocation under iommu_msi_prepare() failed: %s; MSI enable %s; retry delivered %u MSI",
		     injected ? "yes" : "NOT INJECTED",
		     ret ? strerror(-ret) : "SUCCEEDED", got);
	vfio_dev_msi_disable(d);
}

/*
 * Fail the 1st, 2nd, ... slab allocation of an MSI enable until the enable
 * makes fewer allocations than that: every allocation of the path fails
 * once.
 */
static void failslab_cycles(struct check *c, struct vfio_dev *d)
{
	unsigned int n, failed = 0, bad = 0, got;
	unsigned long long start, end;
	char first_bad[MSG_LEN] = "", val[32];
	bool injected = true;
	int ret;

	/*
	 * Not under register_irq_proc(): genirq ignores a /proc/irq entry it
	 * failed to create and WARNs when it removes it (upstream, outside
	 * MSI doorbell handling).
	 */
	if (ksym_range("register_irq_proc", &start, &end)) {
		check_report(c, "inject", false, "%s", last_error());
		return;
	}
	snprintf(val, sizeof(val), "0x%llx", start);
	fs_write("reject-start", val);
	snprintf(val, sizeof(val), "0x%llx", end);
	fs_write("reject-end", val);

	for (n = 1; n <= FAIL_POSITIONS && injected; n++) {
		if (failslab_arm(n)) {
			check_report(c, "inject", false, "%s", last_error());
			return;
		}
		ret = vfio_dev_msi_enable(d);
		injected = failslab_disarm();
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
	n--;
	fs_write("reject-start", "0");
	fs_write("reject-end", "0");
	check_report(c, "inject", !injected && n > 1,
		     "each of the %u slab allocations of an MSI enable (but /proc/irq's) failed once (allocation %u is past the path); %u enables returned an error",
		     n - 1, n, failed);
	check_report(c, "recover", !bad,
		     "%u/%u follow-up enables delivered their MSI%s%s",
		     n - bad, n, bad ? "; first: " : "", first_bad);
}

void check_failslab(const struct e2e_opts *o)
{
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = false };
	struct type1 t = { .container = -1, .group = -1 };
	char bdf[BDF_LEN];
	unsigned int got;
	struct check c;

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
	if (failslab_setup()) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	failslab_framework(&c, &t, &d, bdf, !o->isolated);
	if (d.fd < 0) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	failslab_cycles(&c, &d);
	/* MSI on again for the debugfs listing, then off for good. */
	if (!vfio_dev_msi_enable(&d) && !edu_fire_msis(&d, 1, &got))
		vt_debugfs_on(&c, &v, &d, o);
out:
	vt_release(&c, &v, &d);
	if (d.fd >= 0)
		close(d.fd);
	type1_close(&t);
	if (fail_nth_fd >= 0)
		close(fail_nth_fd);
	fail_nth_fd = -1;
	check_end(&c);
}
