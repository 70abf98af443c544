// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for /sys/kernel/debug/iommu/msi (drivers/iommu/iommu-msi-debugfs.c):
 *
 *   cookie 0: domain UNMANAGED, owner vfio_iommu_type1_attach_group
 *     iova source: window [0x0000000008000000-0x80fffff], 1 of 256 pages used
 *     granule: 0x1000
 *     hardware MSI region (untranslated): [0x...-0x...]
 *     doorbell 0x0000000008090000 -> iova 0x0000000008000000, users 1
 *
 * or "no MSI cookies".  Any other line is a format change the checks
 * cannot trust, so it is an error rather than skipped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "debugfs_msi.h"
#include "util.h"

#define DEFAULT_GRANULE		0x1000ULL

#define P_COOKIE	"cookie "
#define P_DOMAIN	"domain "
#define P_FREED		"domain freed (MSIs still hold doorbells), "
#define P_OWNER		"owner "
#define P_SOURCE	"  iova source: "
#define P_GRANULE	"  granule: "
#define P_HWREGION	"  hardware MSI region (untranslated): "
#define P_DOORBELL	"  doorbell "
#define P_ARROW		" -> iova "
#define P_USERS		", users "
#define L_NONE		"no MSI cookies"

/* Skip the literal lit at *p; false if it is not there. */
static bool skip(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n))
		return false;
	*p += n;
	return true;
}

/* A number in any strtoull base-0 notation, no sign or blanks. */
static bool parse_u64(const char **p, uint64_t *val)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)**p))
		return false;
	errno = 0;
	v = strtoull(*p, &end, 0);
	if (errno || end == *p)
		return false;
	*val = v;
	*p = end;
	return true;
}

static int append_text(char **text, const char *line)
{
	size_t old = *text ? strlen(*text) : 0, n = strlen(line);
	char *t;

	t = realloc(*text, old + n + 2);
	if (!t)
		return err_ret(-ENOMEM, "realloc");
	memcpy(t + old, line, n);
	t[old + n] = '\n';
	t[old + n + 1] = '\0';
	*text = t;
	return 0;
}

static int new_cookie(struct msi_listing *l, const char *p)
{
	struct msi_cookie *ck, *arr;
	const char *comma;
	uint64_t nr;
	size_t len;

	arr = realloc(l->cookies, (l->n + 1) * sizeof(*arr));
	if (!arr)
		return err_ret(-ENOMEM, "realloc");
	l->cookies = arr;
	ck = &arr[l->n++];
	memset(ck, 0, sizeof(*ck));

	if (!parse_u64(&p, &nr) || !skip(&p, ": "))
		return -EPROTO;
	ck->nr = (unsigned int)nr;
	if (skip(&p, P_FREED)) {
		snprintf(ck->domain, sizeof(ck->domain), "%s",
			 MSI_DOMAIN_FREED);
	} else {
		if (!skip(&p, P_DOMAIN))
			return -EPROTO;
		comma = strstr(p, ", ");
		len = comma ? (size_t)(comma - p) : 0;
		if (!len || len >= sizeof(ck->domain))
			return -EPROTO;
		memcpy(ck->domain, p, len);
		ck->domain[len] = '\0';
		p = comma + 2;
	}
	if (!skip(&p, P_OWNER) || !*p)
		return -EPROTO;
	snprintf(ck->owner, sizeof(ck->owner), "%s", p);
	return 0;
}

static int new_doorbell(struct msi_cookie *ck, const char *p)
{
	struct msi_doorbell *db, *arr;
	uint64_t users;

	arr = realloc(ck->dbs, (ck->ndbs + 1) * sizeof(*arr));
	if (!arr)
		return err_ret(-ENOMEM, "realloc");
	ck->dbs = arr;
	db = &arr[ck->ndbs];
	if (!parse_u64(&p, &db->phys) || !skip(&p, P_ARROW) ||
	    !parse_u64(&p, &db->iova) || !skip(&p, P_USERS) ||
	    !parse_u64(&p, &users) || *p || users > UINT32_MAX)
		return -EPROTO;
	db->users = (unsigned int)users;
	ck->ndbs++;
	return 0;
}

