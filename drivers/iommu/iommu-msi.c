// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU MSI cookies: map interrupt controller doorbells into the IOMMU
 * domain of the devices that write to them.
 *
 * Each translating domain that needs MSIs gets a cookie from its owner.
 * A doorbell page is mapped once per cookie and shared, with a count of
 * users, by every MSI of every device in the domain that targets it. The
 * translation is stored in the msi_desc, so composing a message needs no
 * lock and no lookup.
 */

#define pr_fmt(fmt) "iommu-msi: " fmt

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/msi.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "iommu-msi.h"

#define CREATE_TRACE_POINTS
#include <trace/events/iommu_msi.h>

LIST_HEAD(iommu_msi_cookies);
/* Guards the list above, for debugfs; never taken by prepare. */
DEFINE_MUTEX(iommu_msi_cookies_lock);

static size_t cookie_granule(const struct iommu_msi_cookie *cookie)
{
	return (size_t)1 << cookie->shift;
}

static struct iommu_msi_cookie *cookie_alloc(struct iommu_domain *domain,
					     const void *owner)
{
	struct iommu_msi_cookie *cookie;

	if (!domain || !(domain->type & __IOMMU_DOMAIN_PAGING) ||
	    !domain->pgsize_bitmap)
		return ERR_PTR(-EINVAL);
	if (domain->msi_cookie)
		return ERR_PTR(-EEXIST);

	cookie = kzalloc(sizeof(*cookie), GFP_KERNEL);
	if (!cookie)
		return ERR_PTR(-ENOMEM);
	kref_init(&cookie->ref);
	mutex_init(&cookie->lock);
	xa_init(&cookie->doorbells);
	INIT_LIST_HEAD(&cookie->hw_regions);
	INIT_LIST_HEAD(&cookie->node);
	INIT_LIST_HEAD(&cookie->pins);
	cookie->domain = domain;
	cookie->owner = owner;
	cookie->shift = __ffs(domain->pgsize_bitmap);
	return cookie;
}

/* Publish a complete cookie: to its domain, and to the debugfs listing. */
static void cookie_install(struct iommu_msi_cookie *cookie)
{
	mutex_lock(&iommu_msi_cookies_lock);
	list_add_tail(&cookie->node, &iommu_msi_cookies);
	mutex_unlock(&iommu_msi_cookies_lock);
	cookie->domain->msi_cookie = cookie;
}

static void cookie_free(struct kref *ref)
{
	struct iommu_msi_cookie *cookie =
		container_of(ref, struct iommu_msi_cookie, ref);
	struct iommu_msi_hw_region *region, *next;

	if (!list_empty(&cookie->node)) {
		mutex_lock(&iommu_msi_cookies_lock);
		list_del(&cookie->node);
		mutex_unlock(&iommu_msi_cookies_lock);
	}
	list_for_each_entry_safe(region, next, &cookie->hw_regions, node)
		kfree(region);
	xa_destroy(&cookie->doorbells);
	bitmap_free(cookie->slots);
	mutex_destroy(&cookie->lock);
	kfree(cookie);
}

/**
 * iommu_msi_cookie_create_window() - give a domain a window-backed MSI cookie
 * @domain: translating domain, owned by the caller
 * @base: first IOVA of the window, aligned to the domain's smallest page
 * @size: size of the window, a non-zero multiple of that page size
 *
 * For owners that manage their own IOVA space (VFIO, iommufd, vhost-vdpa):
 * they reserve [@base, @base + @size), usually the IOMMU_RESV_SW_MSI
 * region, and doorbells are mapped there, one page each.
 *
 * Context: process context, may sleep.
 * Return: 0 on success; -EINVAL if the domain does not translate or the
 * window is misaligned, empty, wraps or holds more than UINT_MAX pages;
 * -EEXIST if the domain already has a cookie; -ENOMEM.
 */
