// SPDX-License-Identifier: GPL-2.0
/* msi_e2e.* options from /proc/cmdline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "util.h"

#ifndef CMDLINE_PATH	/* overridable for host-side unit testing */
#define CMDLINE_PATH	"/proc/cmdline"
#endif
#define CMDLINE_LEN	4096
#define OPT_PREFIX	"msi_e2e."

static int parse_checks(struct e2e_opts *o, char *val)
{
	char *save = NULL, *name;
	int bad = 0;

	o->nchecks = 0;
	for (name = strtok_r(val, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		if (!*name)
			continue;
		if (o->nchecks >= MAX_CHECKS ||
		    strlen(name) >= CHECK_NAME_LEN) {
			report_line("cmdline", false,
				    "too many or too long checks at '%s'",
				    name);
			bad++;
			break;
		}
		strcpy(o->checks[o->nchecks++], name);
	}
	return bad;
}

static int parse_one(struct e2e_opts *o, const char *key, char *val)
{
	char *end;
	unsigned long n;

	if (!strcmp(key, "checks"))
		return parse_checks(o, val);
	if (!strcmp(key, "doorbell")) {
		if (!strcmp(val, "translated"))
			o->translated = true;
		else if (!strcmp(val, "direct"))
			o->translated = false;
		else
			goto bad;
		return 0;
	}
	if (!strcmp(key, "isolated")) {
		if (!strcmp(val, "1"))
			o->isolated = true;
		else if (!strcmp(val, "0"))
			o->isolated = false;
		else
			goto bad;
		return 0;
	}
	if (!strcmp(key, "msis")) {
		errno = 0;
		n = strtoul(val, &end, 0);
		if (errno || *end || !n || n > MAX_MSIS)
			goto bad;
		o->msis = (unsigned int)n;
		return 0;
	}
	report_line("cmdline", false, "unknown option %s%s", OPT_PREFIX, key);
	return 1;
bad:
	report_line("cmdline", false, "bad value '%s' for %s%s", val,
		    OPT_PREFIX, key);
	return 1;
}

int opts_parse(struct e2e_opts *o)
{
	char buf[CMDLINE_LEN], *save = NULL, *tok, *eq;
	int n, bad = 0;

	memset(o, 0, sizeof(*o));
	o->translated = true;
	o->isolated = true;
	o->msis = DEFAULT_MSIS;

	n = read_text(CMDLINE_PATH, buf, sizeof(buf));
	if (n < 0) {
		report_line("cmdline", false, "cannot read %s: %s",
			    CMDLINE_PATH, strerror(-n));
		return 1;
	}
	e2e_log("cmdline: %s", buf);
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(tok, OPT_PREFIX, strlen(OPT_PREFIX)))
			continue;
		tok += strlen(OPT_PREFIX);
		eq = strchr(tok, '=');
		if (!eq) {
			report_line("cmdline", false, "%s%s needs a value",
				    OPT_PREFIX, tok);
			bad++;
			continue;
		}
		*eq = '\0';
		bad += parse_one(o, tok, eq + 1);
	}
	return bad;
}
