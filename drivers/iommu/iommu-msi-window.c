// SPDX-License-Identifier: GPL-2.0-only
/*
 * Software MSI windows shared by MSI cookies: a doorbell page has one slot
 * in a window, whichever domain maps it there, so a device keeps its MSIs'
 * IOVAs when it changes domain and can be given them while it has none.
 */

#include <linux/bitmap.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "iommu-msi.h"

/* Every software MSI window in use; the innermost MSI cookie lock. */
static LIST_HEAD(iommu_msi_windows);
static DEFINE_MUTEX(iommu_msi_windows_lock);

bool iommu_msi_window_fits(dma_addr_t base, size_t size, unsigned int shift)
{
	/* The slot bitmap is sized by an unsigned int. */
	return size && IS_ALIGNED(base | size, iommu_msi_shift_size(shift)) &&
	       base + size - 1 >= base && size >> shift <= UINT_MAX;
}

/* The shared window of (@base, @size, @shift), with a reference. */
struct iommu_msi_window *iommu_msi_window_get(dma_addr_t base, size_t size,
					      unsigned int shift)
{
	struct iommu_msi_window *window;

	mutex_lock(&iommu_msi_windows_lock);
	list_for_each_entry(window, &iommu_msi_windows, node) {
		if (window->base == base && window->size == size &&
		    window->shift == shift) {
			window->refs++;
			goto out_unlock;
		}
	}
	window = kzalloc(sizeof(*window), GFP_KERNEL);
	if (!window)
		goto out_unlock;
	window->nr_slots = size >> shift;
	window->used = bitmap_zalloc(window->nr_slots, GFP_KERNEL);
	if (!window->used) {
		kfree(window);
		window = NULL;
		goto out_unlock;
	}
	window->base = base;
	window->size = size;
	window->shift = shift;
	window->refs = 1;
	xa_init(&window->slots);
	list_add(&window->node, &iommu_msi_windows);
out_unlock:
	mutex_unlock(&iommu_msi_windows_lock);
	return window;
}

static void window_put_locked(struct iommu_msi_window *window)
{
	lockdep_assert_held(&iommu_msi_windows_lock);
	if (--window->refs)
		return;
	list_del(&window->node);
	xa_destroy(&window->slots);
	bitmap_free(window->used);
	kfree(window);
}

void iommu_msi_window_put(struct iommu_msi_window *window)
{
	mutex_lock(&iommu_msi_windows_lock);
	window_put_locked(window);
	mutex_unlock(&iommu_msi_windows_lock);
}

dma_addr_t iommu_msi_slot_iova(const struct iommu_msi_slot *slot)
{
	return slot->window->base +
	       ((dma_addr_t)slot->index << slot->window->shift);
}

/* The slot of doorbell page @phys in @window, taken if it has none yet. */
struct iommu_msi_slot *iommu_msi_slot_get(struct iommu_msi_window *window,
					  phys_addr_t phys)
{
	unsigned long key = phys >> window->shift;
	struct iommu_msi_slot *slot;
	unsigned long index;

	mutex_lock(&iommu_msi_windows_lock);
	slot = xa_load(&window->slots, key);
	if (slot) {
		refcount_inc(&slot->refs);
		goto out_unlock;
	}
	index = find_first_zero_bit(window->used, window->nr_slots);
	if (index >= window->nr_slots) {
		slot = ERR_PTR(-ENOSPC);
		goto out_unlock;
	}
	slot = kzalloc(sizeof(*slot), GFP_KERNEL);
	if (!slot) {
		slot = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	slot->window = window;
	slot->phys = phys;
	slot->index = index;
	refcount_set(&slot->refs, 1);
	if (xa_insert(&window->slots, key, slot, GFP_KERNEL)) {
		kfree(slot);
		slot = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	__set_bit(index, window->used);
	window->refs++;
out_unlock:
	mutex_unlock(&iommu_msi_windows_lock);
	return slot;
}

/*
 * The last reference goes under the windows lock, so a lookup in
 * iommu_msi_slot_get() never finds a slot on its way out; the others take
 * no lock, since MSI set-up and release take and drop them all the time.
 */
void iommu_msi_slot_put(struct iommu_msi_slot *slot)
{
	struct iommu_msi_window *window = slot->window;

	if (!refcount_dec_and_mutex_lock(&slot->refs, &iommu_msi_windows_lock))
		return;
	xa_erase(&window->slots, slot->phys >> window->shift);
	__clear_bit(slot->index, window->used);
	kfree(slot);
	window_put_locked(window);
	mutex_unlock(&iommu_msi_windows_lock);
}

/* One more holder of @slot, which already has one. */
void iommu_msi_slot_hold(struct iommu_msi_slot *slot)
{
	refcount_inc(&slot->refs);
}
