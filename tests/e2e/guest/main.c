// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the MSI-through-IOMMU end-to-end test guest: sets up the
 * minimal PID 1 environment, runs the checks named on the kernel command
 * line, prints the result and powers the VM off.  PID 1 must never exit
 * (the kernel would panic), so every path ends in reboot().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "doorbell.h"
#include "kmemleak.h"
#include "mmio.h"
#include "opts.h"
#include "util.h"

#define WATCHDOG_SECS	240
#define CONSOLE_PATH	"/dev/console"
#define MOUNT_ERRS	8

struct mnt {
	const char *src, *dir, *type;
	bool optional;
};

static const struct mnt mounts[] = {
	{ "proc", "/proc", "proc", false },
	{ "sysfs", "/sys", "sysfs", false },
	{ "devtmpfs", "/dev", "devtmpfs", false },
	{ "debugfs", "/sys/kernel/debug", "debugfs", true },
};

static const struct {
	const char *name;
	void (*run)(const struct e2e_opts *o);
} check_table[] = {
	{ "type1", check_type1 },
	{ "iommufd", check_iommufd },
	{ "iommufd-replace", check_iommufd_replace },
	{ "iommufd-window", check_iommufd_window },
	{ "iommufd-race", check_iommufd_race },
	{ "dmaapi", check_dmaapi },
	{ "demo", check_demo },
	{ "stress", check_stress },
	{ "failslab", check_failslab },
	{ "kmemleak", check_kmemleak },
};

static bool is_pid1;
static char mount_errs[MOUNT_ERRS][MSG_LEN];
static int n_mount_errs;

/* Async-signal-safe: used from signal handlers and the watchdog. */
static void write_str(const char *s)
{
	ssize_t n;

	for (size_t len = strlen(s); len; len -= (size_t)n, s += n) {
		n = write(STDOUT_FILENO, s, len);
		if (n <= 0)
			return;
	}
}

static void __attribute__((noreturn)) power_off_now(int code)
{
	sync();
	if (!is_pid1)
		_exit(code);
	reboot(RB_POWER_OFF);
	write_str("E2E: reboot(RB_POWER_OFF) failed\n");
	for (;;)
		pause();
}

#define FATAL_PREFIX	"\nE2E: fatal signal "

static void fatal_handler(int sig)
{
	char msg[] = FATAL_PREFIX "00\nE2E-RESULT FAIL crash\n";
	char *num = msg + sizeof(FATAL_PREFIX) - 1;

	/* A guarded MMIO read faulted: resume there instead. */
	mmio_fault_hook(sig);
	num[0] = (char)('0' + sig / 10 % 10);
	num[1] = (char)('0' + sig % 10);
	write_str(msg);
	power_off_now(128 + sig);
}

static void watchdog_fire(void)
{
	write_str("\nE2E-RESULT FAIL timeout\n");
	power_off_now(1);
}

static void alarm_handler(int sig)
{
	(void)sig;
	watchdog_fire();
}

static void install_handlers(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = fatal_handler;
	for (i = 0; i < ARRAY_SIZE(fatal); i++)
		if (sigaction(fatal[i], &sa, NULL))
			e2e_log("sigaction(%d): %s", fatal[i], strerror(errno));
	signal(SIGPIPE, SIG_IGN);
}

/*
 * A separate process keeps the deadline even if PID 1 is stuck in the
 * kernel where no signal reaches it.  Outside PID 1 (manual runs) an
 * alarm() that only exits is enough and never powers the host off.
 */
static void start_watchdog(void)
{
	struct timespec ts = { .tv_sec = WATCHDOG_SECS };
	pid_t pid;

	if (is_pid1) {
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
			watchdog_fire();
		}
		if (pid > 0) {
			e2e_log("watchdog (pid %d) powers off after %d s",
				(int)pid, WATCHDOG_SECS);
			return;
		}
		e2e_log("fork watchdog: %s; falling back to alarm()",
			strerror(errno));
	}
	signal(SIGALRM, alarm_handler);
	alarm(WATCHDOG_SECS);
}

/* Errors are kept until the console is open. */
static void mount_all(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mounts); i++) {
		const struct mnt *m = &mounts[i];

		if (!m->optional && mkdir(m->dir, 0755) && errno != EEXIST)
			goto err;
		if (!mount(m->src, m->dir, m->type, 0, NULL) || errno == EBUSY)
			continue;
err:
		if (n_mount_errs < MOUNT_ERRS)
			snprintf(mount_errs[n_mount_errs++], MSG_LEN,
				 "%s %s on %s: %s%s",
				 m->optional ? "(optional)" : "", m->type,
				 m->dir, strerror(errno),
				 m->optional ? ", ignored" : "");
	}
}

static void open_console(void)
{
	int fd = open(CONSOLE_PATH, O_RDWR | O_NOCTTY);

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/* Line buffered: one write per line, before any output. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	if (fd < 0)
		e2e_log("open %s: %s", CONSOLE_PATH, strerror(errno));
}

static void log_environment(const struct e2e_opts *o)
{
	const struct doorbell *db;
	struct utsname u;
	int i;

	if (!uname(&u))
		e2e_log("kernel %s %s on %s", u.release, u.version, u.machine);
	e2e_log("options: doorbell=%s isolated=%d msis=%u checks=%d",
		o->translated ? "translated" : "direct", o->isolated,
		o->msis, o->nchecks);
	for (i = 0; i < o->nchecks; i++)
		e2e_log("  check %d: %s", i + 1, o->checks[i]);
	if (doorbell_get(&db))
		e2e_log("no MSI controller (GICv3 ITS, GICv2m, FSL MPIC) in the device tree");
	else
		e2e_log("doorbell: %s at %s (base 0x%llx), %s PA 0x%llx",
			db->ctrl, db->node, (unsigned long long)db->base,
			db->reg, (unsigned long long)db->pa);
}

static void run_check(const struct e2e_opts *o, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(check_table); i++) {
		if (!strcmp(check_table[i].name, name)) {
			check_table[i].run(o);
			return;
		}
	}
	report_line(name, false,
		    "unknown check (known: type1 iommufd iommufd-replace iommufd-window iommufd-race dmaapi demo stress failslab kmemleak)");
}

static void __attribute__((noreturn)) finish(void)
{
	bool ok = report_failures() == 0 && report_passes() > 0;

	e2e_log("%d check line(s) PASS, %d FAIL", report_passes(),
		report_failures());
	printf("E2E-RESULT %s\n", ok ? "PASS" : "FAIL");
	fflush(stdout);
	alarm(0);
	power_off_now(ok ? 0 : 1);
}

int main(void)
{
	struct e2e_opts o;
	int i;

	is_pid1 = getpid() == 1;
	if (is_pid1) {
		mount_all();
		open_console();
	} else {
		setvbuf(stdout, NULL, _IOLBF, 0);
	}
	install_handlers();
	e2e_log("msi e2e guest starting (pid %d)", (int)getpid());
	for (i = 0; i < n_mount_errs; i++)
		e2e_log("mount %s", mount_errs[i]);
	start_watchdog();

	opts_parse(&o);
	log_environment(&o);
	if (!o.nchecks)
		report_line("checks", false,
			    "no checks requested (msi_e2e.checks=...)");
	for (i = 0; i < o.nchecks; i++)
		if (!strcmp(o.checks[i], "kmemleak") && kmemleak_baseline())
			e2e_log("%s", last_error());
	for (i = 0; i < o.nchecks; i++)
		run_check(&o, o.checks[i]);
	finish();
}