int iommu_msi_cookie_create_window(struct iommu_domain *domain,
				   dma_addr_t base, size_t size)
{
	struct iommu_msi_cookie *cookie;

	cookie = cookie_alloc(domain, __builtin_return_address(0));
	if (IS_ERR(cookie))
		return PTR_ERR(cookie);

	/* The slot bitmap is sized by an unsigned int. */
	if (!size || !IS_ALIGNED(base | size, cookie_granule(cookie)) ||
	    base + size - 1 < base || size >> cookie->shift > UINT_MAX) {
		cookie_free(&cookie->ref);
		return -EINVAL;
	}
	cookie->base = base;
	cookie->nr_slots = size >> cookie->shift;
	cookie->slots = bitmap_zalloc(cookie->nr_slots, GFP_KERNEL);
	if (!cookie->slots) {
		cookie_free(&cookie->ref);
		return -ENOMEM;
	}
	cookie_install(cookie);
	return 0;
}
EXPORT_SYMBOL_GPL(iommu_msi_cookie_create_window);

/**
 * iommu_msi_cookie_create_dma() - give a domain an allocator-backed MSI cookie
 * @domain: translating domain
 * @ops: where doorbell IOVAs come from, typically the DMA-API allocator
 *
 * Context: process context, may sleep.
 * Return: 0 on success; -EINVAL if the domain does not translate or @ops
 * is incomplete; -EEXIST if the domain already has a cookie; -ENOMEM.
 */
int iommu_msi_cookie_create_dma(struct iommu_domain *domain,
				const struct iommu_msi_iova_ops *ops)
{
	struct iommu_msi_cookie *cookie;

	if (!ops || !ops->alloc || !ops->free)
		return -EINVAL;
	cookie = cookie_alloc(domain, __builtin_return_address(0));
	if (IS_ERR(cookie))
		return PTR_ERR(cookie);
	cookie->dma_ops = ops;
	cookie_install(cookie);
	return 0;
}
EXPORT_SYMBOL_GPL(iommu_msi_cookie_create_dma);

/**
 * iommu_msi_cookie_add_hw_region() - declare a hardware MSI region
 * @domain: domain with an MSI cookie
 * @start: first address of an IOMMU_RESV_MSI region
 * @size: its size in bytes
 *
 * Doorbells inside the region bypass translation, so they are used as they
 * are and never mapped. Adding the same region twice is harmless.
 *
 * Context: process context, may sleep.
 * Return: 0 on success; -EINVAL if @domain has no cookie or the region is
 * empty or wraps; -ENOMEM.
 */
