// SPDX-License-Identifier: GPL-2.0
/* kmemleak: a baseline before the checks and a scan after them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "kmemleak.h"
#include "util.h"

#define KMEMLEAK		"/sys/kernel/debug/kmemleak"
/* kmemleak reports objects unreferenced for longer than 5 s. */
#define KMEMLEAK_MIN_AGE_MS	6000
#define KMEMLEAK_SCANS		2
#define SHOW_LINES		40

int kmemleak_baseline(void)
{
	int ret = write_text(KMEMLEAK, "scan");

	if (!ret)
		ret = write_text(KMEMLEAK, "clear");
	if (ret)
		return err_ret(ret, "kmemleak baseline on %s", KMEMLEAK);
	e2e_log("kmemleak: boot-time objects cleared before the checks");
	return 0;
}

/* Counts the leak reports and logs the first lines of them. */
static int count_leaks(unsigned int *leaks)
{
	unsigned int shown = 0;
	size_t cap = 0;
	char *line = NULL;
	FILE *f;

	*leaks = 0;
	f = fopen(KMEMLEAK, "re");
	if (!f)
		return err_ret(-errno, "open %s", KMEMLEAK);
	while (getline(&line, &cap, f) > 0) {
		if (strstr(line, "unreferenced object"))
			(*leaks)++;
		if (shown++ < SHOW_LINES)
			e2e_log("kmemleak: %s", strtok(line, "\n"));
	}
	free(line);
	fclose(f);
	return 0;
}

void check_kmemleak(const struct e2e_opts *o)
{
	unsigned int leaks = 0, i;
	int ret = 0;

	(void)o;
	sleep_ms(KMEMLEAK_MIN_AGE_MS);
	for (i = 0; i < KMEMLEAK_SCANS && !ret; i++)
		ret = write_text(KMEMLEAK, "scan");
	if (ret)
		err_ret(ret, "scan %s", KMEMLEAK);
	else
		ret = count_leaks(&leaks);
	if (ret) {
		report_line("kmemleak", false, "%s", last_error());
		return;
	}
	report_line("kmemleak", leaks == 0,
		    "%u unreferenced object(s) after %u scans, %d ms after the checks",
		    leaks, KMEMLEAK_SCANS, KMEMLEAK_MIN_AGE_MS);
}
