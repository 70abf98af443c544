// SPDX-License-Identifier: GPL-2.0
/* Logging and small file helpers shared by the MSI selftests. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* klogctl() actions, see syslog(2). */
#define KLOG_READ_ALL		3
#define KLOG_SIZE_BUFFER	10

#define LINE_LEN	1024
#define PATH_POLL_MS	20

/* Per thread: a test may run steps in threads of its own. */
static __thread char last_err[MSG_LEN];

/*
 * stdout line buffered even into a pipe: the harness's own lines then
 * keep their place among the diagnostics on stderr.
 */
static void __attribute__((constructor)) msi_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* A diagnostic never spans lines. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[LINE_LEN];

	vsnprintf(line, sizeof(line), fmt, ap);
	one_line(line);
	/* One fprintf per line: one write() on an unbuffered stream. */
	fprintf(stderr, "# %s%s\n", prefix, line);
}

void msi_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void info_log(const char *tag, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "INFO %s ", tag);
	va_start(ap, fmt);
	vlog(prefix, fmt, ap);
	va_end(ap);
}

int err_ret(int err, const char *fmt, ...)
{
	char step[MSG_LEN / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	snprintf(last_err, sizeof(last_err), "%s: %s", step,
		 strerror(err < 0 ? -err : err));
	one_line(last_err);
	msi_log("error: %s", last_err);
	return err < 0 ? err : -err;
}

const char *last_error(void)
{
	return last_err[0] ? last_err : "unknown error";
}

int read_bin(const char *path, void *buf, size_t len)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	err = errno;
	close(fd);
	return n < 0 ? -err : (int)n;
}

int read_text(const char *path, char *buf, size_t len)
{
	int n;

	if (!len)
		return -EINVAL;
	n = read_bin(path, buf, len - 1);
	if (n < 0) {
		buf[0] = '\0';
		return n;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

int read_hex(const char *path, unsigned long *val)
{
	char buf[64], *end;
	int n;

	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	errno = 0;
	*val = strtoul(buf, &end, 16);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int write_text(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return (size_t)n == len ? 0 : -EIO;
}

int link_basename(const char *path, char *buf, size_t len)
{
	char target[PATH_LEN];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* devtmpfs/sysfs nodes can appear a little after the driver bound. */
int wait_for_path(const char *path, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		if (path_exists(path))
			return 0;
		if (now_ms() >= end)
			return -ENOENT;
		sleep_ms(PATH_POLL_MS);
	}
}

/* The one entry of dir whose name starts with prefix. */
int single_dir_entry(const char *dir, const char *prefix, char *buf,
		     size_t len)
{
	struct dirent *de;
	int found = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (!found++)
			snprintf(buf, len, "%s", de->d_name);
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	return found == 1 ? 0 : -EEXIST;
}

int dump_file(const char *path, const char *prefix)
{
	char line[LINE_LEN];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		printf("%s%s\n", prefix, line);
	}
	fclose(f);
	fflush(stdout);
	return 0;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int wait_readable(int fd, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int left, ret;

	for (;;) {
		uint64_t now = now_ms();

		left = now >= end ? 0 : (int)(end - now);
		ret = poll(&pfd, 1, left);
		if (ret > 0)
			return (pfd.revents & POLLIN) ? 1 : -EIO;
		if (ret == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int kmsg_find(const char *needle, char *line, size_t len)
{
	int size = klogctl(KLOG_SIZE_BUFFER, NULL, 0), n;
	char *buf, *p, *end, *found = NULL;

	if (size <= 0)
		return err_ret(size < 0 ? -errno : -ENODATA, "kernel log size");
	buf = malloc((size_t)size + 1);
	if (!buf)
		return err_ret(-ENOMEM, "kernel log buffer");
	n = klogctl(KLOG_READ_ALL, buf, size);
	if (n < 0) {
		free(buf);
		return err_ret(-errno, "read the kernel log");
	}
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, needle)); p++)
		found = p;
	if (found) {
		while (found > buf && found[-1] != '\n')
			found--;
		end = strchr(found, '\n');
		snprintf(line, len, "%.*s", end ? (int)(end - found) : (int)strlen(found),
			 found);
	}
	free(buf);
	return found ? 0 : err_ret(-ENOENT, "no '%s' in the kernel log", needle);
}
