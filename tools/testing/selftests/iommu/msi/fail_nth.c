// SPDX-License-Identifier: GPL-2.0
/* Slab allocation failures on demand (see fail_nth.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_nth.h"
#include "util.h"

#define FAILSLAB		"/sys/kernel/debug/failslab"
#define FAIL_NTH		"/proc/thread-self/fail-nth"
#define KNOB_LEN		32

static int fail_nth_fd = -1;

/* The knobs fail_nth_open() changes, and their values before. */
static struct {
	const char *attr, *val;
	char old[KNOB_LEN];
} knobs[] = {
	{ .attr = "ignore-gfp-wait", .val = "N" },	/* GFP_KERNEL too */
	{ .attr = "verbose", .val = "0" },	/* a stack dump reads as a bug */
	{ .attr = "stacktrace-depth", .val = "32" },
};

static void fs_path(const char *attr, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", FAILSLAB, attr);
}

static int fs_write(const char *attr, const char *val)
{
	char path[PATH_LEN];
	int ret;

	fs_path(attr, path, sizeof(path));
	ret = write_text(path, val);
	return ret ? err_ret(ret, "write %s to %s", val, path) : 0;
}

bool fail_nth_available(char *why, size_t len)
{
	if (!path_exists(FAILSLAB)) {
		snprintf(why, len, "%s missing (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)",
			 FAILSLAB);
		return false;
	}
	if (!path_exists(FAIL_NTH)) {
		snprintf(why, len, "%s missing (CONFIG_FAULT_INJECTION)",
			 FAIL_NTH);
		return false;
	}
	return true;
}

int fail_nth_open(void)
{
	char path[PATH_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		fs_path(knobs[i].attr, path, sizeof(path));
		if (read_text(path, knobs[i].old, sizeof(knobs[i].old)) < 0)
			knobs[i].old[0] = '\0';
		if (fs_write(knobs[i].attr, knobs[i].val))
			return -EIO;
	}
	fail_nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	return fail_nth_fd < 0 ? err_ret(-errno, "open %s", FAIL_NTH) : 0;
}

void fail_nth_close(void)
{
	size_t i;

	fail_nth_unfilter();
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (knobs[i].old[0])
			fs_write(knobs[i].attr, knobs[i].old);
	if (fail_nth_fd >= 0)
		close(fail_nth_fd);
	fail_nth_fd = -1;
}

int fail_nth_arm(unsigned int n)
{
	char val[16];
	int len = snprintf(val, sizeof(val), "%u", n);

	if (pwrite(fail_nth_fd, val, (size_t)len, 0) != len)
		return err_ret(-errno, "write %s to %s", val, FAIL_NTH);
	return 0;
}

bool fail_nth_disarm(void)
{
	char val[16] = "";
	ssize_t n = pread(fail_nth_fd, val, sizeof(val) - 1, 0);

	if (pwrite(fail_nth_fd, "0", 1, 0) != 1)
		msi_log("cannot reset %s: %s", FAIL_NTH, strerror(errno));
	/* It reads 0 once the failure was injected. */
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
	if (!best || *end == ~0ULL)
		return err_ret(-ENOENT, "%s not in /proc/kallsyms", name);
	*start = best;
	return 0;
}

static int filter(const char *func, const char *start_attr,
		  const char *end_attr)
{
	unsigned long long start, end;
	char val[32];

	if (ksym_range(func, &start, &end))
		return -ENOENT;
	snprintf(val, sizeof(val), "0x%llx", start);
	if (fs_write(start_attr, val))
		return -EIO;
	snprintf(val, sizeof(val), "0x%llx", end);
	return fs_write(end_attr, val) ? -EIO : 0;
}

int fail_nth_require(const char *func)
{
	return filter(func, "require-start", "require-end");
}

int fail_nth_reject(const char *func)
{
	return filter(func, "reject-start", "reject-end");
}

void fail_nth_unfilter(void)
{
	fs_write("require-start", "0");
	fs_write("require-end", "0xffffffffffffffff");
	fs_write("reject-start", "0");
	fs_write("reject-end", "0");
}
