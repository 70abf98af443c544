/* SPDX-License-Identifier: GPL-2.0 */
/* Logging, check reporting and small file helpers for the guest program. */
#ifndef E2E_UTIL_H
#define E2E_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PATH_LEN	512
#define MSG_LEN		512

#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))

/* Progress lines: "E2E: ..." and, for the demo, "DEMO: ..." */
void e2e_log(const char *fmt, ...) PRINTF_FMT(1, 2);
void demo_log(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Figures for run.sh: "E2E-INFO <tag> <name>=<value> ..." */
void info_log(const char *tag, const char *fmt, ...) PRINTF_FMT(2, 3);

/*
 * Record an error (-errno) for the failing step, log it and return it, so
 * helpers can "return err_ret(-errno, "open %s", path);".  The message is
 * kept (per thread) so the caller can use it as a FAIL reason.
 */
int err_ret(int err, const char *fmt, ...) PRINTF_FMT(2, 3);
const char *last_error(void);

/* One "E2E-CHECK <name> PASS|FAIL <reason>" line. */
void report_line(const char *name, bool ok, const char *fmt, ...)
	PRINTF_FMT(3, 4);
int report_failures(void);
int report_passes(void);

/*
 * A check with a fixed list of subchecks.  Subchecks that were never
 * reported (because setup failed) are printed as FAIL by check_end(), so
 * the host always sees the same set of lines.
 */
#define CHECK_MAX_SUBS	16

struct check {
	const char *name;
	const char *const *subs;	/* NULL-terminated */
	unsigned int done;		/* bit i: subs[i] reported */
	int nfail;
	bool setup_failed;
	char why[MSG_LEN];
};

void check_begin(struct check *c, const char *name, const char *const *subs);
void check_report(struct check *c, const char *sub, bool ok,
		  const char *fmt, ...) PRINTF_FMT(4, 5);
void check_setup_fail(struct check *c, const char *fmt, ...) PRINTF_FMT(2, 3);
void check_end(struct check *c);

/* sysfs/procfs helpers; all return 0 (or a length) / -errno. */
int read_text(const char *path, char *buf, size_t len);
int read_bin(const char *path, void *buf, size_t len);
int read_hex(const char *path, unsigned long *val);
int write_text(const char *path, const char *s);
int link_basename(const char *path, char *buf, size_t len);
bool path_exists(const char *path);
int wait_for_path(const char *path, int timeout_ms);
int single_dir_entry(const char *dir, const char *prefix, char *buf,
		     size_t len);
/* Last kernel log line containing needle, into line: 0 or -errno. */
int kmsg_find(const char *needle, char *line, size_t len);
/* Print a text file line by line with a prefix; -errno if unreadable. */
int dump_file(const char *path, const char *prefix);

uint64_t now_ms(void);
void sleep_ms(unsigned int ms);
/* 1 if readable, 0 on timeout, -errno on error. */
int wait_readable(int fd, int timeout_ms);

#endif