static int parse_line(struct msi_listing *l, const char *line)
{
	struct msi_cookie *ck = l->n ? &l->cookies[l->n - 1] : NULL;
	const char *p = line;
	int ret;

	if (skip(&p, P_COOKIE)) {
		ret = new_cookie(l, p);
		if (ret)
			return ret;
		ck = &l->cookies[l->n - 1];
	} else if (!strcmp(line, L_NONE) && !l->n) {
		return append_text(&l->text, line);
	} else if (!ck) {
		return -EPROTO;
	} else if (skip(&p, P_GRANULE)) {
		if (!parse_u64(&p, &ck->granule) || *p || !ck->granule ||
		    (ck->granule & (ck->granule - 1)))
			return -EPROTO;
		ret = 0;
	} else if (skip(&p, P_DOORBELL)) {
		ret = new_doorbell(ck, p);
	} else if (skip(&p, P_SOURCE) || skip(&p, P_HWREGION)) {
		ret = 0;	/* kept as text only */
	} else {
		return -EPROTO;
	}
	if (ret)
		return ret;
	return append_text(&ck->text, line);
}

int msi_listing_read(struct msi_listing *l)
{
	unsigned int lineno = 0, i;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;
	FILE *f;

	memset(l, 0, sizeof(*l));
	f = fopen(DEBUGFS_MSI, "re");
	if (!f)
		return err_ret(-errno, "open %s", DEBUGFS_MSI);
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		ret = parse_line(l, line);
		if (ret == -EPROTO)
			err_ret(ret, "%s line %u unexpected: '%s'",
				DEBUGFS_MSI, lineno, line);
		if (ret)
			break;
	}
	if (!ret && ferror(f))
		ret = err_ret(-EIO, "read %s", DEBUGFS_MSI);
	free(line);
	fclose(f);
	for (i = 0; !ret && i < l->n; i++)
		if (!l->cookies[i].granule)
			ret = err_ret(-EPROTO, "%s: cookie %u has no granule line",
				      DEBUGFS_MSI, l->cookies[i].nr);
	if (!ret && !l->n && !l->text)
		ret = err_ret(-EPROTO, "%s is empty", DEBUGFS_MSI);
	return ret;
}

void msi_listing_free(struct msi_listing *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++) {
		free(l->cookies[i].dbs);
		free(l->cookies[i].text);
	}
	free(l->cookies);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

bool msi_cookie_is(const struct msi_cookie *ck, const char *domain)
{
	return !strcmp(ck->domain, domain);
}

bool msi_cookie_is_dma(const struct msi_cookie *ck)
{
	return msi_cookie_is(ck, "DMA") || msi_cookie_is(ck, "DMA-FQ");
}

uint64_t msi_cookie_page(const struct msi_cookie *ck, uint64_t addr)
{
	uint64_t granule = ck->granule ? ck->granule : DEFAULT_GRANULE;

	return addr & ~(granule - 1);
}

unsigned int msi_cookie_count_phys(const struct msi_cookie *ck, uint64_t pa,
				   const struct msi_doorbell **last)
{
	uint64_t page = msi_cookie_page(ck, pa);
	unsigned int i, n = 0;

	for (i = 0; i < ck->ndbs; i++) {
		if (ck->dbs[i].phys != page)
			continue;
		n++;
		if (last)
			*last = &ck->dbs[i];
	}
	return n;
}

const struct msi_doorbell *msi_cookie_find(const struct msi_cookie *ck,
					   uint64_t pa, uint64_t iova)
{
	uint64_t phys = msi_cookie_page(ck, pa), page = msi_cookie_page(ck, iova);
	unsigned int i;

	for (i = 0; i < ck->ndbs; i++)
		if (ck->dbs[i].phys == phys && ck->dbs[i].iova == page)
			return &ck->dbs[i];
	return NULL;
}

static void log_text(const char *tag, const char *text)
{
	size_t len;

	while (text && *text) {
		len = strcspn(text, "\n");
		msi_log("%s: %.*s", tag, (int)len, text);
		text += len;
		if (*text)
			text++;
	}
}

void msi_listing_log(const struct msi_listing *l, const char *tag,
		     bool (*want)(const struct msi_cookie *ck))
{
	unsigned int i, shown = 0;

	log_text(tag, l->text);
	for (i = 0; i < l->n; i++) {
		if (want && !want(&l->cookies[i]))
			continue;
		log_text(tag, l->cookies[i].text);
		shown++;
	}
	if (l->n && !shown)
		msi_log("%s: (none of the %u cookie(s) is of interest)", tag,
			l->n);
}
