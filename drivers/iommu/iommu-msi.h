/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the MSI cookie core, shared with the IOMMU core (domain
 * switches), debugfs and the KUnit suite.
 */
#ifndef __IOMMU_MSI_INTERNAL_H
#define __IOMMU_MSI_INTERNAL_H

#include <kunit/visibility.h>
#include <linux/bits.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/iommu-msi.h>
#include <linux/list.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

struct device;
struct iommu_domain;
struct msi_desc;

/* An IOVA range where doorbells are used untranslated (IOMMU_RESV_MSI). */
struct iommu_msi_hw_region {
	struct list_head	node;
	phys_addr_t		start;
	phys_addr_t		last;
};

/*
 * A software MSI window, shared by every window cookie with the same base,
 * size and granule. A doorbell page holds one slot of it for as long as
 * any domain maps it there or any MSI uses it, so its IOVA is the same in
 * every such domain: MSIs keep their messages when their device changes
 * domain, and can be set up while it is in none.
 */
struct iommu_msi_window {
	struct list_head	node;		/* in iommu_msi_windows */
	dma_addr_t		base;
	size_t			size;
	unsigned int		shift;		/* log2 of a slot */
	unsigned int		refs;		/* cookies + live slots */
	unsigned long		nr_slots;
	unsigned long		*used;		/* slot bitmap */
	struct xarray		slots;		/* phys >> shift -> slot */
};

struct iommu_msi_slot {
	struct iommu_msi_window	*window;
	phys_addr_t		phys;
	unsigned long		index;
	/* Doorbells + bindings; drops to 0 only under the windows lock. */
	refcount_t		refs;
};

/*
 * A doorbell page mapped in one cookie's domain. Its users are the
 * bindings on @bindings that have MSIs, and the switches that move a
 * binding here (@pinned); its idle bindings keep it mapped too, until the
 * reclaim retires them all at once (doorbell_reclaim()). A binding wakes
 * up without the cookie's mutex, so it either wakes up before the reclaim
 * retires it, and the doorbell stays, or finds itself retired.
 */
struct iommu_msi_doorbell {
	struct iommu_msi_cookie	*cookie;
	phys_addr_t		phys;		/* granule aligned */
	dma_addr_t		iova;
	struct iommu_msi_slot	*slot;		/* window cookies */
	/* The bindings pointing here, whose IOVA it maps: idle, retired too. */
	struct list_head	bindings;
	unsigned int		pinned;		/* bindings a switch moves here */
	bool			mapped;		/* false once unmapped */
};

/*
 * What one device's MSIs use of one doorbell page: the IOVA their messages
 * hold. It lives as long as one of its MSIs does, whatever domains the
 * device goes through, and changes only under the device's group mutex,
 * but for @users: a release drops it, and a prepare raises it, without
 * that mutex when they can (binding_put_fast(), bind_fast()).
 * When its last MSI goes it stays, idle, on its doorbell, which stays
 * mapped for it: the next MSI takes both back with one compare-and-swap.
 * It goes when the device changes domain, its MSI window moves or it
 * leaves its IOMMU, and, once the reclaim retired it, when the device
 * next sets up an MSI on that page.
 * @iova, @shift and @phys never change once the binding is on the list,
 * which RCU walkers read; it is freed after a grace period.
 */
struct iommu_msi_binding {
	struct hlist_node	node;		/* in dev->iommu->msi_bindings */
	struct device		*dev;
	phys_addr_t		phys;		/* page, or the doorbell if untranslated */
	dma_addr_t		iova;
	unsigned int		shift;		/* 0: used untranslated */
	/* MSI descriptors, plus IOMMU_MSI_BINDING_ARMED; see below. */
	atomic_t		users;
	struct iommu_msi_slot	*slot;		/* window IOVA: held if used */
	struct iommu_msi_doorbell *home;	/* allocator IOVA: its owner */
	struct iommu_msi_doorbell *cur;		/* window mapping in use now */
	struct iommu_msi_doorbell *next;	/* during a domain switch */
	/* Its doorbell is in the device's domain: bind_fast() may take it. */
	bool			in_domain;
	union {
		/* In (cur ?: home)->bindings, under that cookie's mutex. */
		struct list_head db_node;
		/* Once off every list, for kfree_rcu(). */
		struct rcu_head	rcu;
	};
};

