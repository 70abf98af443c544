// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domain changes of devices with live MSIs. The IOMMU core calls these
 * hooks for every device of a group that changes domain, with the group
 * mutex held: prepare before the switch, then commit or abort. Prepare maps
 * each binding's doorbell in the new domain at the IOVA the MSIs already
 * use, so no message changes and none ever points at an IOVA the device's
 * domain does not map.
 */

#include <linux/device.h>
#include <linux/iommu.h>

#include "iommu-msi.h"

/* Make binding @b valid in a domain with @cookie: its next mapping. */
static int binding_install(struct iommu_msi_binding *b,
			   struct iommu_msi_cookie *cookie)
{
	struct iommu_msi_doorbell *db;
	int ret = 0;

	mutex_lock(&cookie->lock);
	if (!b->shift) {
		/* Used untranslated: only a hardware MSI region passes it. */
		if (!iommu_msi_in_hw_region(cookie, b->phys))
			ret = -EINVAL;
		goto out_unlock;
	}
	if (b->home) {
		/* An allocator IOVA is only valid in the domain it came from. */
		if (b->home->cookie != cookie)
			ret = -EOPNOTSUPP;
		goto out_unlock;
	}
	if (b->cur && b->cur->cookie == cookie)
		goto out_unlock;
	ret = iommu_msi_cookie_fix_granule(cookie, b->dev);
	if (ret)
		goto out_unlock;
	if (cookie->shift != b->shift) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!cookie->window || cookie->window != b->slot->window) {
		ret = cookie->window ? -ERANGE : -EOPNOTSUPP;
		goto out_unlock;
	}
	db = iommu_msi_doorbell_get(cookie, b->dev, b->phys, U64_MAX);
	if (IS_ERR(db)) {
		ret = PTR_ERR(db);
		goto out_unlock;
	}
	/* One window, one slot per doorbell page: the IOVA must agree. */
	if (WARN_ON(db->iova != b->iova)) {
		mutex_unlock(&cookie->lock);
		iommu_msi_doorbell_drop(db, NULL, b->dev);
		return -EBUSY;
	}
	b->next = db;
out_unlock:
	mutex_unlock(&cookie->lock);
	return ret;
}

/**
 * iommu_msi_dev_switch_abort() - drop what a switch prepare installed
 * @dev: device whose group stays in its domain
 *
 * Context: process context, under the device's iommu_group mutex.
 */
void iommu_msi_dev_switch_abort(struct device *dev)
{
	struct iommu_msi_binding *b;
	struct hlist_node *tmp;

	iommu_msi_assert_group_locked(dev);
	hlist_for_each_entry_safe(b, tmp, iommu_msi_dev_bindings(dev), node) {
		if (b->next) {
			iommu_msi_doorbell_drop(b->next, NULL, dev);
			b->next = NULL;
		}
		iommu_msi_binding_put(b);	/* the switch's own */
	}
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_dev_switch_abort);

/**
 * iommu_msi_dev_switch_prepare() - map a device's live doorbells in a domain
 * @dev: device about to be attached to @new
 * @new: its next domain
 * @must_succeed: the switch happens whatever we return
 *
 * Context: process context, under the device's iommu_group mutex.
 * Return: 0, or the first binding's error (-EINVAL for a doorbell used
 * untranslated, -EOPNOTSUPP for an allocator IOVA or a domain without a
 * window, -ERANGE for another window, -ENOSPC, -ENOMEM or the mapping
 * error), with nothing installed. With @must_succeed, errors are only
 * reported.
 */
int iommu_msi_dev_switch_prepare(struct device *dev, struct iommu_domain *new,
				 bool must_succeed)
{
	struct iommu_msi_cookie *cookie = iommu_msi_domain_cookie(new);
	struct iommu_msi_binding *b;
	int ret = 0;

	iommu_msi_assert_group_locked(dev);
	/* Until commit or abort, no release turns a binding idle. */
	iommu_msi_dev_hold_bindings(dev);
	hlist_for_each_entry(b, iommu_msi_dev_bindings(dev), node) {
		if (iommu_msi_domain_blocks(dev, new))
			continue;	/* nothing gets through anyway */
		if (new->type == IOMMU_DOMAIN_IDENTITY)
			ret = b->shift ? -EINVAL : 0;
		else if (!cookie)
			/* Its owner may not give it a cookie until attached. */
			ret = b->shift ? -EOPNOTSUPP : 0;
		else
			ret = binding_install(b, cookie);
		if (!ret)
			continue;
		if (!cookie && new->type != IOMMU_DOMAIN_IDENTITY) {
			iommu_msi_err(dev, "MSI doorbell %pa at IOVA %pad is not mapped in a domain without MSI cookie\n",
				      &b->phys, &b->iova);
			continue;
		}
		iommu_msi_err(dev, "MSI doorbell %pa at IOVA %pad cannot be kept in the new domain: %d\n",
			      &b->phys, &b->iova, ret);
		if (must_succeed) {
			ret = 0;
			continue;
		}
		iommu_msi_dev_switch_abort(dev);
		return ret;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_dev_switch_prepare);

/* Whether bind_fast() may give @b to new MSIs of a device in @cookie's domain. */
static bool binding_in_domain(const struct iommu_msi_binding *b,
			      const struct iommu_msi_cookie *cookie)
{
	const struct iommu_msi_doorbell *db = b->cur ?: b->home;

	return cookie && db && db->cookie == cookie;
}

/**
 * iommu_msi_dev_switch_commit() - hand a device's MSIs over to its new domain
 * @dev: device now attached to @new
 * @new: its domain
 *
 * The mappings installed by iommu_msi_dev_switch_prepare() take over; those
 * in the old domain lose a user and are unmapped at once when the last one
 * goes, not after iommu_msi_idle_ms.
 *
 * Context: process context, under the device's iommu_group mutex.
 */
void iommu_msi_dev_switch_commit(struct device *dev, struct iommu_domain *new)
{
	struct iommu_msi_cookie *cookie = iommu_msi_domain_cookie(new);
	struct iommu_msi_binding *b;
	struct hlist_node *tmp;

	iommu_msi_assert_group_locked(dev);
	hlist_for_each_entry_safe(b, tmp, iommu_msi_dev_bindings(dev), node) {
		bool held = iommu_msi_binding_holds_slot(b);

		/* Handed over: the old domain keeps nothing unused. */
		if (b->cur && (!cookie || b->cur->cookie != cookie)) {
			/* No doorbell here to hold the slot: the binding does. */
			if (b->slot && !b->next)
				iommu_msi_slot_hold(b->slot);
			iommu_msi_doorbell_drop(b->cur, b, dev);
			b->cur = NULL;
		}
		if (b->next) {
			iommu_msi_doorbell_adopt(b);
			/* Now the doorbell holds it. */
			if (held)
				iommu_msi_slot_put(b->slot);
		}
		WRITE_ONCE(b->in_domain, binding_in_domain(b, cookie));
		/* Its doorbell may have changed: idle again, it queues its reclaim. */
		iommu_msi_binding_disarm(b);
		iommu_msi_binding_put(b);	/* the switch's own */
	}
}
EXPORT_SYMBOL_IF_KUNIT(iommu_msi_dev_switch_commit);