int iommu_msi_cookie_add_hw_region(struct iommu_domain *domain,
				   phys_addr_t start, size_t size)
{
	struct iommu_msi_cookie *cookie = domain ? domain->msi_cookie : NULL;
	struct iommu_msi_hw_region *region;
	phys_addr_t last = start + size - 1;
	int ret = 0;

	if (!cookie || !size || last < start)
		return -EINVAL;

	mutex_lock(&cookie->lock);
	list_for_each_entry(region, &cookie->hw_regions, node)
		if (region->start == start && region->last == last)
			goto out_unlock;
	region = kzalloc(sizeof(*region), GFP_KERNEL);
	if (!region) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	region->start = start;
	region->last = last;
	list_add_tail(&region->node, &cookie->hw_regions);
out_unlock:
	mutex_unlock(&cookie->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(iommu_msi_cookie_add_hw_region);

static int iova_alloc(struct iommu_msi_cookie *cookie, struct device *dev,
		      u64 limit, dma_addr_t *iova)
{
	unsigned long slot;

	if (cookie->dma_ops) {
		*iova = cookie->dma_ops->alloc(cookie->domain, dev,
					       cookie_granule(cookie), limit);
		return *iova ? 0 : -ENOSPC;
	}

	slot = find_first_zero_bit(cookie->slots, cookie->nr_slots);
	if (slot >= cookie->nr_slots)
		return -ENOSPC;
	__set_bit(slot, cookie->slots);
	*iova = cookie->base + ((dma_addr_t)slot << cookie->shift);
	return 0;
}

static void iova_free(struct iommu_msi_cookie *cookie, dma_addr_t iova)
{
	if (cookie->dma_ops)
		cookie->dma_ops->free(cookie->domain, iova,
				      cookie_granule(cookie));
	else
		__clear_bit((iova - cookie->base) >> cookie->shift,
			    cookie->slots);
}

static void doorbell_unmap(struct iommu_msi_doorbell *db, struct device *dev)
{
	struct iommu_msi_cookie *cookie = db->cookie;
	size_t granule = cookie_granule(cookie);

	trace_iommu_msi_unmap(dev, db->phys, db->iova, db->users);
	db->mapped = false;
	/* iommu_unmap() syncs the IOTLB before it returns. */
	if (iommu_unmap(cookie->domain, db->iova, granule) == granule) {
		iova_free(cookie, db->iova);
		return;
	}
	/* It may still reach the doorbell: never hand that IOVA out again. */
	if (dev)
		dev_err_ratelimited(dev, "cannot unmap MSI doorbell %pa at IOVA %pad; IOVA retired\n",
				    &db->phys, &db->iova);
	else
		pr_err_ratelimited("cannot unmap MSI doorbell %pa at IOVA %pad; IOVA retired\n",
				   &db->phys, &db->iova);
}

/* Claim the window slot of @iova, the IOVA a doorbell has elsewhere. */
static int iova_claim(struct iommu_msi_cookie *cookie, dma_addr_t iova)
{
	unsigned long slot;

	if (cookie->dma_ops)
		return -EOPNOTSUPP;
	if (iova < cookie->base ||
	    (iova - cookie->base) >> cookie->shift >= cookie->nr_slots)
		return -ERANGE;
	slot = (iova - cookie->base) >> cookie->shift;
	if (__test_and_set_bit(slot, cookie->slots))
		return -EBUSY;
	return 0;
}

/*
 * Map the doorbell page @page for a first user, at a fresh IOVA or, when
 * @fixed is set, at *@fixed.
 */
static struct iommu_msi_doorbell *doorbell_map(struct iommu_msi_cookie *cookie,
					       struct device *dev,
					       phys_addr_t page, u64 limit,
					       const dma_addr_t *fixed)
{
	size_t granule = cookie_granule(cookie);
	struct iommu_msi_doorbell *db;
	int ret;

	db = kzalloc(sizeof(*db), GFP_KERNEL);
	if (!db)
		return ERR_PTR(-ENOMEM);

	if (fixed) {
		db->iova = *fixed;
		ret = iova_claim(cookie, db->iova);
		if (ret)
			goto err_free;
	} else {
		ret = iova_alloc(cookie, dev, limit, &db->iova);
	}
	if (ret == -ENOSPC) {
		if (cookie->dma_ops)
			dev_err_ratelimited(dev, "no IOVA left for MSI doorbell %pa\n",
					    &page);
		else
			dev_err_ratelimited(dev, "MSI window [%pad +%#lx) is full, no room for doorbell %pa\n",
					    &cookie->base,
					    cookie->nr_slots << cookie->shift,
					    &page);
		goto err_free;
	}
	if (db->iova + granule - 1 > limit) {
		ret = -ERANGE;
		dev_err_ratelimited(dev, "MSI doorbell IOVA %pad is beyond what the device can address\n",
				    &db->iova);
		goto err_iova;
	}

	ret = iommu_map(cookie->domain, db->iova, page, granule,
			IOMMU_WRITE | IOMMU_MMIO, GFP_KERNEL);
	if (ret)
		goto err_iova;

	db->cookie = cookie;
	db->phys = page;
	db->users = 1;
	db->mapped = true;
	ret = xa_insert(&cookie->doorbells, page >> cookie->shift, db,
			GFP_KERNEL);
	if (ret) {
		doorbell_unmap(db, dev);
		goto err_free;
	}
	kref_get(&cookie->ref);
	trace_iommu_msi_map(dev, page, db->iova, db->users);
	return db;

err_iova:
	iova_free(cookie, db->iova);
err_free:
	kfree(db);
	return ERR_PTR(ret);
}

/* Drop one user; the last one unmaps the page and frees the bookkeeping. */
static void doorbell_put(struct iommu_msi_doorbell *db, struct device *dev)
{
	struct iommu_msi_cookie *cookie = db->cookie;
	bool last;

	mutex_lock(&cookie->lock);
	last = !--db->users;
	if (last && db->mapped) {
		xa_erase(&cookie->doorbells, db->phys >> cookie->shift);
		doorbell_unmap(db, dev);
	}
	mutex_unlock(&cookie->lock);

	if (last) {
		kfree(db);
		kref_put(&cookie->ref, cookie_free);
	}
}

static bool in_hw_region(struct iommu_msi_cookie *cookie, phys_addr_t addr)
{
	struct iommu_msi_hw_region *region;

	list_for_each_entry(region, &cookie->hw_regions, node)
		if (addr >= region->start && addr <= region->last)
			return true;
	return false;
}

static int use_untranslated(struct msi_desc *desc, phys_addr_t doorbell,
			    u64 limit)
{
	msi_desc_set_iommu_msi_iova(desc, 0, 0);
	if (doorbell > limit) {
		dev_err_ratelimited(msi_desc_to_dev(desc),
				    "MSI doorbell %pa is beyond what the device can address\n",
				    &doorbell);
		return -ERANGE;
	}
	return 0;
}

/*
 * The core of iommu_msi_prepare(), against an explicit domain and with the
 * highest address the device can put in an MSI message.
 */
VISIBLE_IF_KUNIT int iommu_msi_domain_prepare(struct iommu_domain *domain,
					      struct msi_desc *desc,
					      phys_addr_t doorbell, u64 limit)
{
	struct device *dev = msi_desc_to_dev(desc);
	struct iommu_msi_cookie *cookie;
	struct iommu_msi_doorbell *db;
	phys_addr_t page;
	int ret = 0;

	/* A second prepare of the same descriptor replaces the first. */
	iommu_msi_release(desc);

	cookie = domain ? domain->msi_cookie : NULL;
	if (!cookie || !(domain->type & __IOMMU_DOMAIN_PAGING))
		return use_untranslated(desc, doorbell, limit);

	page = doorbell & ~(phys_addr_t)(cookie_granule(cookie) - 1);
	if ((page >> cookie->shift) > ULONG_MAX) {
		dev_err_ratelimited(dev, "MSI doorbell %pa cannot be indexed\n",
				    &doorbell);
		return -ERANGE;
	}

	mutex_lock(&cookie->lock);
	if (in_hw_region(cookie, doorbell)) {
		mutex_unlock(&cookie->lock);
		return use_untranslated(desc, doorbell, limit);
	}

	db = xa_load(&cookie->doorbells, page >> cookie->shift);
	if (db) {
		if (db->iova + cookie_granule(cookie) - 1 > limit) {
			dev_err_ratelimited(dev, "shared MSI doorbell IOVA %pad is beyond what the device can address\n",
					    &db->iova);
			ret = -ERANGE;
		} else {
			db->users++;
		}
	} else {
		db = doorbell_map(cookie, dev, page, limit, NULL);
		if (IS_ERR(db))
			ret = PTR_ERR(db);
	}
	mutex_unlock(&cookie->lock);
	if (ret) {
		trace_iommu_msi_prepare_fail(dev, page, 0, 0, ret);
		return ret;
	}

	desc->iommu_doorbell = db;
	msi_desc_set_iommu_msi_iova(desc, db->iova, cookie->shift);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_domain_prepare);

/* The highest address @desc's device can write an MSI to. */
static u64 msi_addr_limit(const struct msi_desc *desc)
{
	struct device *dev = msi_desc_to_dev(desc);

	if (dev_is_pci(dev) && !desc->pci.msi_attrib.is_msix &&
	    !desc->pci.msi_attrib.is_64)
		return U32_MAX;
	return U64_MAX;
}

/**
 * iommu_msi_prepare() - make a doorbell reachable for an MSI
 * @desc: the MSI's descriptor
 * @doorbell: physical address the MSI writes to
 *
 * Called by irqchip drivers when the MSI is allocated. If the device's
 * domain translates and has an MSI cookie, the granule page holding
 * @doorbell is mapped into the domain (or its existing mapping gains a
 * user) and the translation is stored in @desc for iommu_msi_compose().
 * Otherwise the doorbell is used untranslated. Pair with
 * iommu_msi_release().
 *
 * Context: process context, may sleep. Takes the cookie's mutex.
 * Return: 0 on success (nothing to do counts as success); -ENOSPC if the
 * window or allocator has no IOVA left; -ERANGE if the resulting address
 * cannot be written by the device; -ENOMEM; or the error of the mapping.
 * On error @desc holds no translation and nothing is left mapped.
 */
int iommu_msi_prepare(struct msi_desc *desc, phys_addr_t doorbell)
{
	struct device *dev = msi_desc_to_dev(desc);

	return iommu_msi_domain_prepare(iommu_get_domain_for_dev(dev), desc,
					doorbell, msi_addr_limit(desc));
}
EXPORT_SYMBOL_GPL(iommu_msi_prepare);

/**
 * iommu_msi_compose() - apply a prepared translation to an MSI message
 * @desc: descriptor passed to iommu_msi_prepare()
 * @msg: message holding the physical doorbell address
 *
 * Replaces the doorbell page in @msg's address with its IOVA and keeps the
 * offset within the page. Leaves @msg alone when the doorbell is used
 * untranslated.
 *
 * Context: any context, including hard IRQ and under raw spinlocks. Takes
 * no lock and allocates nothing.
 */
void iommu_msi_compose(const struct msi_desc *desc, struct msi_msg *msg)
{
	unsigned int shift = desc->iommu_msi_shift;
	u64 addr;

	if (!shift)
		return;
	addr = (u64)desc->iommu_msi_iova << shift;
	addr |= msg->address_lo & GENMASK(shift - 1, 0);
	msg->address_hi = upper_32_bits(addr);
	msg->address_lo = lower_32_bits(addr);
}
EXPORT_SYMBOL_GPL(iommu_msi_compose);

/**
 * iommu_msi_release() - drop an MSI's use of its doorbell mapping
 * @desc: descriptor passed to iommu_msi_prepare(), never prepared, or NULL
 *
 * Called by irqchip drivers when the MSI is freed. When the last user of a
 * doorbell mapping goes, the page is unmapped (with IOTLB invalidation) and
 * its IOVA is given back. Safe to call on a descriptor with no translation.
 *
 * Context: process context, may sleep. Takes the cookie's mutex.
 */
void iommu_msi_release(struct msi_desc *desc)
{
	struct iommu_msi_doorbell *db;

	if (!desc)
		return;
	msi_desc_set_iommu_msi_iova(desc, 0, 0);
	db = desc->iommu_doorbell;
	if (!db)
		return;
	desc->iommu_doorbell = NULL;
	doorbell_put(db, msi_desc_to_dev(desc));
}
EXPORT_SYMBOL_GPL(iommu_msi_release);

/*
 * Moving a device with live MSIs to another domain: its messages hold the
 * doorbell IOVAs of the old domain. The owner keeps them valid by mapping
 * the same doorbells at the same IOVAs in the new domain before the switch
 * (iommu_msi_domain_install()), then hands the MSIs over once the switch is
 * done (iommu_msi_domain_commit()), or drops the new mappings if it failed
 * (iommu_msi_domain_abort()). No message is rewritten, so no MSI ever
 * points at an IOVA the device's domain does not map.
 */

/* Whether @dev has MSI descriptors to walk. */
static bool dev_has_msis(struct device *dev)
{
#ifdef CONFIG_GENERIC_MSI_IRQ
	return dev->msi.data;
#else
	return false;
#endif
}

/* A doorbell held in a new domain for one device until commit or abort. */
struct iommu_msi_pin {
	struct list_head		node;
	struct device			*dev;
	struct iommu_msi_doorbell	*db;
};

static bool is_pinned(struct iommu_msi_cookie *cookie, struct device *dev,
		      phys_addr_t phys)
{
	struct iommu_msi_pin *pin;

	list_for_each_entry(pin, &cookie->pins, node)
		if (pin->dev == dev && pin->db->phys == phys)
			return true;
	return false;
}

/* Hold @old's doorbell at @old's IOVA in @cookie for @dev. */
static int pin_doorbell(struct iommu_msi_cookie *cookie, struct device *dev,
			struct iommu_msi_doorbell *old)
{
	struct iommu_msi_doorbell *db;
	struct iommu_msi_pin *pin;

	lockdep_assert_held(&cookie->lock);
	if (!old || old->cookie == cookie || is_pinned(cookie, dev, old->phys))
		return 0;
	if (old->cookie->shift != cookie->shift)
		return -EINVAL;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;

	db = xa_load(&cookie->doorbells, old->phys >> cookie->shift);
	if (db) {
		if (db->iova != old->iova) {
			kfree(pin);
			return -EBUSY;
		}
		db->users++;
	} else {
		db = doorbell_map(cookie, dev, old->phys, U64_MAX, &old->iova);
		if (IS_ERR(db)) {
			kfree(pin);
			return PTR_ERR(db);
		}
	}
	pin->dev = dev;
	pin->db = db;
	list_add_tail(&pin->node, &cookie->pins);
	return 0;
}

/**
 * iommu_msi_domain_install() - make a device's doorbells valid in a new domain
 * @domain: domain the device is about to be attached to
 * @dev: device whose MSIs stay enabled across the switch
 *
 * Maps every doorbell that @dev's MSIs use in their current domain into
 * @domain, at the same IOVA, so that their messages stay valid after the
 * switch. The mappings are held for @dev until iommu_msi_domain_commit()
 * or iommu_msi_domain_abort(). Does nothing if @domain has no cookie.
 *
 * Context: process context, may sleep. Takes @dev's MSI descriptor lock
 * and @domain's cookie mutex; call it before the switch, not under either.
 * Return: 0 on success; -EBUSY if @domain already uses one of those IOVAs
 * for another doorbell; -EOPNOTSUPP if @domain takes its IOVAs from an
 * allocator; -ERANGE if an IOVA is outside @domain's window; -EINVAL if the
 * domains' granules differ; -ENOMEM or the mapping error. On error nothing
 * is left installed.
 */
int iommu_msi_domain_install(struct iommu_domain *domain, struct device *dev)
{
	struct iommu_msi_cookie *cookie = domain ? domain->msi_cookie : NULL;
	struct msi_desc *desc;
	int ret = 0;

	if (!cookie || !dev_has_msis(dev))
		return 0;

	msi_lock_descs(dev);
	mutex_lock(&cookie->lock);
	msi_for_each_desc(desc, dev, MSI_DESC_ALL) {
		ret = pin_doorbell(cookie, dev, desc->iommu_doorbell);
		if (ret) {
			dev_err_ratelimited(dev, "MSI doorbell %pa cannot keep IOVA %pad in the new domain: %d\n",
					    &desc->iommu_doorbell->phys,
					    &desc->iommu_doorbell->iova, ret);
			break;
		}
	}
	mutex_unlock(&cookie->lock);
	msi_unlock_descs(dev);

	if (ret)
		iommu_msi_domain_abort(domain, dev);
	return ret;
}
EXPORT_SYMBOL_GPL(iommu_msi_domain_install);

/**
 * iommu_msi_domain_commit() - hand a device's MSIs over to its new domain
 * @domain: domain @dev is now attached to, prepared by
 *          iommu_msi_domain_install()
 * @dev: the device
 *
 * Each of @dev's MSIs now counts as a user of the doorbell mapping in
 * @domain and stops using the one in its old domain, which is unmapped
 * when its last user goes. The messages do not change.
 *
 * Context: process context, may sleep. Same locks as
 * iommu_msi_domain_install().
 */
void iommu_msi_domain_commit(struct iommu_domain *domain, struct device *dev)
{
	struct iommu_msi_cookie *cookie = domain ? domain->msi_cookie : NULL;
	struct iommu_msi_doorbell *old, *db;
	struct msi_desc *desc;

	if (!cookie)
		return;

	if (dev_has_msis(dev)) {
		msi_lock_descs(dev);
		msi_for_each_desc(desc, dev, MSI_DESC_ALL) {
			old = desc->iommu_doorbell;
			if (!old || old->cookie == cookie)
				continue;
			mutex_lock(&cookie->lock);
			db = xa_load(&cookie->doorbells,
				     old->phys >> cookie->shift);
			if (db && db->iova == old->iova)
				db->users++;
			else
				db = NULL;
			mutex_unlock(&cookie->lock);
			if (!db) {
				/* Allocated during the switch: not installed. */
				dev_warn_ratelimited(dev, "MSI doorbell %pa was not installed in the new domain\n",
						     &old->phys);
				continue;
			}
			desc->iommu_doorbell = db;
			doorbell_put(old, dev);
		}
		msi_unlock_descs(dev);
	}
	iommu_msi_domain_abort(domain, dev);
}
EXPORT_SYMBOL_GPL(iommu_msi_domain_commit);

/**
 * iommu_msi_domain_abort() - drop what iommu_msi_domain_install() held
 * @domain: domain passed to iommu_msi_domain_install()
 * @dev: the device
 *
 * For a switch that did not happen, or, for an owner that keeps the old
 * domain's mappings instead of committing, once @dev has left @domain.
 * Doorbells that no MSI uses in @domain are unmapped. Safe to call when
 * nothing was installed.
 *
 * Context: process context, may sleep. Takes @domain's cookie mutex.
 */
void iommu_msi_domain_abort(struct iommu_domain *domain, struct device *dev)
{
	struct iommu_msi_cookie *cookie = domain ? domain->msi_cookie : NULL;
	struct iommu_msi_pin *pin, *next;
	LIST_HEAD(mine);

	if (!cookie)
		return;

	mutex_lock(&cookie->lock);
	list_for_each_entry_safe(pin, next, &cookie->pins, node)
		if (pin->dev == dev)
			list_move(&pin->node, &mine);
	mutex_unlock(&cookie->lock);

	list_for_each_entry_safe(pin, next, &mine, node) {
		doorbell_put(pin->db, dev);
		kfree(pin);
	}
}
EXPORT_SYMBOL_GPL(iommu_msi_domain_abort);

/**
 * iommu_msi_cookie_destroy() - tear down a domain's MSI cookie
 * @domain: domain being freed
 *
 * Unmaps every doorbell and gives back every IOVA. Descriptors that still
 * hold a doorbell keep only its bookkeeping alive until
 * iommu_msi_release(). Called by iommu_domain_free(); safe without a cookie.
 *
 * Context: process context, may sleep.
 */
void iommu_msi_cookie_destroy(struct iommu_domain *domain)
{
	struct iommu_msi_cookie *cookie = domain->msi_cookie;
	struct iommu_msi_doorbell *db;
	unsigned long index;

	if (!cookie)
		return;
	domain->msi_cookie = NULL;

	/* An install without its commit or abort: drop what it held. */
	if (WARN_ON(!list_empty(&cookie->pins))) {
		struct iommu_msi_pin *pin, *next;

		list_for_each_entry_safe(pin, next, &cookie->pins, node) {
			list_del(&pin->node);
			doorbell_put(pin->db, pin->dev);
			kfree(pin);
		}
	}

	mutex_lock(&cookie->lock);
	xa_for_each(&cookie->doorbells, index, db) {
		xa_erase(&cookie->doorbells, index);
		doorbell_unmap(db, NULL);
	}
	cookie->domain = NULL;
	mutex_unlock(&cookie->lock);
	kref_put(&cookie->ref, cookie_free);
}
EXPORT_SYMBOL_GPL(iommu_msi_cookie_destroy);
