// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the MSI e2e guest.  It mounts what the selftests need, runs
 * the selftest programs the kernel command line names, passes their TAP
 * output on as one TAP stream (theirs nested, as kselftest's runner does),
 * ends with one line of totals and powers the VM off.  PID 1 must never
 * exit (the kernel would panic), so every path ends in reboot().
 *
 * msi_e2e.tests=<prog>[:<opt>=<name>...][,<prog>...]
 *	the programs of /selftests to run, in order, with harness filter
 *	options: "vfio_msi:T=stress:v=type1" runs
 *	"/selftests/vfio_msi -T stress -v type1".
 * msi_e2e.kmemleak=1
 *	a kmemleak baseline before the programs and a scan after them, as
 *	one more test point.
 * msi_e2e.timeout=<seconds>
 *	the deadline of the whole run (default 240).
 * msi_e2e.<name>=<value>, any other
 *	MSI_E2E_<NAME>=<value> in the programs' environment.
 *
 * The last line is
 *	# msi_init: Totals: pass:P fail:F xfail:X xpass:Y skip:S error:E
 * the sum of the programs' own "# Totals:" lines, plus the kmemleak test
 * point; a program that ends without its totals or its plan counts as an
 * error.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kmemleak.h"

#define CONSOLE_PATH	"/dev/console"
#define SELFTESTS_DIR	"/selftests"
#define OPT_PREFIX	"msi_e2e."
#define ENV_PREFIX	"MSI_E2E_"
#define CMDLINE_LEN	4096
#define LINE_LEN	4096
#define MSG_LEN		512
#define MAX_PROGS	16
#define MAX_ARGS	32
#define DEFAULT_DEADLINE 240
#define KSFT_SKIP	4

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct mnt {
	const char *src, *dir, *type;
	bool optional;
};

static const struct mnt mounts[] = {
	{ "proc", "/proc", "proc", false },
	{ "sysfs", "/sys", "sysfs", false },
	{ "devtmpfs", "/dev", "devtmpfs", false },
	{ "debugfs", "/sys/kernel/debug", "debugfs", true },
	{ "tracefs", "/sys/kernel/tracing", "tracefs", true },
};

/* One program to run: argv[0] is its path. */
struct prog {
	char *argv[MAX_ARGS + 1];
	int argc;
};

/* The counters of a "# Totals:" line. */
struct totals {
	unsigned int pass, fail, xfail, xpass, skip, error;
};

static bool is_pid1;
static char mount_errs[8][MSG_LEN];
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
	write_str("# msi_init: reboot(RB_POWER_OFF) failed\n");
	for (;;)
		pause();
}

#define FATAL_PREFIX	"Bail out! msi_init: fatal signal "

