// SPDX-License-Identifier: GPL-2.0
/* kmemleak: a baseline before the selftests and a scan after them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmemleak.h"

#define KMEMLEAK		"/sys/kernel/debug/kmemleak"
/* kmemleak reports objects unreferenced for longer than 5 s. */
#define KMEMLEAK_MIN_AGE_S	6
#define KMEMLEAK_SCANS		2
#define SHOW_LINES		40

static int kmemleak_write(const char *cmd)
{
	size_t len = strlen(cmd);
	int fd, ret = 0;

	fd = open(KMEMLEAK, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

int kmemleak_baseline(char *msg, size_t len)
{
	int ret = kmemleak_write("scan");

	if (!ret)
		ret = kmemleak_write("clear");
	if (ret)
		snprintf(msg, len, "kmemleak baseline on %s: %s", KMEMLEAK,
			 strerror(-ret));
	else
		snprintf(msg, len, "kmemleak: boot-time objects cleared before the selftests");
	return ret;
}

int kmemleak_scan(unsigned int *leaks, char *msg, size_t len)
{
	struct timespec ts = { .tv_sec = KMEMLEAK_MIN_AGE_S };
	unsigned int shown = 0, i;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *f;

	*leaks = 0;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	for (i = 0; i < KMEMLEAK_SCANS && !ret; i++)
		ret = kmemleak_write("scan");
	if (ret) {
		snprintf(msg, len, "scan %s: %s", KMEMLEAK, strerror(-ret));
		return ret;
	}
	f = fopen(KMEMLEAK, "re");
	if (!f) {
		ret = -errno;
		snprintf(msg, len, "open %s: %s", KMEMLEAK, strerror(-ret));
		return ret;
	}
	while (getline(&line, &cap, f) > 0) {
		if (strstr(line, "unreferenced object"))
			(*leaks)++;
		if (shown++ < SHOW_LINES)
			printf("# kmemleak: %s", line);
	}
	free(line);
	fclose(f);
	snprintf(msg, len,
		 "%u unreferenced object(s) after %u scans, %d s after the selftests",
		 *leaks, KMEMLEAK_SCANS, KMEMLEAK_MIN_AGE_S);
	return 0;
}
