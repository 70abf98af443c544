// SPDX-License-Identifier: GPL-2.0-only
/*
 * /sys/kernel/debug/iommu/msi: the live doorbell map of every MSI cookie.
 */

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/iommu.h>
#include <linux/seq_file.h>

#include "iommu-msi.h"

static const char *domain_type_name(const struct iommu_domain *domain)
{
	switch (domain->type) {
	case IOMMU_DOMAIN_DMA:
		return "DMA";
	case IOMMU_DOMAIN_DMA_FQ:
		return "DMA-FQ";
	case IOMMU_DOMAIN_UNMANAGED:
		return "UNMANAGED";
	default:
		return "other";
	}
}

/* The granule in force, or the one the first doorbell will fix. */
static size_t cookie_granule(const struct iommu_msi_cookie *cookie)
{
	unsigned int shift = cookie->shift;

	if (!shift && cookie->domain)
		shift = iommu_msi_domain_shift(cookie->domain);
	return (size_t)1 << shift;
}

static void show_cookie(struct seq_file *s, struct iommu_msi_cookie *cookie,
			unsigned int nr)
{
	size_t granule = cookie_granule(cookie);
	struct iommu_msi_hw_region *region;
	struct iommu_msi_doorbell *db;
	unsigned long index, used = 0;

	seq_printf(s, "cookie %u: ", nr);
	if (cookie->domain)
		seq_printf(s, "domain %s, ", domain_type_name(cookie->domain));
	else
		seq_puts(s, "domain freed (MSIs still hold doorbells), ");
	seq_printf(s, "owner %ps\n", cookie->owner);

	xa_for_each(&cookie->doorbells, index, db)
		used++;
	if (cookie->dma_ops) {
		seq_puts(s, "  iova source: DMA-API allocator\n");
	} else {
		dma_addr_t last = cookie->base + cookie->size - 1;

		seq_printf(s, "  iova source: window [%pad-%pad], %lu of %zu pages used\n",
			   &cookie->base, &last, used, cookie->size / granule);
	}
	seq_printf(s, "  granule: %#zx\n", granule);
	list_for_each_entry(region, &cookie->hw_regions, node)
		seq_printf(s, "  hardware MSI region (untranslated): [%pa-%pa]\n",
			   &region->start, &region->last);
	xa_for_each(&cookie->doorbells, index, db)
		seq_printf(s, "  doorbell %pa -> iova %pad, users %u\n",
			   &db->phys, &db->iova, iommu_msi_doorbell_users(db));
}

static int msi_cookies_show(struct seq_file *s, void *unused)
{
	struct iommu_msi_cookie *cookie;
	unsigned int nr = 0;

	mutex_lock(&iommu_msi_cookies_lock);
	list_for_each_entry(cookie, &iommu_msi_cookies, node) {
		/* The cookie's lock keeps its doorbells still while we print. */
		mutex_lock(&cookie->lock);
		show_cookie(s, cookie, nr++);
		mutex_unlock(&cookie->lock);
	}
	mutex_unlock(&iommu_msi_cookies_lock);
	if (!nr)
		seq_puts(s, "no MSI cookies\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(msi_cookies);

static int __init iommu_msi_debugfs_init(void)
{
	debugfs_create_file("msi", 0444, iommu_debugfs_dir, NULL,
			    &msi_cookies_fops);
	return 0;
}
late_initcall(iommu_msi_debugfs_init);
