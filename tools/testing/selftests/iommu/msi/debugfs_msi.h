/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /sys/kernel/debug/iommu/msi, the kernel's list of MSI cookies and the
 * doorbells each one has mapped, parsed into structs.
 */
#ifndef MSI_DEBUGFS_MSI_H
#define MSI_DEBUGFS_MSI_H

#include <stdbool.h>
#include <stdint.h>

#ifndef DEBUGFS_MSI	/* overridable for host-side unit testing */
#define DEBUGFS_MSI		"/sys/kernel/debug/iommu/msi"
#endif
#define MSI_DOMAIN_LEN		32
#define MSI_OWNER_LEN		128

/* Domain of a cookie whose domain is gone but whose doorbells are held. */
#define MSI_DOMAIN_FREED	"freed"

/* "  doorbell <phys> -> iova <iova>, users <n>" */
struct msi_doorbell {
	uint64_t phys;		/* granule aligned */
	uint64_t iova;
	unsigned int users;
};

/* "cookie <n>: domain <type>, owner <symbol>" and its indented lines. */
struct msi_cookie {
	unsigned int nr;
	char domain[MSI_DOMAIN_LEN];	/* DMA, DMA-FQ, UNMANAGED, other, freed */
	char owner[MSI_OWNER_LEN];
	uint64_t granule;		/* 0 if the line was missing */
	struct msi_doorbell *dbs;
	unsigned int ndbs;
	char *text;			/* the cookie's raw lines */
};

struct msi_listing {
	struct msi_cookie *cookies;
	unsigned int n;
	char *text;		/* lines outside any cookie ("no MSI cookies") */
};

/*
 * Read and parse DEBUGFS_MSI.  -ENOENT if the file does not exist,
 * -EPROTO (with last_error() naming the line) if a line has an unknown
 * format.  Free with msi_listing_free(), also after an error.
 */
int msi_listing_read(struct msi_listing *l);
void msi_listing_free(struct msi_listing *l);

bool msi_cookie_is(const struct msi_cookie *ck, const char *domain);
/* DMA or DMA-FQ: a DMA API domain. */
bool msi_cookie_is_dma(const struct msi_cookie *ck);
/* addr rounded down to the cookie's granule (4 KiB if unknown). */
uint64_t msi_cookie_page(const struct msi_cookie *ck, uint64_t addr);

/*
 * Doorbell lines of ck whose physical page is the page holding pa.
 * *last (optional) gets the last one found.
 */
unsigned int msi_cookie_count_phys(const struct msi_cookie *ck, uint64_t pa,
				   const struct msi_doorbell **last);

/* The doorbell line of ck mapping pa's page to iova's page, or NULL. */
const struct msi_doorbell *msi_cookie_find(const struct msi_cookie *ck,
					   uint64_t pa, uint64_t iova);

/*
 * Print, as "# <tag>: <line>" diagnostics, the raw lines of the
 * cookies for which want() is true (all if want is NULL), and the lines
 * outside any cookie.
 */
void msi_listing_log(const struct msi_listing *l, const char *tag,
		     bool (*want)(const struct msi_cookie *ck));

#endif