static void fatal_handler(int sig)
{
	char msg[] = FATAL_PREFIX "00\n";
	char *num = msg + sizeof(FATAL_PREFIX) - 1;

	num[0] = (char)('0' + sig / 10 % 10);
	num[1] = (char)('0' + sig % 10);
	write_str(msg);
	power_off_now(128 + sig);
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
		sigaction(fatal[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * A separate process keeps the deadline even if PID 1 is stuck in the
 * kernel where no signal reaches it.
 */
static void start_watchdog(unsigned int secs)
{
	struct timespec ts = { .tv_sec = secs };
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		write_str("\nBail out! msi_init: deadline passed\n");
		if (is_pid1) {
			sync();
			reboot(RB_POWER_OFF);
		}
		kill(getppid(), SIGKILL);
		_exit(1);
	}
	if (pid < 0)
		printf("# msi_init: no watchdog: fork: %s\n", strerror(errno));
	else
		printf("# msi_init: watchdog (pid %d) powers off after %u s\n",
		       (int)pid, secs);
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
		if (n_mount_errs < (int)ARRAY_SIZE(mount_errs))
			snprintf(mount_errs[n_mount_errs++], MSG_LEN,
				 "%s on %s: %s%s", m->type, m->dir,
				 strerror(errno),
				 m->optional ? " (optional, ignored)" : "");
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
}

/* "vfio_msi:T=stress:v=type1" into argv; false (and why) if malformed. */
static bool parse_prog(char *spec, struct prog *p, char *why, size_t len)
{
	char *save = NULL, *tok, *name;
	static const char opts[] = "tTvVfFr";

	name = strtok_r(spec, ":", &save);
	if (!name || !*name || strchr(name, '/')) {
		snprintf(why, len, "bad program name in '%s'", spec);
		return false;
	}
	p->argc = 0;
	if (asprintf(&p->argv[p->argc++], "%s/%s", SELFTESTS_DIR, name) < 0)
		return false;
	while ((tok = strtok_r(NULL, ":", &save))) {
		if (strlen(tok) < 3 || tok[1] != '=' ||
		    !strchr(opts, tok[0]) || p->argc + 2 > MAX_ARGS) {
			snprintf(why, len,
				 "bad option '%s' for %s (<one of %s>=<name>)",
				 tok, name, opts);
			return false;
		}
		if (asprintf(&p->argv[p->argc++], "-%c", tok[0]) < 0)
			return false;
		p->argv[p->argc++] = strdup(tok + 2);
	}
	p->argv[p->argc] = NULL;
	return true;
}

/* The programs, the kmemleak flag and the deadline; other options go to the environment. */
static int parse_cmdline(struct prog *progs, int *nprogs, bool *kmemleak,
			 unsigned int *deadline)
{
	char buf[CMDLINE_LEN], env[128], why[MSG_LEN], *save = NULL, *tok;
	char *eq, *psave, *spec;
	int fd, n, bad = 0;
	size_t i;

	*nprogs = 0;
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		printf("Bail out! msi_init: cannot read /proc/cmdline: %s\n",
		       strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	printf("# msi_init: cmdline: %s", buf);
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(tok, OPT_PREFIX, strlen(OPT_PREFIX)))
			continue;
		tok += strlen(OPT_PREFIX);
		eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			printf("# msi_init: %s%s needs a value\n", OPT_PREFIX,
			       tok);
			bad++;
			continue;
		}
		*eq++ = '\0';
		if (!strcmp(tok, "tests")) {
			psave = NULL;
			for (spec = strtok_r(eq, ",", &psave); spec;
			     spec = strtok_r(NULL, ",", &psave)) {
				if (*nprogs == MAX_PROGS ||
				    !parse_prog(spec, &progs[*nprogs], why,
						sizeof(why))) {
					printf("# msi_init: %s\n", *nprogs ==
					       MAX_PROGS ? "too many programs" : why);
					bad++;
					break;
				}
				(*nprogs)++;
			}
		} else if (!strcmp(tok, "kmemleak")) {
			*kmemleak = !strcmp(eq, "1");
		} else if (!strcmp(tok, "timeout")) {
			*deadline = (unsigned int)strtoul(eq, NULL, 10);
		} else {
			snprintf(env, sizeof(env), "%s%s", ENV_PREFIX, tok);
			for (i = strlen(ENV_PREFIX); env[i]; i++)
				env[i] = env[i] == '-' ? '_' :
					 (char)toupper((unsigned char)env[i]);
			setenv(env, eq, 1);
			printf("# msi_init: %s=%s\n", env, eq);
		}
	}
	if (!*nprogs) {
		printf("# msi_init: no programs (%stests=...)\n", OPT_PREFIX);
		bad++;
	}
	if (!*deadline)
		*deadline = DEFAULT_DEADLINE;
	return bad ? -1 : 0;
}

static bool parse_totals(const char *line, struct totals *t)
{
	return sscanf(line, "# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:%u",
		      &t->pass, &t->fail, &t->xfail, &t->xpass, &t->skip,
		      &t->error) == 6;
}

static void add_totals(struct totals *sum, const struct totals *t)
{
	sum->pass += t->pass;
	sum->fail += t->fail;
	sum->xfail += t->xfail;
	sum->xpass += t->xpass;
	sum->skip += t->skip;
	sum->error += t->error;
}

/*
 * Runs one program with stdout and stderr into a pipe, and prints its
 * lines nested ("# " ahead of each).  Returns the test point's verdict.
 */