/*
 * A binding's count. Below IOMMU_MSI_BINDING_ARMED, its MSIs; with ARMED
 * added, the reclaim of its doorbell's cookie is queued and sees the
 * binding after it last took the flag away, so the binding may go idle
 * (ARMED + 1 -> ARMED) with no more than a compare-and-swap. Only a
 * binding going idle unarmed queues the reclaim, while GOING_IDLE, for a
 * few instructions with preemption off; whoever holds the group mutex or
 * reclaims waits that out (iommu_msi_binding_users()). The reclaim takes
 * the flag away from every binding it looks at, and turns the idle
 * bindings of a doorbell it unmaps RETIRED: nothing wakes them up, and the
 * group mutex holder frees them. A binding it is about to free is GONE.
 */
#define IOMMU_MSI_BINDING_ARMED		((int)BIT(30))
#define IOMMU_MSI_BINDING_GOING_IDLE	(-1)
#define IOMMU_MSI_BINDING_RETIRED	(-2)
#define IOMMU_MSI_BINDING_GONE		INT_MIN

static inline int iommu_msi_binding_users(struct iommu_msi_binding *b)
{
	int users;

	while ((users = atomic_read_acquire(&b->users)) ==
	       IOMMU_MSI_BINDING_GOING_IDLE)
		cpu_relax();
	return users;
}

/* The MSIs a binding's count @users stands for. */
static inline int iommu_msi_binding_msis(int users)
{
	return users < 0 ? 0 : users & ~IOMMU_MSI_BINDING_ARMED;
}

struct iommu_msi_cookie {
	struct list_head	node;		/* in the debugfs listing */
	const void		*owner;		/* who created it */
	/* One for the domain, one per doorbell, one for a queued reclaim. */
	struct kref		ref;
	/* Serialises the doorbells below; never taken by compose. */
	struct mutex		lock;
	struct iommu_domain	*domain;	/* NULL after destroy */
	/* log2 of the granule; 0 until the first map, when it is final. */
	unsigned int		shift;
	struct xarray		doorbells;	/* phys >> PAGE_SHIFT -> doorbell */
	struct list_head	hw_regions;
	/* IOVA source: the DMA allocator if set, else the window below. */
	const struct iommu_msi_iova_ops *dma_ops;
	dma_addr_t		base;
	size_t			size;
	struct iommu_msi_window	*window;	/* once the granule is known */
	/* Unmaps the doorbells no MSI has used for iommu_msi_idle_ms. */
	struct delayed_work	reclaim;
};

static inline size_t iommu_msi_shift_size(unsigned int shift)
{
	return (size_t)1 << shift;
}

/* The MSI granule of a domain: its smallest page, but no less than ours. */
static inline unsigned int
iommu_msi_domain_shift(const struct iommu_domain *domain)
{
	return max_t(unsigned int, PAGE_SHIFT, __ffs(domain->pgsize_bitmap));
}

/* The cookie of a translating domain, if its owner gave it one. */
static inline struct iommu_msi_cookie *
iommu_msi_domain_cookie(struct iommu_domain *domain)
{
	if (!domain || !(domain->type & __IOMMU_DOMAIN_PAGING))
		return NULL;
	/* Pairs with cookie_install(): the cookie is complete once seen. */
	return smp_load_acquire(&domain->msi_cookie);
}

/*
 * A window binding holds a reference to its slot only while it has no
 * doorbell in the device's domain (blocked, or in a domain without the
 * window); a mapped doorbell holds the slot for the bindings that use it,
 * so MSIs come and go without touching the slot's count.
 */
static inline bool iommu_msi_binding_holds_slot(const struct iommu_msi_binding *b)
{
	return b->slot && !b->cur;
}

/* Bindings and domains of @dev are only touched under its group mutex. */
static inline void iommu_msi_assert_group_locked(struct device *dev)
{
	/* Not even a call without lockdep: MSI set-up is a hot path for VMMs. */
	if (IS_ENABLED(CONFIG_LOCKDEP) && dev->iommu_group)
		iommu_group_mutex_assert(dev);
}

