// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU MSI cookies: map interrupt controller doorbells into the IOMMU
 * domain of the devices that write to them.
 *
 * Each translating domain that needs MSIs gets a cookie from its owner.
 * A doorbell page is mapped once per cookie and shared, with a count of
 * users, by every device of the domain that targets it. Each device keeps
 * a binding per doorbell page: the IOVA its messages hold. The binding
 * outlives domain changes; the IOMMU core calls us under the group mutex
 * whenever a group changes domain, and we map the bindings' doorbells in
 * the new domain at the same IOVAs before the switch. The translation is
 * also stored in the msi_desc, so composing a message needs no lock and
 * no lookup.
 *
 * A doorbell that loses its last user stays mapped for iommu_msi_idle_ms,
 * because VMMs disable and enable MSIs as often as guests program them,
 * and so does the device's binding, idle on it: the next MSI of the device
 * takes both back with one compare-and-swap. The reclaim retires a
 * doorbell's idle bindings before it unmaps it. The doorbell is
 * unmapped earlier when its slot or IOVA is needed for another doorbell,
 * when a device hands it over to another domain, and when the domain goes:
 * no IOVA ever serves two doorbells, and none stays mapped once something
 * else needs it.
 *
 * Lock order: the MSI descriptor mutex and irq_domain mutexes (callers of
 * prepare and release), then the device's iommu_group mutex, then a
 * cookie's mutex, then iommu_msi_windows_lock. iommu_msi_cookies_lock is
 * taken under the group mutex when a cookie is freed, and nests cookie
 * mutexes only in the debugfs reader. A release that leaves its binding in
 * use, or idle on a doorbell, takes no lock: see binding_put_fast(); nor
 * does a prepare that shares or wakes up a binding of the device's domain,
 * which it finds under RCU: see bind_fast(). The reclaim looks at bindings
 * under the cookie's mutex alone, through their doorbell's list, and
 * changes only their count.
 */

#define pr_fmt(fmt) "iommu-msi: " fmt

#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/msi.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "iommu-msi.h"

#define CREATE_TRACE_POINTS
#include <trace/events/iommu_msi.h>

LIST_HEAD(iommu_msi_cookies);
/* Guards the list above, for debugfs (see the lock order above). */
DEFINE_MUTEX(iommu_msi_cookies_lock);

/* How long an unused doorbell stays mapped; 0 unmaps it at once. */
VISIBLE_IF_KUNIT unsigned int iommu_msi_idle_ms = 1000;
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_idle_ms);
module_param_named(idle_ms, iommu_msi_idle_ms, uint, 0644);
MODULE_PARM_DESC(idle_ms, "Milliseconds an MSI doorbell no MSI uses stays mapped");

static void cookie_reclaim_work(struct work_struct *work);

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
	INIT_DELAYED_WORK(&cookie->reclaim, cookie_reclaim_work);
	cookie->domain = domain;
	cookie->owner = owner;
	return cookie;
}

/* Publish a complete cookie: to its domain, and to the debugfs listing. */
static void cookie_install(struct iommu_msi_cookie *cookie)
{
	mutex_lock(&iommu_msi_cookies_lock);
	list_add_tail(&cookie->node, &iommu_msi_cookies);
	mutex_unlock(&iommu_msi_cookies_lock);
	/* Pairs with iommu_msi_domain_cookie(): prepare may run on another group. */
	smp_store_release(&cookie->domain->msi_cookie, cookie);
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
	if (cookie->window)
		iommu_msi_window_put(cookie->window);
	xa_destroy(&cookie->doorbells);
	mutex_destroy(&cookie->lock);
	kfree(cookie);
}

/*
 * Fix the cookie's granule from its domain as it is now, at the first map:
 * some IOMMU drivers only narrow pgsize_bitmap when they attach the
 * domain, after its owner made the cookie.
 */
int iommu_msi_cookie_fix_granule(struct iommu_msi_cookie *cookie,
				 struct device *dev)
{
	unsigned int shift = iommu_msi_domain_shift(cookie->domain);

	lockdep_assert_held(&cookie->lock);
	if (cookie->shift) {
		if (shift == cookie->shift)
			return 0;
		dev_err_ratelimited(dev, "IOMMU page size changed from %#zx to %#zx under live MSI doorbells\n",
				    iommu_msi_shift_size(cookie->shift),
				    iommu_msi_shift_size(shift));
		return -EINVAL;
	}
	if (!cookie->dma_ops) {
		if (!iommu_msi_window_fits(cookie->base, cookie->size, shift)) {
			dev_err_ratelimited(dev, "MSI window [%pad +%#zx) does not fit IOMMU page size %#zx\n",
					    &cookie->base, cookie->size,
					    iommu_msi_shift_size(shift));
			return -EINVAL;
		}
		cookie->window = iommu_msi_window_get(cookie->base, cookie->size, shift);
		if (!cookie->window)
			return -ENOMEM;
	}
	cookie->shift = shift;
	return 0;
}

/**
 * iommu_msi_cookie_create_window() - give a domain a window-backed MSI cookie
 * @domain: translating domain, owned by the caller
 * @base: first IOVA of the window, aligned to the MSI granule
 * @size: size of the window, a non-zero multiple of the MSI granule
 *
 * For owners that manage their own IOVA space (VFIO, iommufd, vhost-vdpa):
 * they reserve [@base, @base + @size), usually the IOMMU_RESV_SW_MSI
 * region, and doorbells are mapped there, one granule each. The MSI
 * granule is the larger of PAGE_SIZE and the domain's smallest page; it is
 * fixed when the first doorbell is mapped, so a domain may still narrow its
 * page sizes when it is attached. A doorbell page has the same IOVA in every
 * domain with the same window.
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

	/* The domain's page sizes can only narrow from here. */
	if (!iommu_msi_window_fits(base, size, iommu_msi_domain_shift(domain))) {
		cookie_free(&cookie->ref);
		return -EINVAL;
	}
	cookie->base = base;
	cookie->size = size;
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
	struct iommu_msi_cookie *cookie = iommu_msi_domain_cookie(domain);
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