static bool run_prog(const struct prog *p, int num, struct totals *sum)
{
	unsigned int plan = 0, results = 0;
	struct totals t = { 0 };
	bool have_totals = false, have_plan = false, ok;
	char line[LINE_LEN], cmd[LINE_LEN] = "", why[MSG_LEN] = "";
	int fds[2], status = 0, i;
	size_t used = 0;
	FILE *out;
	pid_t pid;

	for (i = 1; i < p->argc; i++)
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, " %s",
					 p->argv[i]);
	printf("# selftests: iommu/msi: %s%s\n", p->argv[0] +
	       strlen(SELFTESTS_DIR "/"), cmd);
	fflush(stdout);
	if (access(p->argv[0], X_OK)) {
		snprintf(why, sizeof(why), "no program %s: %s", p->argv[0],
			 strerror(errno));
		goto verdict;
	}
	if (pipe(fds)) {
		snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
		goto verdict;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(p->argv[0], p->argv);
		printf("Bail out! exec %s: %s\n", p->argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		goto verdict;
	}
	out = fdopen(fds[0], "r");
	while (out && fgets(line, sizeof(line), out)) {
		printf("# %s", line);
		if (!strchr(line, '\n'))
			printf("\n");
		if (sscanf(line, "1..%u", &plan) == 1)
			have_plan = true;
		else if (!strncmp(line, "ok ", 3) ||
			 !strncmp(line, "not ok ", 7))
			results++;
		else if (parse_totals(line, &t))
			have_totals = true;
	}
	if (out)
		fclose(out);
	else
		close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!have_totals || !have_plan)
		snprintf(why, sizeof(why), "no %s", have_plan ? "totals" : "plan");
	else if (results != plan)
		snprintf(why, sizeof(why), "%u results for a plan of %u",
			 results, plan);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d",
			 WTERMSIG(status));
	else if (WEXITSTATUS(status) && WEXITSTATUS(status) != KSFT_SKIP)
		snprintf(why, sizeof(why), "exit code %d",
			 WEXITSTATUS(status));
verdict:
	ok = !why[0];
	if (have_totals)
		add_totals(sum, &t);
	if (!have_totals || (have_totals && results != plan))
		sum->error++;
	if (ok && WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP)
		printf("ok %d selftests: iommu/msi: %s # SKIP\n", num,
		       p->argv[0] + strlen(SELFTESTS_DIR "/"));
	else
		printf("%sok %d selftests: iommu/msi: %s%s%s\n",
		       ok ? "" : "not ", num,
		       p->argv[0] + strlen(SELFTESTS_DIR "/"),
		       ok ? "" : " # ", why);
	fflush(stdout);
	return ok;
}

static void log_environment(void)
{
	struct utsname u;
	int i;

	if (!uname(&u))
		printf("# msi_init: kernel %s %s on %s\n", u.release,
		       u.version, u.machine);
	for (i = 0; i < n_mount_errs; i++)
		printf("# msi_init: mount %s\n", mount_errs[i]);
}

int main(void)
{
	struct prog progs[MAX_PROGS];
	unsigned int deadline = 0, leaks = 0;
	struct totals sum = { 0 };
	bool kmemleak = false;
	char msg[MSG_LEN];
	int nprogs = 0, i, bad = 0;

	is_pid1 = getpid() == 1;
	if (is_pid1) {
		mount_all();
		open_console();
	}
	/* Line buffered: one write per line, in order with the programs'. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	install_handlers();
	printf("TAP version 13\n");
	log_environment();
	if (parse_cmdline(progs, &nprogs, &kmemleak, &deadline)) {
		printf("Bail out! msi_init: bad %s options\n", OPT_PREFIX);
		sum.error++;
		nprogs = 0;
		kmemleak = false;
	}
	start_watchdog(deadline ? deadline : DEFAULT_DEADLINE);
	if (kmemleak && kmemleak_baseline(msg, sizeof(msg))) {
		printf("# msi_init: %s\n", msg);
		sum.error++;
	} else if (kmemleak) {
		printf("# msi_init: %s\n", msg);
	}
	printf("1..%d\n", nprogs + (kmemleak ? 1 : 0));
	for (i = 0; i < nprogs; i++)
		bad += !run_prog(&progs[i], i + 1, &sum);
	if (kmemleak) {
		if (kmemleak_scan(&leaks, msg, sizeof(msg))) {
			sum.error++;
			printf("not ok %d kmemleak # %s\n", nprogs + 1, msg);
		} else if (leaks) {
			sum.fail++;
			printf("not ok %d kmemleak # %s\n", nprogs + 1, msg);
		} else {
			sum.pass++;
			printf("ok %d kmemleak\n", nprogs + 1);
			printf("# msi_init: %s\n", msg);
		}
	}
	printf("# msi_init: %d program(s), %d not ok\n", nprogs, bad);
	printf("# msi_init: Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:%u\n",
	       sum.pass, sum.fail, sum.xfail, sum.xpass, sum.skip, sum.error);
	fflush(stdout);
	power_off_now(bad || sum.fail || sum.error ? 1 : 0);
}