/* iommu-msi-window.c */
bool iommu_msi_window_fits(dma_addr_t base, size_t size, unsigned int shift);
struct iommu_msi_window *iommu_msi_window_get(dma_addr_t base, size_t size,
					      unsigned int shift);
void iommu_msi_window_put(struct iommu_msi_window *window);
struct iommu_msi_slot *iommu_msi_slot_get(struct iommu_msi_window *window,
					  phys_addr_t phys);
void iommu_msi_slot_hold(struct iommu_msi_slot *slot);
void iommu_msi_slot_put(struct iommu_msi_slot *slot);
dma_addr_t iommu_msi_slot_iova(const struct iommu_msi_slot *slot);

/* iommu-msi.c, for the switch hooks */
__printf(2, 3) void iommu_msi_err(struct device *dev, const char *fmt, ...);
bool iommu_msi_in_hw_region(struct iommu_msi_cookie *cookie, phys_addr_t addr);
int iommu_msi_cookie_fix_granule(struct iommu_msi_cookie *cookie,
				 struct device *dev);
struct iommu_msi_doorbell *
iommu_msi_doorbell_get(struct iommu_msi_cookie *cookie, struct device *dev,
		       phys_addr_t page, u64 limit);
void iommu_msi_doorbell_drop(struct iommu_msi_doorbell *db,
			     struct iommu_msi_binding *b, struct device *dev);
void iommu_msi_doorbell_adopt(struct iommu_msi_binding *b);
unsigned int iommu_msi_doorbell_users(struct iommu_msi_doorbell *db);
struct hlist_head *iommu_msi_dev_bindings(struct device *dev);
bool iommu_msi_binding_get(struct iommu_msi_binding *b);
bool iommu_msi_binding_disarm(struct iommu_msi_binding *b);
void iommu_msi_binding_put(struct iommu_msi_binding *b);
void iommu_msi_dev_hold_bindings(struct device *dev);

/*
 * Every live cookie, for debugfs. Taken when a cookie is published and when
 * it is finally freed, which may be under a group mutex (the last release
 * of a doorbell whose domain is gone); it nests cookie mutexes only in the
 * debugfs reader.
 */
extern struct list_head iommu_msi_cookies;
extern struct mutex iommu_msi_cookies_lock;

#ifdef CONFIG_IOMMU_MSI_COOKIE
/* Called by the IOMMU core for each device of a group that changes domain. */
int iommu_msi_dev_switch_prepare(struct device *dev, struct iommu_domain *new,
				 bool must_succeed);
void iommu_msi_dev_switch_commit(struct device *dev, struct iommu_domain *new);
void iommu_msi_dev_switch_abort(struct device *dev);
/* When its MSI window moves, or it leaves the IOMMU: no idle binding stays. */
void iommu_msi_dev_drop_idle(struct device *dev);
#else
static inline int iommu_msi_dev_switch_prepare(struct device *dev,
					       struct iommu_domain *new,
					       bool must_succeed)
{
	return 0;
}

static inline void iommu_msi_dev_switch_commit(struct device *dev,
					       struct iommu_domain *new)
{
}

static inline void iommu_msi_dev_switch_abort(struct device *dev)
{
}

static inline void iommu_msi_dev_drop_idle(struct device *dev)
{
}
#endif

/* Provided by the IOMMU core: the lock that keeps a device's domain. */
struct iommu_group *iommu_msi_group_lock(struct device *dev,
					 struct iommu_domain **domain);
void iommu_msi_group_unlock(struct iommu_group *group);
bool iommu_msi_domain_blocks(struct device *dev, struct iommu_domain *domain);

#if IS_ENABLED(CONFIG_KUNIT)
extern unsigned int iommu_msi_idle_ms;
void iommu_msi_cookie_reclaim(struct iommu_msi_cookie *cookie);
int iommu_msi_domain_prepare(struct iommu_domain *domain,
			     struct msi_desc *desc, phys_addr_t doorbell,
			     u64 limit);
u64 iommu_msi_addr_limit(const struct msi_desc *desc);
#endif

#endif /* __IOMMU_MSI_INTERNAL_H */