bool iommu_msi_in_hw_region(struct iommu_msi_cookie *cookie, phys_addr_t addr)
{
	struct iommu_msi_hw_region *region;

	lockdep_assert_held(&cookie->lock);
	list_for_each_entry(region, &cookie->hw_regions, node)
		if (addr >= region->start && addr <= region->last)
			return true;
	return false;
}

void iommu_msi_err(struct device *dev, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (dev)
		dev_err_ratelimited(dev, "%pV", &vaf);
	else
		pr_err_ratelimited("%pV", &vaf);
	va_end(args);
}

/*
 * Unmap a doorbell and give its IOVA back. If the IOMMU driver cannot
 * unmap it, the doorbell stays mapped and listed, and its next user takes
 * it over: its IOVA never serves anything else.
 */
static bool doorbell_unmap(struct iommu_msi_doorbell *db, struct device *dev)
{
	struct iommu_msi_cookie *cookie = db->cookie;
	size_t granule = iommu_msi_shift_size(cookie->shift);

	lockdep_assert_held(&cookie->lock);
	trace_iommu_msi_unmap(dev, db->phys, db->iova,
			      iommu_msi_doorbell_users(db));
	/* iommu_unmap() syncs the IOTLB before it returns. */
	if (iommu_unmap(cookie->domain, db->iova, granule) != granule) {
		iommu_msi_err(dev, "cannot unmap MSI doorbell %pa at IOVA %pad; kept for its next user\n",
			      &db->phys, &db->iova);
		return false;
	}
	db->mapped = false;
	if (db->slot)
		iommu_msi_slot_put(db->slot);
	else
		cookie->dma_ops->free(cookie->domain, db->iova, granule);
	db->slot = NULL;
	return true;
}

/* No binding points at @db, and no switch is moving one here. */
static bool doorbell_unreferenced(const struct iommu_msi_doorbell *db)
{
	return list_empty(&db->bindings) && !db->pinned;
}

/* The bookkeeping of an unmapped doorbell no binding points at. */
static void doorbell_free(struct iommu_msi_doorbell *db)
{
	struct iommu_msi_cookie *cookie = db->cookie;

	if (db->slot)		/* kept by iommu_msi_cookie_destroy() */
		iommu_msi_slot_put(db->slot);
	kfree(db);
	kref_put(&cookie->ref, cookie_free);
}

/* Under the cookie's mutex: the bindings of @db with MSIs, and the pins. */
unsigned int iommu_msi_doorbell_users(struct iommu_msi_doorbell *db)
{
	struct iommu_msi_binding *b;
	unsigned int n = db->pinned;

	lockdep_assert_held(&db->cookie->lock);
	list_for_each_entry(b, &db->bindings, db_node)
		if (iommu_msi_binding_msis(iommu_msi_binding_users(b)))
			n++;
	return n;
}

/*
 * Take ARMED away from @b, which the reclaim now looks at, or which a
 * switch moved: its next idle turn queues the reclaim again. True if @b is
 * idle, or going away; a retired or GONE binding is left as it is.
 */
bool iommu_msi_binding_disarm(struct iommu_msi_binding *b)
{
	int users;

	/* Each try waits out GOING_IDLE again: it is no user. */
	do {
		users = iommu_msi_binding_users(b);
		if (users < 0)
			return true;	/* RETIRED or GONE: no user */
		if (!(users & IOMMU_MSI_BINDING_ARMED))
			break;
	} while (!atomic_try_cmpxchg(&b->users, &users,
				     users & ~IOMMU_MSI_BINDING_ARMED));
	return !iommu_msi_binding_msis(users);
}

/* Idle @b is retired, unless it woke up meanwhile. */
static bool binding_retire(struct iommu_msi_binding *b)
{
	int users;

	do {
		users = iommu_msi_binding_users(b);
		if (users < 0)
			return true;
		if (iommu_msi_binding_msis(users))
			return false;
	} while (!atomic_try_cmpxchg(&b->users, &users,
				     IOMMU_MSI_BINDING_RETIRED));
	return true;
}

/* Retire the idle bindings of @db; false if it still has users. */
static bool doorbell_retire_idle(struct iommu_msi_doorbell *db)
{
	struct iommu_msi_binding *b;
	bool idle = !db->pinned;

	lockdep_assert_held(&db->cookie->lock);
	list_for_each_entry(b, &db->bindings, db_node)
		idle &= binding_retire(b);
	return idle;
}

/* Give back what a failed reclaim retired, up to (not including) @last. */
static void doorbell_unretire(struct iommu_msi_doorbell *db,
			      struct iommu_msi_binding *last)
{
	struct iommu_msi_binding *b;

	list_for_each_entry(b, &db->bindings, db_node) {
		if (b == last)
			break;
		/* The group mutex holder may have made it GONE meanwhile. */
		atomic_cmpxchg(&b->users, IOMMU_MSI_BINDING_RETIRED, 0);
	}
}

/*
 * Unmap @db if no MSI uses it, and take it out of its cookie. Its idle
 * bindings are retired first, all or none, so that a binding waking up at
 * the same time either wins, and the doorbell stays, or finds itself
 * retired. Every binding looked at loses ARMED before its count is read:
 * one that goes idle later queues the reclaim again.
 */
static bool doorbell_reclaim(struct iommu_msi_doorbell *db, struct device *dev)
{
	struct iommu_msi_binding *b;
	bool idle = !db->pinned;

	lockdep_assert_held(&db->cookie->lock);
	list_for_each_entry(b, &db->bindings, db_node)
		idle &= iommu_msi_binding_disarm(b);
	if (!idle)
		return false;
	list_for_each_entry(b, &db->bindings, db_node) {
		if (!binding_retire(b)) {
			doorbell_unretire(db, b);
			return false;
		}
	}
	if (!doorbell_unmap(db, dev)) {
		doorbell_unretire(db, NULL);
		return false;
	}
	xa_erase(&db->cookie->doorbells, db->phys >> PAGE_SHIFT);
	return true;
}

