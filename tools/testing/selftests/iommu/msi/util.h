/* SPDX-License-Identifier: GPL-2.0 */
/* Logging and small file helpers shared by the MSI selftests. */
#ifndef MSI_UTIL_H
#define MSI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define PATH_LEN	512
#define MSG_LEN		512

#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))

/*
 * Diagnostics, as TAP comment lines ("# ...") on stderr like the
 * harness's TH_LOG(): unbuffered, so a test child that ends with _exit()
 * loses none of them.
 */
void msi_log(const char *fmt, ...) PRINTF_FMT(1, 2);
/* Figures for the e2e runner: "# INFO <tag> <name>=<value> ..." */
void info_log(const char *tag, const char *fmt, ...) PRINTF_FMT(2, 3);

/*
 * Record an error (-errno) for the failing step, log it and return it, so
 * helpers can "return err_ret(-errno, "open %s", path);".  The message is
 * kept (per thread) so the caller can use it in a failure message.
 */
int err_ret(int err, const char *fmt, ...) PRINTF_FMT(2, 3);
const char *last_error(void);

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