/*
 * Unmap the doorbells of @cookie that no MSI uses. Returns how many went.
 * Those no idle binding points at are freed, and their references to the
 * cookie dropped here: the caller holds another (its domain's, or the
 * reclaim work's).
 */
static unsigned int cookie_reclaim_locked(struct iommu_msi_cookie *cookie)
{
	struct iommu_msi_doorbell *db;
	unsigned long index;
	unsigned int n = 0;

	lockdep_assert_held(&cookie->lock);
	if (!cookie->domain)
		return 0;
	xa_for_each(&cookie->doorbells, index, db) {
		if (!doorbell_reclaim(db, NULL))
			continue;
		n++;
		if (doorbell_unreferenced(db))
			doorbell_free(db);
	}
	return n;
}

static void cookie_reclaim_work(struct work_struct *work)
{
	struct iommu_msi_cookie *cookie =
		container_of(to_delayed_work(work), struct iommu_msi_cookie,
			     reclaim);

	mutex_lock(&cookie->lock);
	cookie_reclaim_locked(cookie);
	mutex_unlock(&cookie->lock);
	kref_put(&cookie->ref, cookie_free);	/* the work's own */
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * iommu_msi_cookie_reclaim() - unmap the doorbells no MSI uses now
 * @cookie: a live cookie
 *
 * What the delayed reclaim does when iommu_msi_idle_ms have passed.
 *
 * Context: process context, may sleep; not under @cookie's mutex.
 */
void iommu_msi_cookie_reclaim(struct iommu_msi_cookie *cookie)
{
	mutex_lock(&cookie->lock);
	cookie_reclaim_locked(cookie);
	mutex_unlock(&cookie->lock);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_cookie_reclaim);
#endif

/*
 * @window is full: reclaim the unused doorbells of the other cookies that
 * share it. @self's mutex is held, so theirs, and the list's, are only
 * tried: one that is busy is left to its delayed reclaim.
 */
static bool iommu_msi_reclaim_window(struct iommu_msi_window *window,
				     struct iommu_msi_cookie *self)
{
	struct iommu_msi_cookie *cookie;
	unsigned int n = 0;

	if (!mutex_trylock(&iommu_msi_cookies_lock))
		return false;
	list_for_each_entry(cookie, &iommu_msi_cookies, node) {
		if (cookie == self || cookie->window != window ||
		    !mutex_trylock(&cookie->lock))
			continue;
		n += cookie_reclaim_locked(cookie);
		mutex_unlock(&cookie->lock);
	}
	mutex_unlock(&iommu_msi_cookies_lock);
	return n;
}

/*
 * Map the doorbell page @page in @cookie's domain for a first user: at its
 * window slot, or at a fresh allocator IOVA.
 */
static struct iommu_msi_doorbell *doorbell_map(struct iommu_msi_cookie *cookie,
					       struct device *dev,
					       phys_addr_t page, u64 limit)
{
	size_t granule = iommu_msi_shift_size(cookie->shift);
	struct iommu_msi_doorbell *db;
	int ret;

	lockdep_assert_held(&cookie->lock);
	db = kzalloc(sizeof(*db), GFP_KERNEL);
	if (!db)
		return ERR_PTR(-ENOMEM);

	if (cookie->dma_ops) {
		db->iova = cookie->dma_ops->alloc(cookie->domain, dev, granule,
						  limit);
		/* Unused doorbells give their IOVAs back first. */
		if (!db->iova && cookie_reclaim_locked(cookie))
			db->iova = cookie->dma_ops->alloc(cookie->domain, dev,
							  granule, limit);
		if (!db->iova) {
			iommu_msi_err(dev, "no IOVA left for MSI doorbell %pa\n",
				      &page);
			ret = -ENOSPC;
			goto err_free;
		}
	} else {
		db->slot = iommu_msi_slot_get(cookie->window, page);
		if (PTR_ERR_OR_ZERO(db->slot) == -ENOSPC &&
		    (cookie_reclaim_locked(cookie) ||
		     iommu_msi_reclaim_window(cookie->window, cookie)))
			db->slot = iommu_msi_slot_get(cookie->window, page);
		if (IS_ERR(db->slot)) {
			ret = PTR_ERR(db->slot);
			if (ret == -ENOSPC)
				iommu_msi_err(dev, "MSI window [%pad +%#zx) is full, no room for doorbell %pa\n",
					      &cookie->base, cookie->size, &page);
			goto err_free;
		}
		db->iova = iommu_msi_slot_iova(db->slot);
	}
	if (db->iova + granule - 1 > limit) {
		ret = -ERANGE;
		iommu_msi_err(dev, "MSI doorbell IOVA %pad is beyond what the device can address\n",
			      &db->iova);
		goto err_iova;
	}

	/* Its index entry first: once mapped, nothing may fail. */
	ret = xa_reserve(&cookie->doorbells, page >> PAGE_SHIFT, GFP_KERNEL);
	if (ret)
		goto err_iova;
	/* A doorbell is only ever written: no read, no instruction fetch. */
	ret = iommu_map(cookie->domain, db->iova, page, granule,
			IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO, GFP_KERNEL);
	if (ret) {
		xa_release(&cookie->doorbells, page >> PAGE_SHIFT);
		goto err_iova;
	}

	db->cookie = cookie;
	db->phys = page;
	INIT_LIST_HEAD(&db->bindings);
	db->pinned = 1;
	db->mapped = true;
	/* Fills the reserved entry: no allocation, cannot fail. */
	xa_store(&cookie->doorbells, page >> PAGE_SHIFT, db, GFP_KERNEL);
	kref_get(&cookie->ref);
	trace_iommu_msi_map(dev, page, db->iova, 1);
	return db;

err_iova:
	if (db->slot)
		iommu_msi_slot_put(db->slot);
	else
		cookie->dma_ops->free(cookie->domain, db->iova, granule);
err_free:
	kfree(db);
	return ERR_PTR(ret);
}

/*
 * The mapping of @page in @cookie, with one more user, pinned until a
 * binding takes it over (doorbell_link(), iommu_msi_doorbell_adopt()).
 */
struct iommu_msi_doorbell *
iommu_msi_doorbell_get(struct iommu_msi_cookie *cookie, struct device *dev,
		       phys_addr_t page, u64 limit)
{
	struct iommu_msi_doorbell *db;

	lockdep_assert_held(&cookie->lock);
	db = xa_load(&cookie->doorbells, page >> PAGE_SHIFT);
	if (!db)
		return doorbell_map(cookie, dev, page, limit);
	if (db->iova + iommu_msi_shift_size(cookie->shift) - 1 > limit) {
		iommu_msi_err(dev, "shared MSI doorbell IOVA %pad is beyond what the device can address\n",
			      &db->iova);
		return ERR_PTR(-ERANGE);
	}
	db->pinned++;
	return db;
}

/* @b takes over the pin of @db it was given: it is one of its bindings. */
static void doorbell_link(struct iommu_msi_doorbell *db,
			  struct iommu_msi_binding *b)
{
	lockdep_assert_held(&db->cookie->lock);
	db->pinned--;
	list_add(&b->db_node, &db->bindings);
}

/*
 * @db may have no user left: have the unused doorbells of its cookie
 * unmapped in @idle_ms unless one comes back. No cookie lock needed: @db
 * keeps its cookie alive.
 */
static noinline void doorbell_idle(struct iommu_msi_doorbell *db,
				   struct device *dev, unsigned int idle_ms)
{
	struct iommu_msi_cookie *cookie = db->cookie;

	/* A hint: the domain's destroy unmapped it, nothing to reclaim. */
	if (!READ_ONCE(db->mapped))
		return;
	trace_iommu_msi_idle(dev, db->phys, db->iova, 0);
	/*
	 * The work holds the cookie while it is queued: take that reference
	 * first, since the work may run and drop it before we get further.
	 * Not the last one if the work was queued already: @db holds one.
	 */
	kref_get(&cookie->ref);
	if (!queue_delayed_work(system_wq, &cookie->reclaim,
				msecs_to_jiffies(idle_ms)))
		kref_put(&cookie->ref, cookie_free);
}

/*
 * Drop @b's place on @db, or a switch's pin if @b is NULL. A doorbell
 * left unused stays mapped for iommu_msi_idle_ms, unless @now: then it is
 * unmapped at once. The bookkeeping goes once unmapped and unreferenced.
 */
static void doorbell_release(struct iommu_msi_doorbell *db,
			     struct iommu_msi_binding *b, struct device *dev,
			     bool now)
{
	struct iommu_msi_cookie *cookie = db->cookie;
	unsigned int idle_ms = READ_ONCE(iommu_msi_idle_ms);
	bool gone;

	mutex_lock(&cookie->lock);
	if (b)
		list_del(&b->db_node);
	else
		db->pinned--;
	if (db->mapped) {
		if (!now && idle_ms && cookie->domain)
			doorbell_idle(db, dev, idle_ms);
		else
			doorbell_reclaim(db, dev);	/* kept if used */
	}
	gone = doorbell_unreferenced(db) && !db->mapped;
	mutex_unlock(&cookie->lock);

	if (gone)
		doorbell_free(db);
}

/* Drop a user, @b or a pin; the last one unmaps the page at once. */
void iommu_msi_doorbell_drop(struct iommu_msi_doorbell *db,
			     struct iommu_msi_binding *b, struct device *dev)
{
	doorbell_release(db, b, dev, true);
}

/* A switch moves @b to the doorbell it pinned for it, in @b->next. */
void iommu_msi_doorbell_adopt(struct iommu_msi_binding *b)
{
	struct iommu_msi_doorbell *db = b->next;

	mutex_lock(&db->cookie->lock);
	doorbell_link(db, b);
	b->cur = db;
	b->next = NULL;
	mutex_unlock(&db->cookie->lock);
}

/* Only devices in an IOMMU group get here, and they all have dev->iommu. */
struct hlist_head *iommu_msi_dev_bindings(struct device *dev)
{
	return &dev->iommu->msi_bindings;
}

/*
 * Free @b, which the caller made GONE. The doorbell it leaves unused is
 * unmapped at once if @now, else after a while. bind_fast() may still be
 * looking at it.
 */
static void binding_free(struct iommu_msi_binding *b, bool now)
{
	struct iommu_msi_doorbell *db = b->cur ?: b->home;

	if (iommu_msi_binding_holds_slot(b))
		iommu_msi_slot_put(b->slot);
	if (db)
		doorbell_release(db, b, b->dev, now);
	hlist_del_rcu(&b->node);
	kfree_rcu(b, rcu);
}

/*
 * Make idle or retired @b GONE, for its caller to free it: false if @b is
 * in use, or a prepare woke it up first. Under the group mutex.
 */
static bool binding_claim_idle(struct iommu_msi_binding *b)
{
	int users;

	do {
		users = iommu_msi_binding_users(b);
		if (iommu_msi_binding_msis(users))
			return false;
	} while (!atomic_try_cmpxchg(&b->users, &users,
				     IOMMU_MSI_BINDING_GONE));
	return true;
}

/*
 * Free the idle bindings of @dev, unmapping at once the doorbells nothing
 * else uses; with @hold, also take one more MSI of each binding left.
 */
static void dev_sweep_bindings(struct device *dev, bool hold)
{
	struct iommu_msi_binding *b;
	struct hlist_node *tmp;

	iommu_msi_assert_group_locked(dev);
	hlist_for_each_entry_safe(b, tmp, iommu_msi_dev_bindings(dev), node) {
		/* A prepare may wake @b up while we look: then hold it. */
		do {
			if (hold && iommu_msi_binding_get(b))
				break;
			if (binding_claim_idle(b)) {
				binding_free(b, true);
				break;
			}
		} while (hold);
	}
}

/**
 * iommu_msi_dev_drop_idle() - free a device's idle bindings
 * @dev: device behind an IOMMU
 *
 * Their doorbells, if nothing else uses them, are unmapped at once.
 *
 * Context: process context, under the device's iommu_group mutex, or once
 * the device has left its group.
 */
void iommu_msi_dev_drop_idle(struct device *dev)
{
	dev_sweep_bindings(dev, false);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_dev_drop_idle);

/*
 * For the switch hooks: hold one more MSI of each binding of @dev, so that
 * none goes idle while they change it, and free those idle already: what
 * no MSI uses goes from the old domain at once, a hand-over. The switch
 * gives its holds back with iommu_msi_binding_put().
 */
void iommu_msi_dev_hold_bindings(struct device *dev)
{
	dev_sweep_bindings(dev, true);
}

/*
 * One more MSI on @b if an MSI of the device uses it now; false if it is
 * idle, or goes idle while we look. Under the group mutex; the count can
 * still drop meanwhile, since releases only take that mutex for what a
 * binding's last MSI leaves behind.
 */
bool iommu_msi_binding_get(struct iommu_msi_binding *b)
{
	int users;

	do {
		users = iommu_msi_binding_users(b);
		if (!iommu_msi_binding_msis(users))
			return false;
	} while (!atomic_try_cmpxchg(&b->users, &users, users + 1));
	return true;
}

/* A binding with one MSI, for binding_publish() once it is complete. */
static struct iommu_msi_binding *binding_new(struct device *dev,
					     phys_addr_t phys)
{
	struct iommu_msi_binding *b;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	b->dev = dev;
	b->phys = phys;
	b->iova = phys;
	atomic_set(&b->users, 1);
	INIT_LIST_HEAD(&b->db_node);
	return b;
}

/* Put @b where prepares find it, bind_fast() included. */
static struct iommu_msi_binding *binding_publish(struct iommu_msi_binding *b)
{
	hlist_add_head_rcu(&b->node, iommu_msi_dev_bindings(b->dev));
	return b;
}

/*
 * Another MSI of the device uses @b: if this one can write its IOVA. NULL
 * if @b went idle meanwhile.
 */
static struct iommu_msi_binding *binding_reuse(struct iommu_msi_binding *b,
					       u64 limit)
{
	if (b->iova + iommu_msi_shift_size(b->shift) - 1 > limit) {
		iommu_msi_err(b->dev, "shared MSI doorbell IOVA %pad is beyond what the device can address\n",
			      &b->iova);
		return ERR_PTR(-ERANGE);
	}
	return iommu_msi_binding_get(b) ? b : NULL;
}

/* Doorbells in a hardware MSI region, or with no IOMMU, bypass it. */
static struct iommu_msi_binding *bind_untranslated(struct device *dev,
						   phys_addr_t doorbell,
						   u64 limit)
{
	struct iommu_msi_binding *b;

	if (doorbell > limit) {
		iommu_msi_err(dev, "MSI doorbell %pa is beyond what the device can address\n",
			      &doorbell);
		return ERR_PTR(-ERANGE);
	}
	hlist_for_each_entry(b, iommu_msi_dev_bindings(dev), node) {
		if (!b->shift && b->phys == doorbell &&
		    iommu_msi_binding_get(b))
			return b;
	}
	b = binding_new(dev, doorbell);
	return IS_ERR(b) ? b : binding_publish(b);
}

/* The device's software MSI window, for MSIs set up while it is blocked. */
static int dev_sw_msi_window(struct device *dev, dma_addr_t *base,
			     size_t *size)
{
	struct iommu_resv_region *region;
	LIST_HEAD(regions);
	int ret = -ENOENT;

	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(region, &regions, list) {
		if (region->type == IOMMU_RESV_SW_MSI && region->length) {
			*base = region->start;
			*size = region->length;
			ret = 0;
			break;
		}
	}
	iommu_put_resv_regions(dev, &regions);
	return ret;
}

/*
 * A blocked device translates nothing, but it may be attached later to a
 * domain with a window cookie, and its messages must then be valid: give
 * its doorbell its slot in the device's software MSI window now.
 */
static struct iommu_msi_binding *bind_blocked(struct device *dev,
					      phys_addr_t doorbell, u64 limit)
{
	phys_addr_t page = doorbell & PAGE_MASK;
	struct iommu_msi_window *window;
	struct iommu_msi_binding *b;
	struct iommu_msi_slot *slot;
	dma_addr_t base;
	size_t size;

	if (dev_sw_msi_window(dev, &base, &size) ||
	    !iommu_msi_window_fits(base, size, PAGE_SHIFT))
		return bind_untranslated(dev, doorbell, limit);

	hlist_for_each_entry(b, iommu_msi_dev_bindings(dev), node) {
		if (iommu_msi_binding_holds_slot(b) &&
		    b->shift == PAGE_SHIFT && b->phys == page &&
		    b->slot->window->base == base &&
		    b->slot->window->size == size) {
			struct iommu_msi_binding *reused = binding_reuse(b, limit);

			if (reused)
				return reused;
		}
	}

	window = iommu_msi_window_get(base, size, PAGE_SHIFT);
	if (!window)
		return ERR_PTR(-ENOMEM);
	slot = iommu_msi_slot_get(window, page);
	iommu_msi_window_put(window);	/* the slot holds the window */
	if (IS_ERR(slot)) {
		if (PTR_ERR(slot) == -ENOSPC)
			iommu_msi_err(dev, "MSI window [%pad +%#zx) is full, no room for doorbell %pa\n",
				      &base, size, &page);
		return ERR_CAST(slot);
	}
	base = iommu_msi_slot_iova(slot);
	if (base + PAGE_SIZE - 1 > limit) {
		iommu_msi_err(dev, "MSI doorbell IOVA %pad is beyond what the device can address\n",
			      &base);
		iommu_msi_slot_put(slot);
		return ERR_PTR(-ERANGE);
	}
	b = binding_new(dev, page);
	if (IS_ERR(b)) {
		iommu_msi_slot_put(slot);
		return b;
	}
	b->slot = slot;
	b->iova = base;
	b->shift = PAGE_SHIFT;
	return binding_publish(b);
}

/*
 * One more MSI on @b without the group mutex, whether in use or idle: an
 * idle binding keeps its doorbell mapped until the reclaim retires it, so
 * it wakes up with the same compare-and-swap. False if @b is going idle,
 * retired or GONE: the slow path decides.
 */
static __always_inline bool binding_get_or_wake(struct iommu_msi_binding *b)
{
	int users = atomic_read(&b->users);

	do {
		if (users < 0)
			return false;
	} while (!atomic_try_cmpxchg(&b->users, &users, users + 1));
	return true;
}

/*
 * The device's binding to @doorbell's page in @cookie, if it has one that
 * is in use or can wake up, under the group mutex. That mutex keeps
 * @cookie's domain, so the cookie and the slots of its mapped doorbells,
 * alive. The cookie's mutex is not needed: its granule is final once it
 * has a doorbell, and a binding wakes up only if the reclaim has not
 * retired it first.
 */
static struct iommu_msi_binding *bind_existing(struct iommu_msi_cookie *cookie,
					       struct device *dev,
					       phys_addr_t doorbell, u64 limit)
{
	unsigned int shift = READ_ONCE(cookie->shift);
	struct iommu_msi_doorbell *db;
	struct iommu_msi_binding *b;
	phys_addr_t page;

	if (!shift)
		return NULL;	/* no doorbell yet, so no binding */
	page = doorbell & ~(phys_addr_t)(iommu_msi_shift_size(shift) - 1);
	hlist_for_each_entry(b, iommu_msi_dev_bindings(dev), node) {
		struct iommu_msi_binding *reused;

		db = b->cur ?: b->home;
		if (b->phys != page || !db || db->cookie != cookie)
			continue;
		/* bind_fast() may wake @b up or share it while we look. */
		for (;;) {
			int users = iommu_msi_binding_users(b);

			/* Retired with its doorbell: it goes. */
			if (users == IOMMU_MSI_BINDING_RETIRED) {
				if (atomic_try_cmpxchg(&b->users, &users,
						       IOMMU_MSI_BINDING_GONE)) {
					binding_free(b, false);
					return NULL;
				}
				continue;	/* the reclaim gave it back */
			}
			/* In use: shared; unless its last MSI goes meanwhile. */
			if (iommu_msi_binding_msis(users)) {
				reused = binding_reuse(b, limit);
				if (reused)
					return reused;
			}
			/* An idle IOVA the device cannot write: the slow path says so. */
			if (db->iova + iommu_msi_shift_size(shift) - 1 > limit)
				return NULL;
			if (binding_get_or_wake(b))
				return b;
		}
	}
	return NULL;
}

/*
 * A new binding to a doorbell mapped in @cookie's domain, the device's
 * current one. Out of line: it would make every prepare pay for its
 * registers.
 */
static noinline struct iommu_msi_binding *
bind_cookie_new(struct iommu_msi_cookie *cookie, struct device *dev,
		phys_addr_t doorbell, u64 limit)
{
	struct iommu_msi_doorbell *db;
	struct iommu_msi_binding *b;
	int ret;

	/* Before the cookie's mutex, which the reclaim needs. */
	b = binding_new(dev, doorbell);
	if (IS_ERR(b))
		return b;
	mutex_lock(&cookie->lock);
	if (iommu_msi_in_hw_region(cookie, doorbell)) {
		mutex_unlock(&cookie->lock);
		kfree(b);
		return bind_untranslated(dev, doorbell, limit);
	}
	ret = iommu_msi_cookie_fix_granule(cookie, dev);
	if (ret)
		goto err_unlock;
	b->phys = doorbell & ~(phys_addr_t)(iommu_msi_shift_size(cookie->shift) - 1);
	if ((b->phys >> PAGE_SHIFT) > ULONG_MAX) {
		iommu_msi_err(dev, "MSI doorbell %pa cannot be indexed\n", &doorbell);
		ret = -ERANGE;
		goto err_unlock;
	}

	db = iommu_msi_doorbell_get(cookie, dev, b->phys, limit);
	if (IS_ERR(db)) {
		ret = PTR_ERR(db);
		goto err_unlock;
	}
	b->iova = db->iova;
	b->shift = cookie->shift;
	if (db->slot) {
		/* The doorbell holds the slot for it; see binding_holds_slot(). */
		b->slot = db->slot;
		b->cur = db;
	} else {
		b->home = db;
	}
	b->in_domain = true;
	doorbell_link(db, b);
	mutex_unlock(&cookie->lock);
	return binding_publish(b);

err_unlock:
	mutex_unlock(&cookie->lock);
	kfree(b);
	return ERR_PTR(ret);
}

/* A doorbell mapped in @cookie's domain, the device's current one. */
static struct iommu_msi_binding *bind_cookie(struct iommu_msi_cookie *cookie,
					     struct device *dev,
					     phys_addr_t doorbell, u64 limit)
{
	struct iommu_msi_binding *b;

	b = bind_existing(cookie, dev, doorbell, limit);
	return b ?: bind_cookie_new(cookie, dev, doorbell, limit);
}

/*
 * The last MSI of unarmed @b goes: queue the reclaim of its doorbell's
 * cookie, and leave @b idle and armed, so that its next idle turns need
 * nothing more. While GOING_IDLE, for these few instructions with
 * preemption off, @b keeps @db, and @db its cookie: whoever holds the
 * group mutex, or the cookie's, waits for them. False if the caller must
 * take the group mutex and free @b: it has no doorbell to stay idle on, or
 * doorbells go at once.
 */
static noinline bool binding_go_idle(struct iommu_msi_binding *b)
{
	unsigned int idle_ms = READ_ONCE(iommu_msi_idle_ms);
	struct iommu_msi_doorbell *db;

	if (!idle_ms)
		return false;
	preempt_disable();
	if (atomic_cmpxchg_acquire(&b->users, 1,
				   IOMMU_MSI_BINDING_GOING_IDLE) != 1) {
		preempt_enable();
		return false;
	}
	/* A switch holds an MSI of @b until it clears @b->next: not set here. */
	db = b->cur ?: b->home;
	if (!db) {
		atomic_set_release(&b->users, 1);
		preempt_enable();
		return false;
	}
	/* Queued before @b is idle: the reclaim cannot miss it. */
	doorbell_idle(db, b->dev, idle_ms);
	atomic_set_release(&b->users, IOMMU_MSI_BINDING_ARMED);
	preempt_enable();
	return true;
}

/*
 * Drop one MSI of @b, without the group mutex if need be, if that can be
 * done so: it is not @b's last MSI, or @b goes idle on its doorbell. An
 * armed binding goes idle with the same compare-and-swap as one that
 * stays in use. The switch hooks hold an MSI of every binding while they
 * change it, so @b's doorbell cannot change under us. Returns false if the
 * caller must take the group mutex and call iommu_msi_binding_put().
 */
static __always_inline bool binding_put_fast(struct iommu_msi_binding *b)
{
	int users = atomic_read(&b->users);

	while (users > 1)
		if (atomic_try_cmpxchg(&b->users, &users, users - 1))
			return true;
	return users == 1 && binding_go_idle(b);
}

/*
 * Drop one MSI of @b, under the group mutex. The count is not a refcount_t:
 * an idle binding comes back to 1, it carries the ARMED flag, and transient
 * negative values mark one going idle or retired. A last MSI that cannot
 * leave @b idle frees it, unless bind_fast() shares it first.
 */
void iommu_msi_binding_put(struct iommu_msi_binding *b)
{
	int users;

	while (!binding_put_fast(b)) {
		users = 1;
		if (atomic_try_cmpxchg(&b->users, &users,
				       IOMMU_MSI_BINDING_GONE)) {
			binding_free(b, false);
			return;
		}
		/* Our MSI holds @b: it is neither idle, retired nor GONE. */
		if (WARN_ON_ONCE(users <= 0))
			return;
	}
}

/*
 * The core of iommu_msi_prepare(), for a device behind an IOMMU, against an
 * explicit domain and with the highest address the device can put in an
 * MSI message.
 */
VISIBLE_IF_KUNIT int iommu_msi_domain_prepare(struct iommu_domain *domain,
					      struct msi_desc *desc,
					      phys_addr_t doorbell, u64 limit)
{
	struct iommu_msi_binding *old = desc->iommu_binding;
	struct device *dev = msi_desc_to_dev(desc);
	struct iommu_msi_cookie *cookie = iommu_msi_domain_cookie(domain);
	struct iommu_msi_binding *b;

	iommu_msi_assert_group_locked(dev);

	if (cookie)
		b = bind_cookie(cookie, dev, doorbell, limit);
	else if (domain && iommu_msi_domain_blocks(dev, domain))
		b = bind_blocked(dev, doorbell, limit);
	else
		b = bind_untranslated(dev, doorbell, limit);

	if (IS_ERR(b)) {
		trace_iommu_msi_prepare_fail(dev, doorbell, 0, 0, PTR_ERR(b));
		/* A failed prepare leaves no translation behind. */
		msi_desc_set_iommu_msi_iova(desc, 0, 0);
		desc->iommu_binding = NULL;
		if (old)
			iommu_msi_binding_put(old);
		return PTR_ERR(b);
	}

	/*
	 * Publishing the new IOVA before the old mapping goes keeps a
	 * re-prepared MSI valid throughout. Compose reads these fields
	 * without a lock: genirq only composes an MSI between its prepare
	 * (at allocation) and its release (at free), and a re-prepare only
	 * happens while the descriptor is being set up, so no compose runs
	 * concurrently with these writes.
	 */
	desc->iommu_binding = b;
	msi_desc_set_iommu_msi_iova(desc, b->shift ? b->iova : 0, b->shift);
	if (old)
		iommu_msi_binding_put(old);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_domain_prepare);

/* The highest address @desc's device can write an MSI to. */
VISIBLE_IF_KUNIT u64 iommu_msi_addr_limit(const struct msi_desc *desc)
{
	struct device *dev = msi_desc_to_dev(desc);

	if (dev_is_pci(dev) && (to_pci_dev(dev)->no_64bit_msi ||
				(!desc->pci.msi_attrib.is_msix &&
				 !desc->pci.msi_attrib.is_64)))
		return U32_MAX;
	return U64_MAX;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_addr_limit);

/*
 * Share or wake up the device's binding to @doorbell's page without the
 * group mutex: what VMMs do each time a guest enables an MSI again. It
 * reads no domain. RCU keeps the bindings it looks at; one in use, or
 * waking up, keeps its doorbell mapped, and the doorbell its cookie.
 * Only bindings whose doorbell is in the device's domain are @in_domain,
 * set under the group mutex, and a switch holds the bindings it moves: the
 * IOVA returned is mapped in the device's domain, or moves with the live
 * MSIs to the next one. NULL if the slow path must decide.
 */
static struct iommu_msi_binding *bind_fast(struct msi_desc *desc,
					   phys_addr_t doorbell)
{
	struct device *dev = msi_desc_to_dev(desc);
	struct iommu_msi_binding *b, *found = NULL;
	dma_addr_t last;

	rcu_read_lock();
	hlist_for_each_entry_rcu(b, iommu_msi_dev_bindings(dev), node) {
		if (!READ_ONCE(b->in_domain) || (doorbell ^ b->phys) >> b->shift)
			continue;
		last = b->iova + iommu_msi_shift_size(b->shift) - 1;
		/* Only an IOVA above 4 GiB can be out of the device's reach. */
		if ((!upper_32_bits(last) ||
		     last <= iommu_msi_addr_limit(desc)) &&
		    binding_get_or_wake(b))
			found = b;
		break;
	}
	rcu_read_unlock();
	return found;
}

/* The slow path of iommu_msi_prepare(), under the group mutex. */
static noinline int prepare_locked(struct msi_desc *desc, phys_addr_t doorbell)
{
	struct device *dev = msi_desc_to_dev(desc);
	u64 limit = iommu_msi_addr_limit(desc);
	struct iommu_domain *domain;
	struct iommu_group *group;
	int ret;

	group = iommu_msi_group_lock(dev, &domain);
	if (!group) {
		/* No IOMMU: nothing translates it, nothing can change. */
		msi_desc_set_iommu_msi_iova(desc, 0, 0);
		if (doorbell <= limit)
			return 0;
		iommu_msi_err(dev, "MSI doorbell %pa is beyond what the device can address\n",
			      &doorbell);
		return -ERANGE;
	}
	ret = iommu_msi_domain_prepare(domain, desc, doorbell, limit);
	iommu_msi_group_unlock(group);
	return ret;
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
 * A blocked device gets its doorbell's slot in its software MSI window,
 * mapped once it is attached. Otherwise the doorbell is used untranslated.
 * The translation stays valid when the device changes domain. Pair with
 * iommu_msi_release(). Preparing @desc again replaces its translation; the
 * new one is in place before the old one is dropped.
 *
 * Context: process context, may sleep. Takes the device's iommu_group
 * mutex, unless the device already has a binding to the doorbell in its
 * domain, so it must not be called under it.
 * Return: 0 on success (nothing to do counts as success); -ENOSPC if the
 * window or allocator has no IOVA left; -ERANGE if the resulting address
 * cannot be written by the device; -EINVAL if the window does not fit the
 * domain's page size; -ENOMEM; or the error of the mapping. On error @desc
 * holds no translation and nothing is left mapped.
 */
int iommu_msi_prepare(struct msi_desc *desc, phys_addr_t doorbell)
{
	struct iommu_msi_binding *b;

	/* A re-prepare drops its old binding: that takes the mutex. */
	if (likely(msi_desc_to_dev(desc)->iommu && !desc->iommu_binding)) {
		b = bind_fast(desc, doorbell);
		if (b) {
			desc->iommu_binding = b;
			msi_desc_set_iommu_msi_iova(desc, b->iova, b->shift);
			return 0;
		}
	}
	return prepare_locked(desc, doorbell);
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
	/* The granule is at most 2^31: the offset is in address_lo. */
	addr = (u64)desc->iommu_msi_iova << shift;
	msg->address_hi = upper_32_bits(addr);
	msg->address_lo = lower_32_bits(addr) |
			  (msg->address_lo & ((1U << shift) - 1));
}
EXPORT_SYMBOL_GPL(iommu_msi_compose);

/**
 * iommu_msi_translated() - whether an MSI's doorbell is remapped
 * @desc: descriptor passed to iommu_msi_prepare()
 *
 * For irqchips whose doorbell has a different address on the CPU side
 * and on the device side: a remapped doorbell is the CPU's page at its
 * IOVA, an untranslated one is written where the device sees it.
 *
 * Context: any context. Takes no lock.
 * Return: true if iommu_msi_compose() rewrites the message address.
 */
bool iommu_msi_translated(const struct msi_desc *desc)
{
	return desc->iommu_msi_shift;
}
EXPORT_SYMBOL_GPL(iommu_msi_translated);

/* The slow path of iommu_msi_release(): @b must go, or be changed. */
static noinline void release_locked(struct device *dev,
				    struct iommu_msi_binding *b)
{
	struct iommu_domain *domain;
	struct iommu_group *group;

	group = iommu_msi_group_lock(dev, &domain);
	iommu_msi_binding_put(b);
	if (group)
		iommu_msi_group_unlock(group);
}

/**
 * iommu_msi_release() - drop an MSI's use of its doorbell mapping
 * @desc: descriptor passed to iommu_msi_prepare(), never prepared, or NULL
 *
 * Called by irqchip drivers when the MSI is freed. When the last user of a
 * doorbell mapping goes, the page is unmapped (with IOTLB invalidation) and
 * its IOVA is given back, after iommu_msi_idle_ms unless its slot or IOVA
 * is needed first. Safe to call on a descriptor with no translation.
 *
 * Context: process context, may sleep. May take the device's iommu_group
 * mutex (when a binding must be freed), so it must not be called under it.
 */
void iommu_msi_release(struct msi_desc *desc)
{
	struct iommu_msi_binding *b;

	/* Only devices in a group have bindings. */
	if (!desc || !desc->iommu_binding)
		return;
	b = desc->iommu_binding;
	msi_desc_set_iommu_msi_iova(desc, 0, 0);
	desc->iommu_binding = NULL;
	if (!binding_put_fast(b))
		release_locked(msi_desc_to_dev(desc), b);
}
EXPORT_SYMBOL_GPL(iommu_msi_release);

/**
 * iommu_msi_cookie_destroy() - tear down a domain's MSI cookie
 * @domain: domain being freed
 *
 * Unmaps every doorbell and gives back every IOVA. Bindings that still
 * hold a doorbell keep only its bookkeeping alive until they let it go.
 * Called by iommu_domain_free(); safe without a cookie.
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

	/* Everything goes now; a reclaim queued later finds no domain. */
	if (cancel_delayed_work_sync(&cookie->reclaim))
		kref_put(&cookie->ref, cookie_free);
	mutex_lock(&cookie->lock);
	xa_for_each(&cookie->doorbells, index, db) {
		/*
		 * No idle binding wakes it up again. MSIs still using it keep
		 * their IOVA: see binding_holds_slot().
		 */
		struct iommu_msi_slot *keep = doorbell_retire_idle(db) ?
					      NULL : db->slot;

		xa_erase(&cookie->doorbells, index);
		if (keep)
			iommu_msi_slot_hold(keep);
		/* The domain goes away with whatever it still maps. */
		if (!doorbell_unmap(db, NULL) && db->slot)
			iommu_msi_slot_put(db->slot);
		db->mapped = false;
		db->slot = keep;
		if (doorbell_unreferenced(db))
			doorbell_free(db);
	}
	cookie->domain = NULL;
	mutex_unlock(&cookie->lock);
	kref_put(&cookie->ref, cookie_free);
}
EXPORT_SYMBOL_GPL(iommu_msi_cookie_destroy);
