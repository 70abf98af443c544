// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for IOMMU MSI cookies.
 *
 * The cookie core runs against a mock paging domain whose page table is an
 * xarray the tests can read, through the real iommu_map()/iommu_unmap(). So
 * every case checks exactly which doorbell page is mapped at which IOVA, how
 * often the core was asked to map, unmap and sync, and that nothing is left
 * behind when the case ends.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/iommu-msi.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "iommu-msi.h"

/* IOVA windows, and the range the mock DMA allocator hands out. */
#define MOCK_WIN_BASE		((dma_addr_t)0x08000000)	/* Arm SW_MSI */
#define MOCK_WIN_HIGH		((dma_addr_t)0x108000000ULL)	/* > 4 GiB */
#define MOCK_DMA_BASE		((dma_addr_t)0x40000000)
#define MOCK_DMA_SLOTS		32

/* Doorbells sit 64K apart, so they are distinct pages for every granule. */
#define MOCK_DB_BASE		((phys_addr_t)0x2f100000)
#define MOCK_DB_HIGH		((phys_addr_t)0x800000000ULL)
#define MOCK_DB_OFF		0x40
#define MOCK_MSI_DATA		0x4242

#define MOCK_UNMAPPED		PHYS_ADDR_MAX

#define STRESS_WORKERS		4
#define STRESS_DOORBELLS	8
#define STRESS_SLOTS		16
#define STRESS_MAX_DOMAINS	2
#define STRESS_MIN_MS		2000

static unsigned int stress_ms = STRESS_MIN_MS;
module_param(stress_ms, uint, 0444);
MODULE_PARM_DESC(stress_ms, "Duration of each stress case in ms (>= 2000)");

struct mock_domain {
	struct iommu_domain	domain;
	struct kunit		*test;
	unsigned int		shift;		/* log2 of the smallest page */
	/* The page table: iova >> shift -> xa_mk_value(pa >> shift). */
	struct xarray		table;
	atomic_t		maps;		/* map_pages calls */
	atomic_t		unmaps;		/* unmap_pages calls */
	atomic_t		syncs;		/* iotlb_sync calls */
	/* Double maps, unmaps of holes, odd page sizes: always bugs. */
	atomic_t		bad_ops;
	int			fail_map_at;	/* map call to fail, 0: none */
	int			fail_map_err;
	bool			fail_unmap;	/* next unmap unmaps nothing */
	int			last_prot;
	atomic_t		seq;		/* map and unmap calls, in order */
	int			last_map_seq;
	int			last_unmap_seq;

	/* The mock DMA-API IOVA allocator: first fit from MOCK_DMA_BASE. */
	spinlock_t		dma_lock;	/* protects dma_slots */
	DECLARE_BITMAP(dma_slots, MOCK_DMA_SLOTS);
	bool			dma_fail;	/* alloc returns 0 */
	bool			dma_ignore_limit;
	atomic_t		dma_allocs;
	atomic_t		dma_frees;
	atomic_t		dma_live;
	atomic_t		dma_bad_free;
	u64			dma_last_limit;
	struct device		*dma_last_dev;
};

static struct mock_domain *to_mock(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

static size_t mock_granule(const struct mock_domain *md)
{
	return BIT(md->shift);
}

static phys_addr_t mock_page(const struct mock_domain *md, phys_addr_t addr)
{
	return addr & ~(phys_addr_t)(mock_granule(md) - 1);
}

static u64 mock_offset(const struct mock_domain *md, u64 addr)
{
	return addr & (mock_granule(md) - 1);
}

static int mock_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct mock_domain *md = to_mock(domain);
	unsigned long index = iova >> md->shift;
	size_t i;
	int ret;

	if (atomic_inc_return(&md->maps) == READ_ONCE(md->fail_map_at))
		return md->fail_map_err;
	if (pgsize != mock_granule(md) || !IS_ALIGNED(iova | paddr, pgsize)) {
		atomic_inc(&md->bad_ops);
		return -EINVAL;
	}
	WRITE_ONCE(md->last_prot, prot);
	WRITE_ONCE(md->last_map_seq, atomic_inc_return(&md->seq));

	for (i = 0; i < pgcount; i++) {
		ret = xa_insert(&md->table, index + i,
				xa_mk_value((paddr >> md->shift) + i), gfp);
		if (ret == -EBUSY) {
			/* Mapping over a live IOVA would hide a leak. */
			atomic_inc(&md->bad_ops);
			return -EEXIST;
		}
		if (ret)
			return ret;
		*mapped += pgsize;
	}
	return 0;
}

static size_t mock_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct mock_domain *md = to_mock(domain);
	unsigned long index = iova >> md->shift;
	size_t i;

	atomic_inc(&md->unmaps);
	WRITE_ONCE(md->last_unmap_seq, atomic_inc_return(&md->seq));
	if (READ_ONCE(md->fail_unmap)) {
		WRITE_ONCE(md->fail_unmap, false);
		return 0;
	}
	if (pgsize != mock_granule(md)) {
		atomic_inc(&md->bad_ops);
		return 0;
	}
	for (i = 0; i < pgcount; i++) {
		if (!xa_erase(&md->table, index + i)) {
			atomic_inc(&md->bad_ops);
			break;
		}
	}
	return i * pgsize;
}

static void mock_iotlb_sync(struct iommu_domain *domain,
			    struct iommu_iotlb_gather *gather)
{
	atomic_inc(&to_mock(domain)->syncs);
}

static phys_addr_t mock_iova_to_phys(struct iommu_domain *domain,
				     dma_addr_t iova)
{
	struct mock_domain *md = to_mock(domain);
	void *entry = xa_load(&md->table, iova >> md->shift);

	if (!entry)
		return 0;
	return ((phys_addr_t)xa_to_value(entry) << md->shift) |
	       mock_offset(md, iova);
}

static const struct iommu_domain_ops mock_domain_ops = {
	.map_pages	= mock_map_pages,
	.unmap_pages	= mock_unmap_pages,
	.iotlb_sync	= mock_iotlb_sync,
	.iova_to_phys	= mock_iova_to_phys,
};

static dma_addr_t mock_dma_alloc(struct iommu_domain *domain,
				 struct device *dev, size_t size, u64 limit)
{
	struct mock_domain *md;
	unsigned long slot;
	dma_addr_t iova = 0;

	if (WARN_ON(!domain))
		return 0;
	md = to_mock(domain);
	atomic_inc(&md->dma_allocs);
	WRITE_ONCE(md->dma_last_limit, limit);
	WRITE_ONCE(md->dma_last_dev, dev);
	if (size != mock_granule(md)) {
		atomic_inc(&md->bad_ops);
		return 0;
	}
	if (READ_ONCE(md->dma_fail))
		return 0;

	spin_lock(&md->dma_lock);
	slot = find_first_zero_bit(md->dma_slots, MOCK_DMA_SLOTS);
	if (slot < MOCK_DMA_SLOTS) {
		iova = MOCK_DMA_BASE + ((dma_addr_t)slot << md->shift);
		if (iova + size - 1 <= limit || md->dma_ignore_limit) {
			__set_bit(slot, md->dma_slots);
			atomic_inc(&md->dma_live);
		} else {
			iova = 0;
		}
	}
	spin_unlock(&md->dma_lock);
	return iova;
}

static void mock_dma_free(struct iommu_domain *domain, dma_addr_t iova,
			  size_t size)
{
	struct mock_domain *md;
	unsigned long slot;
	bool ok;

	if (WARN_ON(!domain))
		return;
	md = to_mock(domain);
	atomic_inc(&md->dma_frees);
	slot = (iova - MOCK_DMA_BASE) >> md->shift;

	spin_lock(&md->dma_lock);
	ok = size == mock_granule(md) && iova >= MOCK_DMA_BASE &&
	     !mock_offset(md, iova) && slot < MOCK_DMA_SLOTS &&
	     __test_and_clear_bit(slot, md->dma_slots);
	spin_unlock(&md->dma_lock);

	if (ok)
		atomic_dec(&md->dma_live);
	else
		atomic_inc(&md->dma_bad_free);
}

static const struct iommu_msi_iova_ops mock_dma_ops = {
	.alloc	= mock_dma_alloc,
	.free	= mock_dma_free,
};

static unsigned long mock_count(struct mock_domain *md)
{
	unsigned long index, n = 0;
	void *entry;

	xa_for_each(&md->table, index, entry)
		n++;
	return n;
}

/* The page the mock table maps at @iova, or MOCK_UNMAPPED. */
static phys_addr_t mock_lookup(struct mock_domain *md, u64 iova)
{
	void *entry = xa_load(&md->table, iova >> md->shift);

	if (!entry)
		return MOCK_UNMAPPED;
	return (phys_addr_t)xa_to_value(entry) << md->shift;
}

static void mock_fail_next_map(struct mock_domain *md, int err)
{
	md->fail_map_err = err;
	WRITE_ONCE(md->fail_map_at, atomic_read(&md->maps) + 1);
}

/*
 * Destroying the cookie must unmap everything and give every IOVA back,
 * whatever descriptors still hold; anything left is a leak.
 */
static void mock_domain_cleanup(void *data)
{
	struct mock_domain *md = data;
	struct kunit *test = md->test;

	iommu_msi_cookie_destroy(&md->domain);
	KUNIT_EXPECT_EQ_MSG(test, mock_count(md), 0,
			    "doorbell still mapped after destroy");
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_bad_free), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
	xa_destroy(&md->table);
}

static struct mock_domain *mock_domain_new(struct kunit *test,
					   unsigned int type,
					   unsigned long pgsize_bitmap)
{
	struct mock_domain *md;

	md = kunit_kzalloc(test, sizeof(*md), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, md);
	md->test = test;
	md->domain.type = type;
	md->domain.ops = &mock_domain_ops;
	md->domain.pgsize_bitmap = pgsize_bitmap;
	md->shift = __ffs(pgsize_bitmap);
	xa_init(&md->table);
	spin_lock_init(&md->dma_lock);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mock_domain_cleanup,
							md), 0);
	return md;
}

static int create_window(struct mock_domain *md, dma_addr_t base, size_t size)
{
	return iommu_msi_cookie_create_window(&md->domain, base, size);
}

static int add_hw_region(struct mock_domain *md, phys_addr_t start,
			 size_t size)
{
	return iommu_msi_cookie_add_hw_region(&md->domain, start, size);
}

static int create_dma(struct mock_domain *md,
		      const struct iommu_msi_iova_ops *ops)
{
	return iommu_msi_cookie_create_dma(&md->domain, ops);
}

static struct mock_domain *mock_window_at(struct kunit *test, size_t granule,
					  dma_addr_t base,
					  unsigned long nr_slots)
{
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, granule);
	KUNIT_ASSERT_EQ(test, create_window(md, base, nr_slots * granule), 0);
	return md;
}

static struct mock_domain *mock_window(struct kunit *test, size_t granule,
				       unsigned long nr_slots)
{
	return mock_window_at(test, granule, MOCK_WIN_BASE, nr_slots);
}

static struct mock_domain *mock_dma(struct kunit *test, size_t granule)
{
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_DMA, granule);
	KUNIT_ASSERT_EQ(test, create_dma(md, &mock_dma_ops), 0);
	return md;
}

KUNIT_DEFINE_ACTION_WRAPPER(release_desc_action, iommu_msi_release,
			    struct msi_desc *);

static struct msi_desc *new_desc_for(struct kunit *test, struct device *dev)
{
	struct msi_desc *desc;

	desc = kunit_kzalloc(test, sizeof(*desc), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, desc);
	desc->dev = dev;
	/* A case that stops early must not leak the doorbell it holds. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							release_desc_action,
							desc), 0);
	return desc;
}

static struct msi_desc *new_desc(struct kunit *test)
{
	return new_desc_for(test, test->priv);
}

/*
 * Test devices sit behind a mock IOMMU: the core keeps their doorbell
 * bindings in dev->iommu, and asks the IOMMU for their software MSI window
 * when they are blocked. They have no iommu_group: each case plays the
 * part of the group mutex itself.
 */
struct mock_dev_iommu {
	struct dev_iommu	iommu;
	dma_addr_t		region_base;	/* the driver's SW_MSI region */
	size_t			region_size;	/* 0: no SW_MSI region */
};

static void mock_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct mock_dev_iommu *mdi =
		container_of(dev->iommu, struct mock_dev_iommu, iommu);
	struct iommu_resv_region *region;

	if (!mdi->region_size)
		return;
	region = iommu_alloc_resv_region(mdi->region_base, mdi->region_size,
					 IOMMU_WRITE | IOMMU_MMIO,
					 IOMMU_RESV_SW_MSI, GFP_KERNEL);
	if (region)
		list_add_tail(&region->list, head);
}

static const struct iommu_ops mock_iommu_ops = {
	.get_resv_regions	= mock_get_resv_regions,
};

static struct iommu_device mock_iommu = {
	.ops	= &mock_iommu_ops,
};

static void mock_dev_iommu_cleanup(void *data)
{
	struct device *dev = data;

	/* As dev_iommu_free() does: idle bindings go, live ones are a bug. */
	if (dev->iommu)
		iommu_msi_dev_drop_idle(dev);
	WARN_ON(dev->iommu && !hlist_empty(&dev->iommu->msi_bindings));
	dev->iommu = NULL;
}

/* The SW_MSI region of a test device: the mock window, 4 pages. */
static struct mock_dev_iommu *give_mock_iommu(struct kunit *test,
					      struct device *dev)
{
	struct mock_dev_iommu *mdi;

	mdi = kunit_kzalloc(test, sizeof(*mdi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdi);
	mdi->iommu.iommu_dev = &mock_iommu;
	mdi->region_base = MOCK_WIN_BASE;
	mdi->region_size = 4 * PAGE_SIZE;
	dev->iommu = &mdi->iommu;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mock_dev_iommu_cleanup,
							dev), 0);
	return mdi;
}

static struct device *new_dev(struct kunit *test, const char *name)
{
	struct device *dev = kunit_device_register(test, name);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	give_mock_iommu(test, dev);
	return dev;
}

static phys_addr_t mock_db_off(unsigned int i, unsigned long off)
{
	return MOCK_DB_BASE + (phys_addr_t)i * SZ_64K + off;
}

static phys_addr_t mock_db(unsigned int i)
{
	return mock_db_off(i, MOCK_DB_OFF);
}

static int mock_prepare_limit(struct mock_domain *md, struct msi_desc *desc,
			      phys_addr_t doorbell, u64 limit)
{
	return iommu_msi_domain_prepare(&md->domain, desc, doorbell, limit);
}

static int mock_prepare(struct mock_domain *md, struct msi_desc *desc,
			phys_addr_t doorbell)
{
	return mock_prepare_limit(md, desc, doorbell, U64_MAX);
}

/* The bit-fields cannot go through typeof() in the KUnit macros. */
static unsigned int desc_shift(const struct msi_desc *desc)
{
	return desc->iommu_msi_shift;
}

static u64 desc_iova(const struct msi_desc *desc)
{
	return (u64)desc->iommu_msi_iova << desc->iommu_msi_shift;
}

static struct msi_msg doorbell_msg(phys_addr_t doorbell)
{
	struct msi_msg msg = {
		.address_lo	= lower_32_bits(doorbell),
		.address_hi	= upper_32_bits(doorbell),
		.data		= MOCK_MSI_DATA,
	};

	return msg;
}

static u64 msg_addr(const struct msi_msg *msg)
{
	return (u64)msg->address_hi << 32 | msg->address_lo;
}

/* What an irqchip would write for @desc: the doorbell, then translated. */
static u64 compose_addr(const struct msi_desc *desc, phys_addr_t doorbell)
{
	struct msi_msg msg = doorbell_msg(doorbell);

	iommu_msi_compose(desc, &msg);
	return msg_addr(&msg);
}

/* The doorbell mapping an MSI uses in its device's domain, if any. */
static struct iommu_msi_doorbell *desc_db(const struct msi_desc *desc)
{
	struct iommu_msi_binding *b = desc->iommu_binding;

	if (!b)
		return NULL;
	return b->cur ? b->cur : b->home;
}

/* The users of @db: its bindings with MSIs, and switches' pins. */
static unsigned int db_users(struct iommu_msi_doorbell *db)
{
	unsigned int n;

	mutex_lock(&db->cookie->lock);
	n = iommu_msi_doorbell_users(db);
	mutex_unlock(&db->cookie->lock);
	return n;
}

/* The MSIs of @b, whether armed or not. */
static int binding_msis(struct iommu_msi_binding *b)
{
	return iommu_msi_binding_msis(iommu_msi_binding_users(b));
}

static void expect_untranslated(struct kunit *test,
				const struct msi_desc *desc)
{
	KUNIT_EXPECT_EQ(test, desc_shift(desc), 0);
	KUNIT_EXPECT_EQ(test, desc_iova(desc), 0);
	KUNIT_EXPECT_NULL(test, desc_db(desc));
}

static void expect_translated(struct kunit *test, struct mock_domain *md,
			      const struct msi_desc *desc, u64 iova)
{
	KUNIT_EXPECT_EQ(test, desc_shift(desc), md->shift);
	KUNIT_EXPECT_EQ(test, desc_iova(desc), iova);
	KUNIT_EXPECT_NOT_NULL(test, desc_db(desc));
}

static void expect_mapped(struct kunit *test, struct mock_domain *md,
			  u64 iova, phys_addr_t doorbell)
{
	KUNIT_EXPECT_EQ_MSG(test, mock_lookup(md, iova),
			    mock_page(md, doorbell), "at IOVA %#llx", iova);
}

/* Composing gives the doorbell's IOVA page plus its offset in the page. */
static void expect_composed(struct kunit *test, struct mock_domain *md,
			    const struct msi_desc *desc, phys_addr_t doorbell,
			    u64 iova)
{
	struct msi_msg msg = doorbell_msg(doorbell);

	iommu_msi_compose(desc, &msg);
	KUNIT_EXPECT_EQ(test, msg_addr(&msg),
			iova + mock_offset(md, doorbell));
	KUNIT_EXPECT_EQ(test, msg.data, MOCK_MSI_DATA);
}

static void expect_compose_untouched(struct kunit *test,
				     const struct msi_desc *desc,
				     phys_addr_t doorbell)
{
	struct msi_msg msg = doorbell_msg(doorbell);

	iommu_msi_compose(desc, &msg);
	KUNIT_EXPECT_EQ(test, msg.address_lo, lower_32_bits(doorbell));
	KUNIT_EXPECT_EQ(test, msg.address_hi, upper_32_bits(doorbell));
	KUNIT_EXPECT_EQ(test, msg.data, MOCK_MSI_DATA);
}

static const size_t granules[] = { SZ_4K, SZ_16K, SZ_64K };

static void granule_to_desc(const size_t *granule, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zuK granule", *granule / SZ_1K);
}

KUNIT_ARRAY_PARAM(granule, granules, granule_to_desc);

static size_t test_granule(struct kunit *test)
{
	return *(const size_t *)test->param_value;
}

static const int map_errors[] = { -EIO, -ENOMEM };

static void map_error_to_desc(const int *err, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "map fails with %d", *err);
}

KUNIT_ARRAY_PARAM(map_error, map_errors, map_error_to_desc);

static int test_error(struct kunit *test)
{
	return *(const int *)test->param_value;
}

/* The harness itself: a double map must be refused and counted. */
static void mock_rejects_double_map(struct kunit *test)
{
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	KUNIT_ASSERT_EQ(test, iommu_map(&md->domain, MOCK_WIN_BASE,
					MOCK_DB_BASE, SZ_4K, IOMMU_WRITE,
					GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, iommu_map(&md->domain, MOCK_WIN_BASE,
					MOCK_DB_BASE + SZ_4K, SZ_4K,
					IOMMU_WRITE, GFP_KERNEL), -EEXIST);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 1);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	expect_mapped(test, md, MOCK_WIN_BASE, MOCK_DB_BASE);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(&md->domain,
						 MOCK_WIN_BASE + 0x44),
			MOCK_DB_BASE + 0x44);

	KUNIT_EXPECT_EQ(test, iommu_unmap(&md->domain, MOCK_WIN_BASE, SZ_4K),
			SZ_4K);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
	KUNIT_EXPECT_GE(test, atomic_read(&md->syncs), 1);
	/* That double map was on purpose. */
	atomic_set(&md->bad_ops, 0);
}

static void window_first_doorbell_at_base(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 4);
	struct msi_desc *desc = new_desc(test);
	phys_addr_t db = mock_db(0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, db), 0);
	expect_translated(test, md, desc, MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	expect_mapped(test, md, MOCK_WIN_BASE, db);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(&md->domain, MOCK_WIN_BASE +
						 mock_offset(md, db)), db);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->syncs), 0);
	/* Devices only ever write a doorbell, and it is MMIO. */
	KUNIT_EXPECT_EQ(test, md->last_prot,
			IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO);
}

static void window_second_doorbell_next_slot(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(1)), 0);
	expect_translated(test, md, a, MOCK_WIN_BASE);
	expect_translated(test, md, b, MOCK_WIN_BASE + granule);
	KUNIT_EXPECT_PTR_NE(test, desc_db(a), desc_db(b));
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	expect_mapped(test, md, MOCK_WIN_BASE + granule, mock_db(1));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
}

static void window_reuses_first_free_slot(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc[4];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		desc[i] = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(md, desc[i], mock_db(i)), 0);
		expect_translated(test, md, desc[i], MOCK_WIN_BASE + i * SZ_4K);
	}
	iommu_msi_release(desc[1]);
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
	KUNIT_EXPECT_EQ(test, mock_lookup(md, MOCK_WIN_BASE + SZ_4K),
			MOCK_UNMAPPED);

	desc[3] = new_desc(test);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc[3], mock_db(3)), 0);
	expect_translated(test, md, desc[3], MOCK_WIN_BASE + SZ_4K);
	KUNIT_EXPECT_EQ(test, mock_count(md), 3);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	expect_mapped(test, md, MOCK_WIN_BASE + SZ_4K, mock_db(3));
	expect_mapped(test, md, MOCK_WIN_BASE + 2 * SZ_4K, mock_db(2));
}

/* IOVA 0 is a valid window slot: the shift, not the IOVA, flags a mapping. */
static void window_at_iova_zero(struct kunit *test)
{
	struct mock_domain *md = mock_window_at(test, SZ_4K, 0, 2);
	struct msi_desc *desc = new_desc(test);
	phys_addr_t db = mock_db(0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, db), 0);
	expect_translated(test, md, desc, 0);
	expect_mapped(test, md, 0, db);
	expect_composed(test, md, desc, db, 0);
}

/*
 * With several page sizes, the doorbell granule is the smallest one (but
 * no smaller than PAGE_SIZE), as the domain has them at the first map.
 */
static void granule_from_page_sizes(struct kunit *test)
{
	struct mock_domain *md;
	struct msi_desc *desc = new_desc(test);
	dma_addr_t base = MOCK_WIN_BASE + SZ_64K;
	phys_addr_t db = mock_db_off(0, 0xf04);

	/* 4K, 2M and 1G pages, as an Arm LPAE table with a 4K granule. */
	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED,
			     BIT(12) | BIT(21) | BIT(30));
	KUNIT_ASSERT_EQ(test, create_window(md, base, 8 * SZ_64K), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, db), 0);
	KUNIT_EXPECT_EQ(test, desc_shift(desc), max(12, PAGE_SHIFT));
}

/*
 * Some drivers (arm-smmu) narrow pgsize_bitmap only when they attach the
 * domain, after its owner made the cookie: the first doorbell takes the
 * granule the domain has by then.
 */
static void granule_narrowed_after_cookie(struct kunit *test)
{
	struct mock_domain *md;
	struct msi_desc *desc = new_desc(test);
	dma_addr_t base = MOCK_WIN_BASE;
	phys_addr_t db = mock_db_off(0, 0xf04);

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED,
			     BIT(12) | BIT(16) | BIT(21) | BIT(29));
	KUNIT_ASSERT_EQ(test, create_window(md, base, 16 * SZ_64K), 0);
	/* Attach finalises it with a 64K granule. */
	md->domain.pgsize_bitmap = BIT(16) | BIT(29);
	md->shift = 16;
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, db), 0);
	KUNIT_EXPECT_EQ(test, desc_shift(desc), 16);
	expect_translated(test, md, desc, base);
	expect_mapped(test, md, base, db);
	expect_composed(test, md, desc, db, base);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
}

/* A granule that changes under live doorbells is refused cleanly. */
static void granule_change_under_doorbells_refused(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 16);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	md->domain.pgsize_bitmap = SZ_64K;
	KUNIT_EXPECT_EQ(test, mock_prepare(md, b, mock_db(1)), -EINVAL);
	expect_untranslated(test, b);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	md->domain.pgsize_bitmap = SZ_4K;
}

/* A window the finalised granule does not divide: refused cleanly. */
static void granule_window_misfit_refused(struct kunit *test)
{
	struct mock_domain *md;
	struct msi_desc *desc = new_desc(test);

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED,
			     BIT(12) | BIT(16));
	KUNIT_ASSERT_EQ(test, create_window(md, MOCK_WIN_BASE + SZ_4K,
					    16 * SZ_4K), 0);
	md->domain.pgsize_bitmap = SZ_64K;
	md->shift = 16;
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc, mock_db(0)), -EINVAL);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);
}

/* A doorbell is only written: no read, no instruction fetch. */
static void map_prot_write_noexec_mmio(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, new_desc(test), mock_db(0)), 0);
	KUNIT_EXPECT_EQ(test, md->last_prot,
			IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO);
}

/*
 * iommu_msi_translated() tells an irqchip with two views of its doorbell
 * (fsl_msi: CPU and PCI) which one to compose.
 */
static void translated_follows_prepare(struct kunit *test)
{
	struct mock_domain *win = mock_window(test, SZ_4K, 4);
	struct mock_domain *ident = mock_domain_new(test, IOMMU_DOMAIN_IDENTITY,
						    SZ_4K);
	struct msi_desc *desc = new_desc(test);

	KUNIT_EXPECT_FALSE(test, iommu_msi_translated(desc));
	KUNIT_ASSERT_EQ(test, mock_prepare(win, desc, mock_db(0)), 0);
	KUNIT_EXPECT_TRUE(test, iommu_msi_translated(desc));
	KUNIT_ASSERT_EQ(test, mock_prepare(ident, desc, mock_db(0)), 0);
	KUNIT_EXPECT_FALSE(test, iommu_msi_translated(desc));
	KUNIT_ASSERT_EQ(test, mock_prepare(win, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	KUNIT_EXPECT_FALSE(test, iommu_msi_translated(desc));
}

/* A PCI function that can only do 32-bit MSIs gets a 32-bit limit. */
static void addr_limit_no_64bit_msi(struct kunit *test)
{
	struct pci_dev *pdev = kunit_kzalloc(test, sizeof(*pdev), GFP_KERNEL);
	struct msi_desc desc = {};

	KUNIT_ASSERT_NOT_NULL(test, pdev);
	pdev->dev.bus = &pci_bus_type;
	desc.dev = &pdev->dev;
	desc.pci.msi_attrib.is_msix = 1;
	KUNIT_EXPECT_EQ(test, iommu_msi_addr_limit(&desc), U64_MAX);
	pdev->no_64bit_msi = 1;
	KUNIT_EXPECT_EQ(test, iommu_msi_addr_limit(&desc), U32_MAX);
	pdev->no_64bit_msi = 0;
	desc.pci.msi_attrib.is_msix = 0;
	KUNIT_EXPECT_EQ(test, iommu_msi_addr_limit(&desc), U32_MAX);
	desc.pci.msi_attrib.is_64 = 1;
	KUNIT_EXPECT_EQ(test, iommu_msi_addr_limit(&desc), U64_MAX);
	/* Not PCI: no limit. */
	KUNIT_EXPECT_EQ(test, iommu_msi_addr_limit(new_desc(test)), U64_MAX);
}

static void same_doorbell_shares_mapping(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 4);
	struct msi_desc *desc[3];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		desc[i] = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(md, desc[i], mock_db(0)), 0);
		expect_translated(test, md, desc[i], MOCK_WIN_BASE);
		KUNIT_EXPECT_PTR_EQ(test, desc_db(desc[i]),
				    desc_db(desc[0]));
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));

	/* Three users: the mapping goes with the third release, not before. */
	iommu_msi_release(desc[1]);
	iommu_msi_release(desc[0]);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);
	expect_composed(test, md, desc[2], mock_db(0), MOCK_WIN_BASE);
	iommu_msi_release(desc[2]);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
}

static void same_page_offsets_share(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	phys_addr_t db_a = mock_db_off(0, 0x40);
	phys_addr_t db_b = mock_db_off(0, granule - 0x3c);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, db_a), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, db_b), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	KUNIT_EXPECT_PTR_EQ(test, desc_db(a), desc_db(b));
	expect_mapped(test, md, MOCK_WIN_BASE, db_a);
	expect_composed(test, md, a, db_a, MOCK_WIN_BASE);
	expect_composed(test, md, b, db_b, MOCK_WIN_BASE);

	iommu_msi_release(a);
	expect_mapped(test, md, MOCK_WIN_BASE, db_b);
	iommu_msi_release(b);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
}

static void shared_across_devices(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct device *dev_b = new_dev(test, "iommu-msi-test-b");
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc_for(test, dev_b);
	struct msi_desc *b2 = new_desc_for(test, dev_b);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(0)), 0);
	expect_translated(test, md, a, MOCK_WIN_BASE);
	expect_translated(test, md, b, MOCK_WIN_BASE);
	KUNIT_EXPECT_PTR_EQ(test, desc_db(a), desc_db(b));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);

	/* Slots belong to the domain, not to a device. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b2, mock_db(1)), 0);
	expect_translated(test, md, b2, MOCK_WIN_BASE + SZ_4K);

	iommu_msi_release(a);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	expect_composed(test, md, b, mock_db(0), MOCK_WIN_BASE);
	iommu_msi_release(b);
	KUNIT_EXPECT_EQ(test, mock_lookup(md, MOCK_WIN_BASE), MOCK_UNMAPPED);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
}

static void compose_keeps_offset(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	/* The highest word of the page: every offset bit is kept. */
	phys_addr_t db_a = mock_db_off(0, granule - 4);
	phys_addr_t db_b = mock_db_off(1, 0x44);
	struct msi_msg msg;

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, db_a), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, db_b), 0);

	msg = doorbell_msg(db_a);
	iommu_msi_compose(a, &msg);
	KUNIT_EXPECT_EQ(test, msg.address_lo,
			lower_32_bits(MOCK_WIN_BASE + granule - 4));
	KUNIT_EXPECT_EQ(test, msg.address_hi, 0);
	KUNIT_EXPECT_EQ(test, msg.data, MOCK_MSI_DATA);

	msg = doorbell_msg(db_b);
	iommu_msi_compose(b, &msg);
	KUNIT_EXPECT_EQ(test, msg.address_lo,
			lower_32_bits(MOCK_WIN_BASE + granule + 0x44));
	KUNIT_EXPECT_EQ(test, msg.address_hi, 0);
	KUNIT_EXPECT_EQ(test, msg.data, MOCK_MSI_DATA);
}

static void compose_high_doorbell_low_iova(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 4);
	struct msi_desc *desc = new_desc(test);
	phys_addr_t db = MOCK_DB_HIGH + granule - 0x3c;
	struct msi_msg msg = doorbell_msg(db);

	KUNIT_ASSERT_NE(test, msg.address_hi, 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, db), 0);
	expect_translated(test, md, desc, MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, mock_lookup(md, MOCK_WIN_BASE), MOCK_DB_HIGH);

	iommu_msi_compose(desc, &msg);
	KUNIT_EXPECT_EQ(test, msg.address_hi, 0);
	KUNIT_EXPECT_EQ(test, msg.address_lo,
			lower_32_bits(MOCK_WIN_BASE + granule - 0x3c));
	KUNIT_EXPECT_EQ(test, msg.data, MOCK_MSI_DATA);
}

static void compose_high_iova(struct kunit *test)
{
	size_t granule = test_granule(test);
	dma_addr_t base = MOCK_WIN_HIGH;
	struct mock_domain *md = mock_window_at(test, granule, base, 4);
	struct msi_desc *desc = new_desc(test);
	phys_addr_t db = mock_db(2);
	struct msi_msg msg = doorbell_msg(db);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, db), 0);
	expect_translated(test, md, desc, MOCK_WIN_HIGH);
	expect_mapped(test, md, MOCK_WIN_HIGH, db);

	iommu_msi_compose(desc, &msg);
	KUNIT_EXPECT_EQ(test, msg.address_hi, upper_32_bits(MOCK_WIN_HIGH));
	KUNIT_EXPECT_EQ(test, msg.address_lo,
			lower_32_bits(MOCK_WIN_HIGH) + MOCK_DB_OFF);
}

static DEFINE_RAW_SPINLOCK(compose_test_lock);

/* Irqchips compose under raw spinlocks: no sleeping, no mutex (lockdep). */
static void compose_under_raw_spinlock(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *mapped = new_desc(test);
	struct msi_desc *plain = new_desc(test);
	phys_addr_t db = mock_db(1);
	struct msi_msg m1 = doorbell_msg(db);
	struct msi_msg m2 = doorbell_msg(db);
	unsigned long flags;

	KUNIT_ASSERT_EQ(test, mock_prepare(md, mapped, db), 0);
	KUNIT_ASSERT_EQ(test, iommu_msi_domain_prepare(NULL, plain, db,
						       U64_MAX), 0);

	raw_spin_lock_irqsave(&compose_test_lock, flags);
	iommu_msi_compose(mapped, &m1);
	iommu_msi_compose(plain, &m2);
	raw_spin_unlock_irqrestore(&compose_test_lock, flags);

	KUNIT_EXPECT_EQ(test, msg_addr(&m1), MOCK_WIN_BASE + MOCK_DB_OFF);
	KUNIT_EXPECT_EQ(test, m1.data, MOCK_MSI_DATA);
	KUNIT_EXPECT_EQ(test, msg_addr(&m2), db);
}

static void last_release_unmaps(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	struct msi_desc *c = new_desc(test);
	int syncs;

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(0)), 0);
	syncs = atomic_read(&md->syncs);

	iommu_msi_release(a);
	expect_untranslated(test, a);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->syncs), syncs);

	iommu_msi_release(b);
	expect_untranslated(test, b);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
	/* The IOTLB must be clean before the IOVA can be handed out again. */
	KUNIT_EXPECT_EQ(test, atomic_read(&md->syncs), syncs + 1);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(3)), 0);
	expect_translated(test, md, c, MOCK_WIN_BASE);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(3));
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
}

static void window_exhaustion(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, 2);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	struct msi_desc *c = new_desc(test);
	struct msi_desc *a2 = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(1)), 0);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, c, mock_db(2)), -ENOSPC);
	expect_untranslated(test, c);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	expect_mapped(test, md, MOCK_WIN_BASE + granule, mock_db(1));

	/* A full window still shares what it already maps. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, a2, mock_db(0)), 0);
	expect_translated(test, md, a2, MOCK_WIN_BASE);

	iommu_msi_release(a);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, c, mock_db(2)), -ENOSPC);
	iommu_msi_release(a2);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(2)), 0);
	expect_translated(test, md, c, MOCK_WIN_BASE);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(2));
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
}

static void dma_cookie_maps_allocated_iova(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_dma(test, granule);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	struct msi_desc *c = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	expect_translated(test, md, a, MOCK_DMA_BASE);
	KUNIT_EXPECT_EQ(test, md->dma_last_limit, U64_MAX);
	KUNIT_EXPECT_PTR_EQ(test, md->dma_last_dev, a->dev);

	/* The device's limit reaches the allocator. */
	KUNIT_ASSERT_EQ(test, mock_prepare_limit(md, b, mock_db(1), U32_MAX),
			0);
	expect_translated(test, md, b, MOCK_DMA_BASE + granule);
	KUNIT_EXPECT_EQ(test, md->dma_last_limit, U32_MAX);

	/* Sharing does not allocate. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(0)), 0);
	expect_translated(test, md, c, MOCK_DMA_BASE);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_allocs), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 2);
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
	expect_mapped(test, md, MOCK_DMA_BASE, mock_db(0));
	expect_mapped(test, md, MOCK_DMA_BASE + granule, mock_db(1));
	expect_composed(test, md, b, mock_db(1), MOCK_DMA_BASE + granule);

	iommu_msi_release(a);
	iommu_msi_release(b);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_frees), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 1);
	iommu_msi_release(c);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_frees), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
}

static void dma_alloc_failure(struct kunit *test)
{
	struct mock_domain *md = mock_dma(test, SZ_4K);
	struct msi_desc *desc = new_desc(test);

	md->dma_fail = true;
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc, mock_db(0)), -ENOSPC);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_allocs), 1);
	/* Nothing was allocated, so nothing may be freed. */
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_frees), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);

	md->dma_fail = false;
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	expect_translated(test, md, desc, MOCK_DMA_BASE);
	expect_mapped(test, md, MOCK_DMA_BASE, mock_db(0));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 1);
}

/* An allocator that ignores the limit must not get a device a bad IOVA. */
static void dma_iova_above_limit(struct kunit *test)
{
	struct mock_domain *md = mock_dma(test, SZ_4K);
	struct msi_desc *desc = new_desc(test);

	md->dma_ignore_limit = true;
	KUNIT_EXPECT_EQ(test, mock_prepare_limit(md, desc, mock_db(0),
						 MOCK_DMA_BASE + SZ_2K),
			-ERANGE);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_allocs), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_frees), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
}

static void create_window_misaligned_base(struct kunit *test)
{
	size_t granule = test_granule(test);
	dma_addr_t base = MOCK_WIN_BASE;
	struct mock_domain *md;
	size_t size;

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, granule);
	size = 4 * granule;
	KUNIT_EXPECT_EQ(test, create_window(md, base + granule / 2, size),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, create_window(md, base + 4, size), -EINVAL);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
	/* Nothing half made is left in the way. */
	KUNIT_EXPECT_EQ(test, create_window(md, base, size), 0);
}

static void create_window_misaligned_size(struct kunit *test)
{
	size_t granule = test_granule(test);
	dma_addr_t base = MOCK_WIN_BASE;
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, granule);
	KUNIT_EXPECT_EQ(test, create_window(md, base, granule + granule / 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, create_window(md, base, granule / 2), -EINVAL);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, create_window(md, base, granule), 0);
}

static void create_window_zero_size(struct kunit *test)
{
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	KUNIT_EXPECT_EQ(test, create_window(md, MOCK_WIN_BASE, 0), -EINVAL);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
}

static void create_window_wraps(struct kunit *test)
{
	struct mock_domain *md;
	struct msi_desc *desc;
	dma_addr_t top = (dma_addr_t)0 - SZ_64K;
	size_t huge = SIZE_MAX & ~(size_t)(SZ_4K - 1);
	phys_addr_t db = mock_db(0);

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	KUNIT_EXPECT_EQ(test, create_window(md, top, 2 * SZ_64K), -EINVAL);
	KUNIT_EXPECT_EQ(test, create_window(md, MOCK_WIN_BASE, huge), -EINVAL);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);

	/* Ending on the last IOVA is not a wrap. */
	KUNIT_ASSERT_EQ(test, create_window(md, top, SZ_64K), 0);
	desc = new_desc(test);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, db), 0);
	expect_translated(test, md, desc, top);
	expect_mapped(test, md, top, db);
	expect_composed(test, md, desc, db, top);
}

/*
 * More slots than bitmap_zalloc() can count: must be refused, not made
 * into a cookie whose slot bitmap is shorter than its window.
 */
static void create_window_too_many_slots(struct kunit *test)
{
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	KUNIT_EXPECT_LT(test, create_window(md, 0, BIT_ULL(48)), 0);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
}

static void second_cookie_eexist(struct kunit *test)
{
	struct mock_domain *win = mock_window(test, SZ_4K, 4);
	struct mock_domain *dma = mock_dma(test, SZ_4K);
	struct iommu_msi_cookie *win_cookie = win->domain.msi_cookie;
	struct iommu_msi_cookie *dma_cookie = dma->domain.msi_cookie;
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);

	KUNIT_ASSERT_NOT_NULL(test, win_cookie);
	KUNIT_ASSERT_NOT_NULL(test, dma_cookie);
	KUNIT_EXPECT_EQ(test, create_window(win, MOCK_WIN_HIGH, SZ_64K),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, create_dma(win, &mock_dma_ops), -EEXIST);
	KUNIT_EXPECT_EQ(test, create_window(dma, MOCK_WIN_BASE, SZ_64K),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, create_dma(dma, &mock_dma_ops), -EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, win->domain.msi_cookie, win_cookie);
	KUNIT_EXPECT_PTR_EQ(test, dma->domain.msi_cookie, dma_cookie);

	/* The first cookies still decide where doorbells go. */
	KUNIT_ASSERT_EQ(test, mock_prepare(win, a, mock_db(0)), 0);
	expect_translated(test, win, a, MOCK_WIN_BASE);
	KUNIT_ASSERT_EQ(test, mock_prepare(dma, b, mock_db(0)), 0);
	expect_translated(test, dma, b, MOCK_DMA_BASE);
}

static void create_on_non_paging_domain(struct kunit *test)
{
	struct mock_domain *ident, *blocked, *nopgsize;
	dma_addr_t base = MOCK_WIN_BASE;

	ident = mock_domain_new(test, IOMMU_DOMAIN_IDENTITY, SZ_4K);
	blocked = mock_domain_new(test, IOMMU_DOMAIN_BLOCKED, SZ_4K);
	nopgsize = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	nopgsize->domain.pgsize_bitmap = 0;

	KUNIT_EXPECT_EQ(test, create_window(ident, base, SZ_64K), -EINVAL);
	KUNIT_EXPECT_EQ(test, create_dma(ident, &mock_dma_ops), -EINVAL);
	KUNIT_EXPECT_EQ(test, create_window(blocked, base, SZ_64K), -EINVAL);
	KUNIT_EXPECT_EQ(test, create_window(nopgsize, base, SZ_64K), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_msi_cookie_create_window(NULL, base,
							     SZ_64K),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_msi_cookie_create_dma(NULL, &mock_dma_ops),
			-EINVAL);
	KUNIT_EXPECT_NULL(test, ident->domain.msi_cookie);
	KUNIT_EXPECT_NULL(test, blocked->domain.msi_cookie);
	KUNIT_EXPECT_NULL(test, nopgsize->domain.msi_cookie);
}

static void create_dma_bad_ops(struct kunit *test)
{
	static const struct iommu_msi_iova_ops no_free = {
		.alloc	= mock_dma_alloc,
	};
	static const struct iommu_msi_iova_ops no_alloc = {
		.free	= mock_dma_free,
	};
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_DMA, SZ_4K);
	KUNIT_EXPECT_EQ(test, create_dma(md, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, create_dma(md, &no_free), -EINVAL);
	KUNIT_EXPECT_EQ(test, create_dma(md, &no_alloc), -EINVAL);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, create_dma(md, &mock_dma_ops), 0);
}

static void add_hw_region_bad_input(struct kunit *test)
{
	struct mock_domain *plain, *ident, *md;
	phys_addr_t start = MOCK_DB_BASE;
	phys_addr_t top = PHYS_ADDR_MAX - (SZ_4K - 1);

	plain = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	ident = mock_domain_new(test, IOMMU_DOMAIN_IDENTITY, SZ_4K);
	md = mock_window(test, SZ_4K, 4);

	KUNIT_EXPECT_EQ(test, add_hw_region(plain, start, SZ_1M), -EINVAL);
	KUNIT_EXPECT_EQ(test, add_hw_region(ident, start, SZ_1M), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_msi_cookie_add_hw_region(NULL, start,
							     SZ_1M),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, add_hw_region(md, start, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, add_hw_region(md, top, SZ_8K), -EINVAL);
	KUNIT_EXPECT_NULL(test, plain->domain.msi_cookie);
	/* Ending on the last address is not a wrap. */
	KUNIT_EXPECT_EQ(test, add_hw_region(md, top, SZ_4K), 0);
}

static void erange_window_above_4g(struct kunit *test)
{
	struct mock_domain *md = mock_window_at(test, SZ_4K, MOCK_WIN_HIGH, 2);
	struct msi_desc *dev32 = new_desc(test);
	struct msi_desc *dev64 = new_desc(test);

	KUNIT_EXPECT_EQ(test, mock_prepare_limit(md, dev32, mock_db(0),
						 U32_MAX), -ERANGE);
	expect_untranslated(test, dev32);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);

	/* The slot was given back: a 64-bit device gets the window base. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, dev64, mock_db(1)), 0);
	expect_translated(test, md, dev64, MOCK_WIN_HIGH);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
}

/* The whole granule must be below the limit, not just its first byte. */
static void erange_window_straddles_4g(struct kunit *test)
{
	size_t granule = test_granule(test);
	dma_addr_t base = SZ_4G - granule;
	struct mock_domain *md = mock_window_at(test, granule, base, 2);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	struct msi_desc *c = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare_limit(md, a, mock_db(0), U32_MAX),
			0);
	expect_translated(test, md, a, base);
	KUNIT_EXPECT_EQ(test, mock_prepare_limit(md, b, mock_db(1), U32_MAX),
			-ERANGE);
	expect_untranslated(test, b);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(1)), 0);
	expect_translated(test, md, c, SZ_4G);
	expect_mapped(test, md, SZ_4G, mock_db(1));
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
}

static void erange_untranslated_high_doorbell(struct kunit *test)
{
	struct mock_domain *plain, *md;
	struct msi_desc *desc = new_desc(test);
	phys_addr_t low = U32_MAX - 3;

	plain = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	md = mock_window(test, SZ_4K, 4);
	KUNIT_ASSERT_EQ(test, add_hw_region(md, MOCK_DB_HIGH, SZ_1M), 0);

	KUNIT_EXPECT_EQ(test, mock_prepare_limit(plain, desc, MOCK_DB_HIGH,
						 U32_MAX), -ERANGE);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, iommu_msi_domain_prepare(NULL, desc, MOCK_DB_HIGH,
						       U32_MAX), -ERANGE);
	expect_untranslated(test, desc);
	/* A hardware MSI region is used as is, so it must be reachable. */
	KUNIT_EXPECT_EQ(test, mock_prepare_limit(md, desc, MOCK_DB_HIGH + 0x40,
						 U32_MAX), -ERANGE);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, mock_prepare_limit(plain, desc, low, U32_MAX), 0);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&plain->maps), 0);
}

static void erange_shared_doorbell(struct kunit *test)
{
	struct mock_domain *md = mock_window_at(test, SZ_4K, MOCK_WIN_HIGH, 4);
	struct msi_desc *dev64 = new_desc(test);
	struct msi_desc *dev32 = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, dev64, mock_db(0)), 0);
	expect_translated(test, md, dev64, MOCK_WIN_HIGH);
	KUNIT_EXPECT_EQ(test, mock_prepare_limit(md, dev32, mock_db(0),
						 U32_MAX), -ERANGE);
	expect_untranslated(test, dev32);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);

	/* The failed user was not counted: one release unmaps. */
	iommu_msi_release(dev32);
	expect_mapped(test, md, MOCK_WIN_HIGH, mock_db(0));
	iommu_msi_release(dev64);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
}

static void map_failure_window(struct kunit *test)
{
	int err = test_error(test);
	struct mock_domain *md = mock_window(test, SZ_4K, 2);
	struct msi_desc *desc = new_desc(test);

	mock_fail_next_map(md, err);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc, mock_db(0)), err);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);

	/* The slot came back: the retry maps at the window base. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	expect_translated(test, md, desc, MOCK_WIN_BASE);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);

	/* No user was counted for the failure: one release unmaps. */
	iommu_msi_release(desc);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
}

static void map_failure_keeps_earlier(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	struct msi_desc *c = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	mock_fail_next_map(md, -EIO);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, b, mock_db(1)), -EIO);
	expect_untranslated(test, b);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	expect_composed(test, md, a, mock_db(0), MOCK_WIN_BASE);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(1)), 0);
	expect_translated(test, md, c, MOCK_WIN_BASE + SZ_4K);
	expect_mapped(test, md, MOCK_WIN_BASE + SZ_4K, mock_db(1));
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
}

static void map_failure_dma(struct kunit *test)
{
	int err = test_error(test);
	struct mock_domain *md = mock_dma(test, SZ_4K);
	struct msi_desc *desc = new_desc(test);

	mock_fail_next_map(md, err);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc, mock_db(0)), err);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_allocs), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_frees), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	expect_translated(test, md, desc, MOCK_DMA_BASE);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 1);
}

static void bypass_identity_domain(struct kunit *test)
{
	struct mock_domain *md;
	struct msi_desc *desc = new_desc(test);

	md = mock_domain_new(test, IOMMU_DOMAIN_IDENTITY, SZ_4K);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	expect_untranslated(test, desc);
	expect_compose_untouched(test, desc, mock_db(0));
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc, MOCK_DB_HIGH), 0);
	expect_untranslated(test, desc);
	expect_compose_untouched(test, desc, MOCK_DB_HIGH);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
}

static void bypass_null_domain(struct kunit *test)
{
	struct msi_desc *desc = new_desc(test);

	KUNIT_EXPECT_EQ(test, iommu_msi_domain_prepare(NULL, desc, mock_db(0),
						       U64_MAX), 0);
	expect_untranslated(test, desc);
	expect_compose_untouched(test, desc, mock_db(0));
	iommu_msi_release(desc);
	expect_untranslated(test, desc);
}

static void bypass_no_cookie(struct kunit *test)
{
	struct mock_domain *unmanaged, *dma;
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);

	unmanaged = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	dma = mock_domain_new(test, IOMMU_DOMAIN_DMA, SZ_4K);
	KUNIT_EXPECT_EQ(test, mock_prepare(unmanaged, a, mock_db(0)), 0);
	KUNIT_EXPECT_EQ(test, mock_prepare(dma, b, MOCK_DB_HIGH), 0);
	expect_untranslated(test, a);
	expect_untranslated(test, b);
	expect_compose_untouched(test, a, mock_db(0));
	expect_compose_untouched(test, b, MOCK_DB_HIGH);
	KUNIT_EXPECT_EQ(test, atomic_read(&unmanaged->maps), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&dma->maps), 0);
}

/* The public entry point on a device that no IOMMU translates. */
static void bypass_no_iommu_group(struct kunit *test)
{
	struct msi_desc *desc = new_desc(test);

	KUNIT_ASSERT_NULL(test, iommu_get_domain_for_dev(desc->dev));
	KUNIT_EXPECT_EQ(test, iommu_msi_prepare(desc, MOCK_DB_HIGH), 0);
	expect_untranslated(test, desc);
	expect_compose_untouched(test, desc, MOCK_DB_HIGH);
	iommu_msi_release(desc);
	expect_untranslated(test, desc);
}

static void hw_region_bypass(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	phys_addr_t start = MOCK_DB_BASE, last = MOCK_DB_BASE + SZ_1M - 1;
	struct msi_desc *first = new_desc(test);
	struct msi_desc *end = new_desc(test);
	struct msi_desc *above = new_desc(test);
	struct msi_desc *below = new_desc(test);

	KUNIT_ASSERT_EQ(test, add_hw_region(md, start, SZ_1M), 0);

	KUNIT_EXPECT_EQ(test, mock_prepare(md, first, start), 0);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, end, last - 3), 0);
	expect_untranslated(test, first);
	expect_untranslated(test, end);
	expect_compose_untouched(test, first, start);
	expect_compose_untouched(test, end, last - 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, above, last + 1), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, below, start - 4), 0);
	expect_translated(test, md, above, MOCK_WIN_BASE);
	expect_translated(test, md, below, MOCK_WIN_BASE + SZ_4K);
	expect_mapped(test, md, MOCK_WIN_BASE, last + 1);
	expect_mapped(test, md, MOCK_WIN_BASE + SZ_4K, start - 4);
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
}

static void hw_region_added_twice(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *in = new_desc(test);
	struct msi_desc *out = new_desc(test);

	KUNIT_EXPECT_EQ(test, add_hw_region(md, MOCK_DB_BASE, SZ_1M), 0);
	KUNIT_EXPECT_EQ(test, add_hw_region(md, MOCK_DB_BASE, SZ_1M), 0);
	KUNIT_EXPECT_EQ(test, add_hw_region(md, MOCK_DB_BASE + SZ_64K, SZ_2M),
			0);

	KUNIT_EXPECT_EQ(test, mock_prepare(md, in, mock_db(20)), 0);
	expect_untranslated(test, in);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, out, mock_db(48)), 0);
	expect_translated(test, md, out, MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
}

static void reprepare_releases_old(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(1)), 0);
	/* The new doorbell was mapped while the old one still held slot 0. */
	expect_translated(test, md, desc, MOCK_WIN_BASE + SZ_4K);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	expect_mapped(test, md, MOCK_WIN_BASE + SZ_4K, mock_db(1));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);

	iommu_msi_release(desc);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 2);
}

static void reprepare_same_doorbell(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	unsigned int i;

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(0)), 0);
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	expect_translated(test, md, a, MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);

	/* Still exactly two users. */
	iommu_msi_release(a);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	iommu_msi_release(b);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
}

static void reprepare_failure_drops_old(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	mock_fail_next_map(md, -EIO);
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc, mock_db(1)), -EIO);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
}

static void reprepare_to_hw_region(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);

	KUNIT_ASSERT_EQ(test, add_hw_region(md, MOCK_DB_HIGH, SZ_64K), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, MOCK_DB_HIGH + 0x40), 0);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
}

static void release_never_prepared(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);

	iommu_msi_release(desc);
	iommu_msi_release(desc);
	expect_untranslated(test, desc);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->syncs), 0);
}

static void release_twice(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(0)), 0);

	/* A second release must not take b's user away. */
	iommu_msi_release(a);
	iommu_msi_release(a);
	expect_untranslated(test, a);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	expect_composed(test, md, b, mock_db(0), MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);

	iommu_msi_release(b);
	iommu_msi_release(b);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
}

static void destroy_window_live(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc[3];
	int unmaps, syncs;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		desc[i] = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(md, desc[i], mock_db(i / 2)),
				0);
	}
	KUNIT_ASSERT_EQ(test, mock_count(md), 2);

	iommu_msi_cookie_destroy(&md->domain);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 2);
	unmaps = atomic_read(&md->unmaps);
	syncs = atomic_read(&md->syncs);

	/* The domain is gone: releases only drop bookkeeping. */
	for (i = 0; i < 3; i++) {
		iommu_msi_release(desc[i]);
		expect_untranslated(test, desc[i]);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), unmaps);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->syncs), syncs);

	/* Without a cookie the domain no longer translates doorbells. */
	KUNIT_EXPECT_EQ(test, mock_prepare(md, desc[0], mock_db(0)), 0);
	expect_untranslated(test, desc[0]);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
}

static void destroy_dma_live(struct kunit *test)
{
	struct mock_domain *md = mock_dma(test, SZ_4K);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	struct msi_desc *c = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(1)), 0);
	KUNIT_ASSERT_EQ(test, atomic_read(&md->dma_live), 2);

	iommu_msi_cookie_destroy(&md->domain);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_live), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_frees), 2);

	/* IOVAs went back at destroy, not again at release. */
	iommu_msi_release(a);
	iommu_msi_release(b);
	iommu_msi_release(c);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_frees), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 2);
}

static void destroy_without_cookie(struct kunit *test)
{
	struct mock_domain *md;

	md = mock_domain_new(test, IOMMU_DOMAIN_UNMANAGED, SZ_4K);
	iommu_msi_cookie_destroy(&md->domain);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);

	KUNIT_ASSERT_EQ(test, create_window(md, MOCK_WIN_BASE, SZ_64K), 0);
	iommu_msi_cookie_destroy(&md->domain);
	iommu_msi_cookie_destroy(&md->domain);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);
}

/* A descriptor of the old cookie must not touch the new one. */
static void destroy_then_recreate(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *old = new_desc(test);
	struct msi_desc *cur = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, old, mock_db(0)), 0);
	iommu_msi_cookie_destroy(&md->domain);
	KUNIT_ASSERT_EQ(test, create_window(md, MOCK_WIN_HIGH, 4 * SZ_4K), 0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, cur, mock_db(0)), 0);
	expect_translated(test, md, cur, MOCK_WIN_HIGH);
	KUNIT_EXPECT_PTR_NE(test, desc_db(cur), desc_db(old));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);

	iommu_msi_release(old);
	expect_mapped(test, md, MOCK_WIN_HIGH, mock_db(0));
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
	expect_composed(test, md, cur, mock_db(0), MOCK_WIN_HIGH);

	iommu_msi_release(cur);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 2);
}

/*
 * An unmap that fails leaves the doorbell reachable at its IOVA: it stays
 * mapped and listed, never serves another doorbell, and its next user
 * takes it over.
 */
static void release_unmap_failure_keeps_mapping(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);
	struct msi_desc *c = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	md->fail_unmap = true;
	iommu_msi_release(a);
	expect_untranslated(test, a);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));

	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(1)), 0);
	expect_translated(test, md, b, MOCK_WIN_BASE + SZ_4K);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(0)), 0);
	expect_translated(test, md, c, MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);

	/* Now it goes for real. */
	iommu_msi_release(c);
	KUNIT_EXPECT_EQ(test, mock_lookup(md, MOCK_WIN_BASE), MOCK_UNMAPPED);
}

/* Re-prepare maps the new doorbell before it unmaps the old one. */
static void reprepare_maps_new_first(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(1)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
	KUNIT_EXPECT_LT(test, md->last_map_seq, md->last_unmap_seq);
	expect_translated(test, md, desc, MOCK_WIN_BASE + SZ_4K);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
}

#define MANY_DOORBELLS		256

/* Far apart pages, so the doorbell index is sparse and multi-level. */
static phys_addr_t many_db(unsigned int i)
{
	return MOCK_DB_BASE + ((phys_addr_t)i << 36) + MOCK_DB_OFF;
}

static void many_doorbells(struct kunit *test)
{
	size_t granule = test_granule(test);
	struct mock_domain *md = mock_window(test, granule, MANY_DOORBELLS);
	struct msi_desc **first, **second;
	struct msi_desc *extra = new_desc(test);
	unsigned int i;

	first = kunit_kcalloc(test, MANY_DOORBELLS, sizeof(*first), GFP_KERNEL);
	second = kunit_kcalloc(test, MANY_DOORBELLS, sizeof(*second),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, first);
	KUNIT_ASSERT_NOT_NULL(test, second);
	for (i = 0; i < MANY_DOORBELLS; i++) {
		first[i] = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(md, first[i], many_db(i)),
				0);
		KUNIT_ASSERT_EQ(test, desc_iova(first[i]),
				MOCK_WIN_BASE + i * granule);
	}
	KUNIT_EXPECT_EQ(test, mock_count(md), MANY_DOORBELLS);
	for (i = 0; i < MANY_DOORBELLS; i++)
		expect_mapped(test, md, MOCK_WIN_BASE + i * granule,
			      many_db(i));
	KUNIT_EXPECT_EQ(test, mock_prepare(md, extra, many_db(MANY_DOORBELLS)),
			-ENOSPC);

	/* Every doorbell is found again, in reverse order, and shared. */
	for (i = MANY_DOORBELLS; i-- > 0;) {
		second[i] = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(md, second[i], many_db(i)),
				0);
		KUNIT_EXPECT_PTR_EQ(test, desc_db(second[i]),
				    desc_db(first[i]));
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), MANY_DOORBELLS);

	for (i = 0; i < MANY_DOORBELLS; i++)
		iommu_msi_release(first[i]);
	KUNIT_EXPECT_EQ(test, mock_count(md), MANY_DOORBELLS);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);
	for (i = 0; i < MANY_DOORBELLS; i++)
		iommu_msi_release(second[i]);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), MANY_DOORBELLS);
}

struct stress_domain {
	struct mock_domain	*md;
	dma_addr_t		base;		/* lowest IOVA handed out */
	u64			span;		/* bytes of IOVA handed out */
	struct msi_desc		*pinned;	/* keeps doorbell 0 mapped */
	u64			pinned_addr;	/* what composing it gives */
};

struct stress_thread {
	struct task_struct	*task;
	struct stress_domain	*sd;
	struct msi_desc		*desc;		/* NULL for a composer */
	atomic_t		*errors;
	unsigned long		loops;
};

struct stress_run {
	atomic_t		errors;
	unsigned int		nr_threads;
	struct stress_thread	threads[STRESS_WORKERS + STRESS_MAX_DOMAINS];
};

/* Different offsets too, so a mix-up of doorbells shows in the address. */
static phys_addr_t stress_db(unsigned int i)
{
	return mock_db_off(i, MOCK_DB_OFF * (i + 1));
}

static bool stress_translation_ok(struct stress_domain *sd,
				  const struct msi_desc *desc,
				  phys_addr_t db)
{
	struct mock_domain *md = sd->md;
	u64 addr = compose_addr(desc, db);
	u64 page = addr - mock_offset(md, addr);

	return mock_offset(md, addr) == mock_offset(md, db) &&
	       page >= sd->base && page - sd->base < sd->span &&
	       mock_lookup(md, page) == mock_page(md, db);
}

static phys_addr_t stress_random_db(void)
{
	return stress_db(get_random_u32_below(STRESS_DOORBELLS));
}

static int stress_worker(void *data)
{
	struct stress_thread *st = data;
	struct stress_domain *sd = st->sd;
	struct iommu_domain *domain = &sd->md->domain;
	phys_addr_t db;

	while (!kthread_should_stop()) {
		db = stress_random_db();
		if (iommu_msi_domain_prepare(domain, st->desc, db, U64_MAX) ||
		    !stress_translation_ok(sd, st->desc, db))
			atomic_inc(st->errors);
		/* Sometimes move: prepare drops the old doorbell itself. */
		if (!get_random_u32_below(4)) {
			db = stress_random_db();
			if (iommu_msi_domain_prepare(domain, st->desc, db,
						     U64_MAX) ||
			    !stress_translation_ok(sd, st->desc, db))
				atomic_inc(st->errors);
		}
		iommu_msi_release(st->desc);
		st->loops++;
		cond_resched();
	}
	return 0;
}

static int stress_composer(void *data)
{
	struct stress_thread *st = data;
	struct stress_domain *sd = st->sd;
	struct mock_domain *md = sd->md;
	unsigned long flags;
	u64 addr;

	while (!kthread_should_stop()) {
		/* As an irqchip does it: interrupts off, no lock. */
		local_irq_save(flags);
		addr = compose_addr(sd->pinned, stress_db(0));
		local_irq_restore(flags);
		if (addr != sd->pinned_addr ||
		    mock_lookup(md, addr - mock_offset(md, addr)) !=
		    mock_page(md, stress_db(0)))
			atomic_inc(st->errors);
		st->loops++;
		cond_resched();
	}
	return 0;
}

/* Also a cleanup action, so that no thread outlives a failed case. */
static void stress_stop(void *data)
{
	struct stress_run *run = data;
	unsigned int i;

	for (i = 0; i < run->nr_threads; i++) {
		if (run->threads[i].task) {
			kthread_stop(run->threads[i].task);
			run->threads[i].task = NULL;
		}
	}
}

static const char *const stress_names[STRESS_WORKERS] = {
	"iommu-msi-stress-0", "iommu-msi-stress-1",
	"iommu-msi-stress-2", "iommu-msi-stress-3",
};

static void stress_domains(struct kunit *test, struct stress_domain *sds,
			   unsigned int nr_domains)
{
	struct stress_thread *st;
	struct stress_domain *sd;
	struct stress_run *run;
	struct task_struct *task;
	struct msi_desc *fresh;
	unsigned long long loops = 0;
	unsigned int i;
	int err = 0;

	for (i = 0; i < nr_domains; i++) {
		sd = &sds[i];
		sd->pinned = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(sd->md, sd->pinned,
						   stress_db(0)), 0);
		sd->pinned_addr = compose_addr(sd->pinned, stress_db(0));
		KUNIT_ASSERT_EQ(test, sd->pinned_addr,
				sd->base + mock_offset(sd->md, stress_db(0)));
	}

	run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run);
	atomic_set(&run->errors, 0);
	for (i = 0; i < STRESS_WORKERS + nr_domains; i++) {
		st = &run->threads[i];
		st->errors = &run->errors;
		if (i < STRESS_WORKERS) {
			/* Each device has its own group mutex: no lock here. */
			st->sd = &sds[i % nr_domains];
			st->desc = new_desc_for(test,
						new_dev(test, stress_names[i]));
		} else {
			st->sd = &sds[i - STRESS_WORKERS];
		}
	}
	run->nr_threads = STRESS_WORKERS + nr_domains;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, stress_stop, run),
			0);

	/* No assertion until every thread is stopped again. */
	for (i = 0; i < run->nr_threads; i++) {
		st = &run->threads[i];
		task = kthread_run(st->desc ? stress_worker : stress_composer,
				   st, "msi-stress/%u", i);
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			break;
		}
		st->task = task;
	}
	if (!err)
		msleep(max_t(unsigned int, stress_ms, STRESS_MIN_MS));
	stress_stop(run);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "cannot start stress thread %u", i);

	KUNIT_EXPECT_EQ(test, atomic_read(&run->errors), 0);
	for (i = 0; i < run->nr_threads; i++) {
		KUNIT_EXPECT_GT_MSG(test, run->threads[i].loops, 0,
				    "stress thread %u made no progress", i);
		loops += run->threads[i].loops;
	}
	kunit_info(test, "%u threads on %u domain(s) for %u ms: %llu loops, %d errors\n",
		   run->nr_threads, nr_domains,
		   max_t(unsigned int, stress_ms, STRESS_MIN_MS), loops,
		   atomic_read(&run->errors));

	for (i = 0; i < nr_domains; i++) {
		sd = &sds[i];
		iommu_msi_release(sd->pinned);
		KUNIT_EXPECT_EQ(test, mock_count(sd->md), 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&sd->md->maps),
				atomic_read(&sd->md->unmaps));
		KUNIT_EXPECT_EQ(test, atomic_read(&sd->md->dma_live), 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&sd->md->bad_ops), 0);

		/* Every IOVA came back: the next doorbell gets the base. */
		fresh = new_desc(test);
		KUNIT_EXPECT_EQ(test, mock_prepare(sd->md, fresh, stress_db(5)),
				0);
		expect_translated(test, sd->md, fresh, sd->base);
		iommu_msi_release(fresh);
		KUNIT_EXPECT_EQ(test, mock_count(sd->md), 0);
	}
}

/* Threads use these, so they live as long as the case, not on a stack. */
static struct stress_domain *stress_domains_new(struct kunit *test,
						unsigned int nr)
{
	struct stress_domain *sds;

	sds = kunit_kcalloc(test, nr, sizeof(*sds), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sds);
	return sds;
}

static void stress_one_domain(struct kunit *test)
{
	struct stress_domain *sd = stress_domains_new(test, 1);

	sd->md = mock_window(test, SZ_4K, STRESS_SLOTS);
	sd->base = MOCK_WIN_BASE;
	sd->span = STRESS_SLOTS * SZ_4K;
	stress_domains(test, sd, 1);
}

/* Two cookies side by side, mapping the same doorbells, each its own way. */
static void stress_two_domains(struct kunit *test)
{
	struct stress_domain *sds;

	sds = stress_domains_new(test, STRESS_MAX_DOMAINS);
	sds[0].md = mock_window(test, SZ_4K, STRESS_SLOTS);
	sds[0].base = MOCK_WIN_BASE;
	sds[0].span = STRESS_SLOTS * SZ_4K;
	sds[1].md = mock_dma(test, SZ_64K);
	sds[1].base = MOCK_DMA_BASE;
	sds[1].span = MOCK_DMA_SLOTS * SZ_64K;
	stress_domains(test, sds, STRESS_MAX_DOMAINS);
}

/*
 * Domain switches. The IOMMU core calls the switch hooks for every device
 * of a group, under the group mutex; these cases call them the same way
 * for one device with three MSIs: two on doorbell 0, one on doorbell 1.
 */
#define SWITCH_MSIS		3

struct msi_dev {
	struct device		*dev;
	struct msi_desc		*desc[SWITCH_MSIS];
};

static struct msi_dev *msi_dev_new(struct kunit *test)
{
	struct msi_dev *md;
	unsigned int i;

	md = kunit_kzalloc(test, sizeof(*md), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, md);
	md->dev = new_dev(test, "iommu-msi-test-switch");
	for (i = 0; i < SWITCH_MSIS; i++)
		md->desc[i] = new_desc_for(test, md->dev);
	return md;
}

static void msi_dev_prepare(struct kunit *test, struct msi_dev *md,
			    struct iommu_domain *from)
{
	KUNIT_ASSERT_EQ(test, iommu_msi_domain_prepare(from, md->desc[0],
						       mock_db(0), U64_MAX), 0);
	KUNIT_ASSERT_EQ(test, iommu_msi_domain_prepare(from, md->desc[1],
						       mock_db(0), U64_MAX), 0);
	KUNIT_ASSERT_EQ(test, iommu_msi_domain_prepare(from, md->desc[2],
						       mock_db(1), U64_MAX), 0);
}

static void expect_msis_at(struct kunit *test, struct msi_dev *md,
			   struct mock_domain *in, u64 base)
{
	u64 iova1 = base + mock_granule(in);

	expect_composed(test, in, md->desc[0], mock_db(0), base);
	expect_composed(test, in, md->desc[1], mock_db(0), base);
	expect_composed(test, in, md->desc[2], mock_db(1), iova1);
}

/* Both doorbells mapped in @in at the window's first two slots. */
static void expect_doorbells_in(struct kunit *test, struct msi_dev *md,
				struct mock_domain *in)
{
	expect_mapped(test, in, MOCK_WIN_BASE, mock_db(0));
	expect_mapped(test, in, MOCK_WIN_BASE + mock_granule(in), mock_db(1));
	KUNIT_EXPECT_EQ(test, mock_count(in), 2);
	KUNIT_EXPECT_PTR_EQ(test, desc_db(md->desc[0])->cookie,
			    in->domain.msi_cookie);
	KUNIT_EXPECT_PTR_EQ(test, desc_db(md->desc[2])->cookie,
			    in->domain.msi_cookie);
}

static int switch_to(struct msi_dev *md, struct iommu_domain *to)
{
	int ret = iommu_msi_dev_switch_prepare(md->dev, to, false);

	if (!ret)
		iommu_msi_dev_switch_commit(md->dev, to);
	return ret;
}

static struct iommu_domain *blocked_domain(struct kunit *test)
{
	return &mock_domain_new(test, IOMMU_DOMAIN_BLOCKED, SZ_4K)->domain;
}

static void switch_prepare_then_commit(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);
	struct msi_desc *other = new_desc(test);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_ASSERT_EQ(test, iommu_msi_dev_switch_prepare(md->dev,
							   &to->domain, false),
			0);
	/* Valid in both domains while the switch is under way. */
	expect_mapped(test, to, MOCK_WIN_BASE, mock_db(0));
	expect_mapped(test, to, MOCK_WIN_BASE + SZ_4K, mock_db(1));
	KUNIT_EXPECT_EQ(test, mock_count(to), 2);
	expect_doorbells_in(test, md, from);
	expect_msis_at(test, md, from, MOCK_WIN_BASE);

	/* Another device gets the next free slot of the window meanwhile. */
	KUNIT_ASSERT_EQ(test, mock_prepare(to, other, mock_db(2)), 0);
	expect_translated(test, to, other, MOCK_WIN_BASE + 2 * SZ_4K);

	iommu_msi_dev_switch_commit(md->dev, &to->domain);
	KUNIT_EXPECT_EQ(test, mock_count(from), 0);
	KUNIT_EXPECT_PTR_EQ(test, md->desc[0]->iommu_binding,
			    md->desc[1]->iommu_binding);
	expect_msis_at(test, md, to, MOCK_WIN_BASE);

	/* The moved MSIs own their mappings in the new domain now. */
	iommu_msi_release(md->desc[0]);
	iommu_msi_release(md->desc[2]);
	KUNIT_EXPECT_EQ(test, mock_lookup(to, MOCK_WIN_BASE + SZ_4K),
			MOCK_UNMAPPED);
	expect_mapped(test, to, MOCK_WIN_BASE, mock_db(0));
	iommu_msi_release(md->desc[1]);
	KUNIT_EXPECT_EQ(test, mock_count(to), 1);
}

static void switch_prepare_then_abort(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_ASSERT_EQ(test, iommu_msi_dev_switch_prepare(md->dev,
							   &to->domain, false),
			0);
	iommu_msi_dev_switch_abort(md->dev);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);
	expect_doorbells_in(test, md, from);
	expect_msis_at(test, md, from, MOCK_WIN_BASE);

	/* A second attempt is as good as the first. */
	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	KUNIT_EXPECT_EQ(test, mock_count(from), 0);
	expect_doorbells_in(test, md, to);
	expect_msis_at(test, md, to, MOCK_WIN_BASE);
}

/* The new domain already maps doorbell 0 for another device: shared. */
static void switch_shares_with_other_device(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);
	struct msi_desc *other = new_desc(test);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_ASSERT_EQ(test, mock_prepare(to, other, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&to->maps), 2);
	expect_doorbells_in(test, md, to);
	KUNIT_EXPECT_PTR_EQ(test, desc_db(other), desc_db(md->desc[0]));
	KUNIT_EXPECT_EQ(test, db_users(desc_db(other)), 2);
	expect_msis_at(test, md, to, MOCK_WIN_BASE);
}

static void switch_map_failure(struct kunit *test)
{
	int err = test_error(test);
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &from->domain);
	/* The first doorbell maps, the second fails. */
	WRITE_ONCE(to->fail_map_err, err);
	WRITE_ONCE(to->fail_map_at, atomic_read(&to->maps) + 2);
	KUNIT_EXPECT_EQ(test, iommu_msi_dev_switch_prepare(md->dev,
							   &to->domain, false),
			err);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);
	expect_doorbells_in(test, md, from);
	expect_msis_at(test, md, from, MOCK_WIN_BASE);

	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	expect_msis_at(test, md, to, MOCK_WIN_BASE);
}

static void switch_to_other_window(struct kunit *test)
{
	struct mock_domain *from = mock_window_at(test, SZ_4K, MOCK_WIN_HIGH,
						  4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_EXPECT_EQ(test, switch_to(md, &to->domain), -ERANGE);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);
	expect_msis_at(test, md, from, MOCK_WIN_HIGH);
}

static void switch_granules_differ(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_64K, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_EXPECT_EQ(test, switch_to(md, &to->domain), -EINVAL);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);
	expect_msis_at(test, md, from, MOCK_WIN_BASE);
}

/*
 * An allocator IOVA (a DMA-API domain, say the parent of a vDPA device)
 * cannot be held in a window domain: refused, nothing taken, and its home
 * mapping stays for when the device returns.
 */
static void switch_dma_to_window_refused(struct kunit *test)
{
	struct mock_domain *from = mock_dma(test, SZ_4K);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);
	u64 iova;

	msi_dev_prepare(test, md, &from->domain);
	iova = desc_iova(md->desc[0]);
	KUNIT_EXPECT_EQ(test, switch_to(md, &to->domain), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&to->maps), 0);
	KUNIT_EXPECT_EQ(test, mock_count(from), 2);

	/* Blocked and back home: the same IOVA, still mapped. */
	KUNIT_ASSERT_EQ(test, switch_to(md, blocked_domain(test)), 0);
	KUNIT_ASSERT_EQ(test, switch_to(md, &from->domain), 0);
	KUNIT_EXPECT_EQ(test, desc_iova(md->desc[0]), iova);
	expect_mapped(test, from, iova, mock_db(0));
	KUNIT_EXPECT_EQ(test, atomic_read(&from->maps), 2);
}

/* An MSI used untranslated (identity domain) would fault in a window. */
static void switch_untranslated_to_window_refused(struct kunit *test)
{
	struct mock_domain *ident = mock_domain_new(test,
						    IOMMU_DOMAIN_IDENTITY,
						    SZ_4K);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &ident->domain);
	expect_untranslated(test, md->desc[0]);
	KUNIT_EXPECT_EQ(test, switch_to(md, &to->domain), -EINVAL);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);

	/* A translated MSI cannot go to an identity domain either. */
	iommu_msi_release(md->desc[0]);
	iommu_msi_release(md->desc[1]);
	iommu_msi_release(md->desc[2]);
	msi_dev_prepare(test, md, &to->domain);
	KUNIT_EXPECT_EQ(test, switch_to(md, &ident->domain), -EINVAL);
	expect_doorbells_in(test, md, to);
}

/* A switch that must succeed goes ahead, and only reports. */
static void switch_must_succeed(struct kunit *test)
{
	struct mock_domain *from = mock_dma(test, SZ_4K);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_EXPECT_EQ(test, iommu_msi_dev_switch_prepare(md->dev,
							   &to->domain, true),
			0);
	iommu_msi_dev_switch_commit(md->dev, &to->domain);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);
	KUNIT_EXPECT_EQ(test, mock_count(from), 2);
}

/*
 * Detach (to the blocking domain) then attach elsewhere: the old domain's
 * mappings go with the device, the IOVAs stay, and the next domain maps
 * them there.
 */
static void switch_detach_then_attach(struct kunit *test)
{
	struct mock_domain *a = mock_window(test, SZ_4K, 4);
	struct mock_domain *b = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &a->domain);
	KUNIT_ASSERT_EQ(test, switch_to(md, blocked_domain(test)), 0);
	KUNIT_EXPECT_EQ(test, mock_count(a), 0);
	KUNIT_EXPECT_NULL(test, desc_db(md->desc[0]));
	expect_msis_at(test, md, a, MOCK_WIN_BASE);

	KUNIT_ASSERT_EQ(test, switch_to(md, &b->domain), 0);
	expect_doorbells_in(test, md, b);
	expect_msis_at(test, md, b, MOCK_WIN_BASE);

	/* And back to the first domain, directly. */
	KUNIT_ASSERT_EQ(test, switch_to(md, &a->domain), 0);
	KUNIT_EXPECT_EQ(test, mock_count(b), 0);
	expect_doorbells_in(test, md, a);
}

/*
 * MSIs set up while the device is blocked take their slot in its SW_MSI
 * window; the first attach maps them there.
 */
static void switch_prepared_while_blocked(struct kunit *test)
{
	struct iommu_domain *blocked = blocked_domain(test);
	struct mock_domain *to = mock_window(test, PAGE_SIZE, 4);
	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, blocked);
	expect_msis_at(test, md, to, MOCK_WIN_BASE);
	KUNIT_EXPECT_NULL(test, desc_db(md->desc[0]));
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);

	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	expect_doorbells_in(test, md, to);
	expect_msis_at(test, md, to, MOCK_WIN_BASE);
}

/* Without a SW_MSI region, a blocked device's doorbells stay physical. */
static void switch_blocked_without_window(struct kunit *test)
{
	struct msi_dev *md = msi_dev_new(test);

	container_of(md->dev->iommu, struct mock_dev_iommu,
		     iommu)->region_size = 0;
	msi_dev_prepare(test, md, blocked_domain(test));
	expect_untranslated(test, md->desc[0]);
	expect_compose_untouched(test, md->desc[2], mock_db(1));
}

/* A paging domain whose owner has not made a cookie yet: allowed. */
static void switch_to_domain_without_cookie(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *bare = mock_domain_new(test,
						   IOMMU_DOMAIN_UNMANAGED,
						   SZ_4K);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);

	struct msi_dev *md = msi_dev_new(test);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_EXPECT_EQ(test, switch_to(md, &bare->domain), 0);
	KUNIT_EXPECT_EQ(test, mock_count(bare), 0);
	KUNIT_EXPECT_EQ(test, mock_count(from), 0);
	expect_msis_at(test, md, from, MOCK_WIN_BASE);

	/* A device with no MSIs has nothing to move. */
	KUNIT_EXPECT_EQ(test, iommu_msi_dev_switch_prepare(test->priv, &to->domain, false), 0);
	KUNIT_EXPECT_EQ(test, mock_count(to), 0);
}

/*
 * The software MSI window a device's owner moves (iommufd's
 * IOMMU_OPTION_SW_MSI_START/SIZE) replaces the driver's region: in the
 * reserved regions, and for MSIs set up while the device is blocked.
 */
#define MOVED_WIN_BASE		((dma_addr_t)0x40000000)

static void expect_sw_msi_window(struct kunit *test, struct device *dev,
				 dma_addr_t base, size_t size)
{
	dma_addr_t got_base = 0;
	size_t got_size = 0;

	KUNIT_ASSERT_EQ(test, iommu_get_sw_msi_window(dev, &got_base,
						      &got_size), 0);
	KUNIT_EXPECT_EQ(test, got_base, base);
	KUNIT_EXPECT_EQ(test, got_size, size);
}

static void sw_window_move_and_reset(struct kunit *test)
{
	struct device *dev = test->priv;

	expect_sw_msi_window(test, dev, MOCK_WIN_BASE, 4 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, iommu_set_sw_msi_window(dev, MOVED_WIN_BASE,
						      8 * PAGE_SIZE), 0);
	expect_sw_msi_window(test, dev, MOVED_WIN_BASE, 8 * PAGE_SIZE);
	iommu_reset_sw_msi_window(dev);
	expect_sw_msi_window(test, dev, MOCK_WIN_BASE, 4 * PAGE_SIZE);
}

/* Size 0 keeps the driver's length at the new base. */
static void sw_window_driver_size(struct kunit *test)
{
	struct device *dev = test->priv;

	KUNIT_ASSERT_EQ(test, iommu_set_sw_msi_window(dev, MOVED_WIN_BASE, 0),
			0);
	expect_sw_msi_window(test, dev, MOVED_WIN_BASE, 4 * PAGE_SIZE);
}

/* Refused windows leave the one in force as it was. */
static void sw_window_bad_input(struct kunit *test)
{
	struct device *dev = test->priv;

	KUNIT_ASSERT_EQ(test, iommu_set_sw_msi_window(dev, MOVED_WIN_BASE,
						      2 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, iommu_set_sw_msi_window(dev, MOCK_WIN_BASE + 1,
						      PAGE_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_set_sw_msi_window(dev, MOCK_WIN_BASE,
						      PAGE_SIZE + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_set_sw_msi_window(dev, -(dma_addr_t)PAGE_SIZE,
						      2 * PAGE_SIZE), -EINVAL);
	expect_sw_msi_window(test, dev, MOVED_WIN_BASE, 2 * PAGE_SIZE);

	container_of(dev->iommu, struct mock_dev_iommu, iommu)->region_size = 0;
	iommu_reset_sw_msi_window(dev);
	KUNIT_EXPECT_EQ(test, iommu_set_sw_msi_window(dev, MOVED_WIN_BASE,
						      PAGE_SIZE), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, dev->iommu->sw_msi_size, 0);
}

/*
 * MSIs set up while blocked take their slots in the moved window, and a
 * domain with that window finds them there; the window cannot move again
 * while they live.
 */
static void sw_window_blocked_msis_follow(struct kunit *test)
{
	struct mock_domain *to = mock_window_at(test, PAGE_SIZE,
						MOVED_WIN_BASE, 4);
	struct msi_dev *md = msi_dev_new(test);

	KUNIT_ASSERT_EQ(test, iommu_set_sw_msi_window(md->dev, MOVED_WIN_BASE,
						      4 * PAGE_SIZE), 0);
	msi_dev_prepare(test, md, blocked_domain(test));
	expect_msis_at(test, md, to, MOVED_WIN_BASE);

	KUNIT_EXPECT_EQ(test, iommu_set_sw_msi_window(md->dev, MOCK_WIN_BASE,
						      0), -EBUSY);
	iommu_reset_sw_msi_window(md->dev);
	expect_sw_msi_window(test, md->dev, MOVED_WIN_BASE, 4 * PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	expect_mapped(test, to, MOVED_WIN_BASE, mock_db(0));
	expect_mapped(test, to, MOVED_WIN_BASE + PAGE_SIZE, mock_db(1));
	expect_msis_at(test, md, to, MOVED_WIN_BASE);
}

/* A domain with the driver's window is another window: refused. */
static void sw_window_switch_to_driver_window_refused(struct kunit *test)
{
	struct mock_domain *moved = mock_window_at(test, PAGE_SIZE,
						   MOVED_WIN_BASE, 4);
	struct mock_domain *driver = mock_window(test, PAGE_SIZE, 4);
	struct msi_dev *md = msi_dev_new(test);

	KUNIT_ASSERT_EQ(test, iommu_set_sw_msi_window(md->dev, MOVED_WIN_BASE,
						      4 * PAGE_SIZE), 0);
	msi_dev_prepare(test, md, &moved->domain);
	KUNIT_EXPECT_EQ(test, switch_to(md, &driver->domain), -ERANGE);
	KUNIT_EXPECT_EQ(test, mock_count(driver), 0);
	expect_msis_at(test, md, moved, MOVED_WIN_BASE);
}

/*
 * Lazy unmap: a doorbell that loses its last user stays mapped for
 * iommu_msi_idle_ms. Most cases run with 0 (unmap at once) to see each
 * unmap where it happens; these run with a delay and check that nothing
 * unused stays mapped once its slot or IOVA is needed.
 */
static void restore_idle_ms(void *old)
{
	iommu_msi_idle_ms = (uintptr_t)old;
}

static void set_idle_ms(struct kunit *test, unsigned int ms)
{
	uintptr_t old = iommu_msi_idle_ms;

	iommu_msi_idle_ms = ms;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_idle_ms,
							(void *)old), 0);
}

static void lazy_release_keeps_mapping(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);

	/* Used again: no new map, the same IOVA. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	expect_translated(test, md, desc, MOCK_WIN_BASE);
	iommu_msi_release(desc);

	iommu_msi_cookie_reclaim(md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
	KUNIT_EXPECT_GE(test, atomic_read(&md->syncs), 1);
}

/* In use when the delay runs out: the reclaim leaves it alone. */
static void lazy_reclaim_skips_used(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *a = new_desc(test), *b = new_desc(test);

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(1)), 0);
	iommu_msi_release(b);
	iommu_msi_cookie_reclaim(md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
}

/* The delayed reclaim runs by itself. */
static void lazy_reclaim_after_delay(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	struct iommu_msi_cookie *cookie;

	set_idle_ms(test, 10);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	cookie = md->domain.msi_cookie;
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&cookie->reclaim));
	flush_delayed_work(&cookie->reclaim);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 1);
}

/*
 * A full window: an unused doorbell is unmapped before its slot serves
 * another doorbell (the mock refuses to map over a live mapping).
 */
static void lazy_full_window_reclaims(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 2);
	struct msi_desc *a = new_desc(test), *b = new_desc(test);
	struct msi_desc *c = new_desc(test);

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(1)), 0);
	iommu_msi_release(a);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, c, mock_db(2)), 0);
	expect_translated(test, md, c, MOCK_WIN_BASE);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(2));
	expect_mapped(test, md, MOCK_WIN_BASE + SZ_4K, mock_db(1));
	KUNIT_EXPECT_EQ(test, mock_count(md), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
}

/* The same for a slot held by another domain with the same window. */
static void lazy_shared_window_reclaims(struct kunit *test)
{
	struct mock_domain *one = mock_window(test, SZ_4K, 2);
	struct mock_domain *two = mock_window(test, SZ_4K, 2);
	struct msi_desc *a = new_desc(test), *b = new_desc(test);
	struct msi_desc *c = new_desc(test);

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(one, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(one, b, mock_db(1)), 0);
	iommu_msi_release(a);
	iommu_msi_release(b);
	KUNIT_ASSERT_EQ(test, mock_prepare(two, c, mock_db(2)), 0);
	KUNIT_EXPECT_EQ(test, mock_count(one), 0);
	KUNIT_EXPECT_EQ(test, mock_count(two), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&one->bad_ops) +
			atomic_read(&two->bad_ops), 0);
}

/* An allocator out of IOVAs gets back those of unused doorbells. */
static void lazy_dma_alloc_reclaims(struct kunit *test)
{
	struct mock_domain *md = mock_dma(test, SZ_4K);
	struct msi_desc *desc[MOCK_DMA_SLOTS + 1];
	unsigned int i;

	set_idle_ms(test, 60000);
	for (i = 0; i < MOCK_DMA_SLOTS; i++) {
		desc[i] = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(md, desc[i], mock_db(i)), 0);
		iommu_msi_release(desc[i]);
	}
	KUNIT_EXPECT_EQ(test, mock_count(md), MOCK_DMA_SLOTS);
	desc[i] = new_desc(test);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc[i], mock_db(i)), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->dma_bad_free), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
}

/* Handed over to another domain: the old one unmaps at once. */
static void lazy_switch_drops_old(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);

	set_idle_ms(test, 60000);
	msi_dev_prepare(test, md, &from->domain);
	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	KUNIT_EXPECT_EQ(test, mock_count(from), 0);
	KUNIT_EXPECT_EQ(test, mock_count(to), 2);
}

/* A domain that goes takes its unused doorbells with it. */
static void lazy_destroy_unmaps_idle(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	iommu_msi_cookie_destroy(&md->domain);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_NULL(test, md->domain.msi_cookie);
}

/* How many bindings @dev keeps, and how many of them are idle. */
static unsigned int dev_bindings(struct device *dev, unsigned int *idle)
{
	struct iommu_msi_binding *b;
	unsigned int n = 0;

	*idle = 0;
	hlist_for_each_entry(b, iommu_msi_dev_bindings(dev), node) {
		n++;
		if (!binding_msis(b))
			(*idle)++;
	}
	return n;
}

/* The binding stays, idle, and the next MSI takes it back: no map, no alloc. */
static void lazy_idle_binding_wakes_up(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	struct iommu_msi_binding *b;
	unsigned int idle;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	b = desc->iommu_binding;
	iommu_msi_release(desc);
	KUNIT_EXPECT_EQ(test, dev_bindings(desc->dev, &idle), 1);
	KUNIT_EXPECT_EQ(test, idle, 1);
	KUNIT_EXPECT_EQ(test, db_users(b->cur), 0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_EXPECT_PTR_EQ(test, desc->iommu_binding, b);
	KUNIT_EXPECT_EQ(test, dev_bindings(desc->dev, &idle), 1);
	KUNIT_EXPECT_EQ(test, idle, 0);
	KUNIT_EXPECT_EQ(test, db_users(b->cur), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	expect_composed(test, md, desc, mock_db(0), MOCK_WIN_BASE);
}

/* Reclaimed under an idle binding: the next MSI maps the doorbell again. */
static void lazy_idle_binding_after_reclaim(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	unsigned int idle;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	iommu_msi_cookie_reclaim(md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	expect_composed(test, md, desc, mock_db(0), MOCK_WIN_BASE);
	/* The dead idle binding went; only the new one is left. */
	KUNIT_EXPECT_EQ(test, dev_bindings(desc->dev, &idle), 1);
	KUNIT_EXPECT_EQ(test, idle, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
}

/* A device that changes domain leaves no idle binding, nor its mapping. */
static void lazy_switch_drops_idle_binding(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);
	unsigned int idle;

	set_idle_ms(test, 60000);
	msi_dev_prepare(test, md, &from->domain);
	iommu_msi_release(md->desc[2]);
	KUNIT_EXPECT_EQ(test, dev_bindings(md->dev, &idle), 2);
	KUNIT_EXPECT_EQ(test, idle, 1);
	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	KUNIT_EXPECT_EQ(test, dev_bindings(md->dev, &idle), 1);
	KUNIT_EXPECT_EQ(test, idle, 0);
	KUNIT_EXPECT_EQ(test, mock_count(from), 0);
	KUNIT_EXPECT_EQ(test, mock_count(to), 1);
	expect_composed(test, to, md->desc[0], mock_db(0), MOCK_WIN_BASE);
}

/*
 * The last MSI of a binding goes while its device changes domain: the
 * switch holds the binding until commit, and it goes idle there, on its
 * doorbell in the new domain, not on the one the old domain gave up.
 */
static void lazy_release_during_switch(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);
	struct iommu_msi_binding *b;
	unsigned int idle;

	set_idle_ms(test, 60000);
	msi_dev_prepare(test, md, &from->domain);
	b = md->desc[2]->iommu_binding;
	KUNIT_ASSERT_EQ(test, iommu_msi_dev_switch_prepare(md->dev, &to->domain,
							   false), 0);
	iommu_msi_release(md->desc[2]);
	/* Still held by the switch: not idle, still on the old doorbell. */
	KUNIT_EXPECT_EQ(test, binding_msis(b), 1);
	KUNIT_EXPECT_PTR_EQ(test, b->cur->cookie, from->domain.msi_cookie);
	iommu_msi_dev_switch_commit(md->dev, &to->domain);

	KUNIT_EXPECT_EQ(test, dev_bindings(md->dev, &idle), 2);
	KUNIT_EXPECT_EQ(test, idle, 1);
	KUNIT_EXPECT_EQ(test, binding_msis(b), 0);
	KUNIT_EXPECT_PTR_EQ(test, b->cur->cookie, to->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, db_users(b->cur), 0);
	KUNIT_EXPECT_EQ(test, mock_count(from), 0);
	KUNIT_EXPECT_EQ(test, mock_count(to), 2);
	expect_composed(test, to, md->desc[0], mock_db(0), MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, atomic_read(&from->bad_ops) +
			atomic_read(&to->bad_ops), 0);
}

/* Moving the MSI window is not refused, nor left mapped, for idle bindings. */
static void lazy_window_move_drops_idle_binding(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	unsigned int idle;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	KUNIT_EXPECT_EQ(test, iommu_set_sw_msi_window(desc->dev, MOVED_WIN_BASE,
						      4 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, dev_bindings(desc->dev, &idle), 0);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	iommu_reset_sw_msi_window(desc->dev);
}

/*
 * An idle binding is armed: its next idle turns queue nothing. The reclaim
 * that finds it in use takes that away, so its next idle turn queues the
 * reclaim again, which then unmaps the doorbell.
 */
static void lazy_reclaim_disarms_binding_in_use(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	struct iommu_msi_cookie *cookie;
	struct iommu_msi_binding *b;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	b = desc->iommu_binding;
	cookie = md->domain.msi_cookie;
	iommu_msi_release(desc);
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&cookie->reclaim));
	KUNIT_EXPECT_EQ(test, atomic_read(&b->users), IOMMU_MSI_BINDING_ARMED);

	/* Woken up, and in use when the reclaim runs: kept, and disarmed. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_EXPECT_PTR_EQ(test, desc->iommu_binding, b);
	flush_delayed_work(&cookie->reclaim);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&cookie->reclaim));
	KUNIT_EXPECT_EQ(test, atomic_read(&b->users), 1);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));

	/* Idle again: queued again, and this time the doorbell goes. */
	iommu_msi_release(desc);
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&cookie->reclaim));
	flush_delayed_work(&cookie->reclaim);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->users), IOMMU_MSI_BINDING_RETIRED);

	/* The retired binding gives way to a new one, and a new mapping. */
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
	expect_composed(test, md, desc, mock_db(0), MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
}

/*
 * Two devices share a doorbell. The reclaim retires its idle bindings only
 * if none is in use: until then the idle one still wakes up without a map.
 */
static void lazy_reclaim_retires_all_or_none(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_dev *other = msi_dev_new(test);
	struct msi_desc *b = other->desc[0];
	struct iommu_msi_binding *ba, *bb;
	unsigned int idle;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(0)), 0);
	ba = a->iommu_binding;
	bb = b->iommu_binding;
	KUNIT_ASSERT_PTR_EQ(test, desc_db(a), desc_db(b));
	iommu_msi_release(a);
	iommu_msi_cookie_reclaim(md->domain.msi_cookie);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	KUNIT_EXPECT_EQ(test, atomic_read(&ba->users), 0);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_EXPECT_PTR_EQ(test, a->iommu_binding, ba);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, db_users(desc_db(a)), 2);

	iommu_msi_release(a);
	iommu_msi_release(b);
	iommu_msi_cookie_reclaim(md->domain.msi_cookie);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ba->users), IOMMU_MSI_BINDING_RETIRED);
	KUNIT_EXPECT_EQ(test, atomic_read(&bb->users), IOMMU_MSI_BINDING_RETIRED);

	KUNIT_ASSERT_EQ(test, mock_prepare(md, b, mock_db(0)), 0);
	expect_composed(test, md, b, mock_db(0), MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, dev_bindings(other->dev, &idle), 1);
	KUNIT_EXPECT_EQ(test, idle, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
}

struct idle_race {
	struct iommu_msi_cookie	*cookie;
	struct task_struct	*task;
	unsigned long		loops;
};

static int idle_race_reclaimer(void *data)
{
	struct idle_race *r = data;

	while (!kthread_should_stop()) {
		iommu_msi_cookie_reclaim(r->cookie);
		r->loops++;
		cond_resched();
	}
	return 0;
}

static void idle_race_stop(void *data)
{
	struct idle_race *r = data;

	if (r->task)
		kthread_stop(r->task);
	r->task = NULL;
}

#define IDLE_RACE_LOOPS	20000

/*
 * An idle binding wakes up while the reclaim takes its doorbell: it either
 * wins and the mapping stays, or finds the doorbell dead and maps it again.
 * Either way the MSI's IOVA maps its doorbell as soon as prepare returns.
 */
static void lazy_wake_up_races_reclaim(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 1);
	struct msi_desc *desc = new_desc(test);
	unsigned int i, unmapped = 0;
	struct idle_race *r;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->cookie = md->domain.msi_cookie;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, idle_race_stop, r),
			0);
	r->task = kthread_run(idle_race_reclaimer, r, "msi-idle-race");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r->task);

	/* No assertion until the reclaimer is stopped. */
	for (i = 0; i < IDLE_RACE_LOOPS; i++) {
		if (mock_prepare(md, desc, mock_db(0)))
			break;
		if (mock_lookup(md, MOCK_WIN_BASE) != mock_page(md, mock_db(0)))
			unmapped++;
		iommu_msi_release(desc);
		cond_resched();
	}
	idle_race_stop(r);

	KUNIT_EXPECT_EQ(test, i, IDLE_RACE_LOOPS);
	KUNIT_EXPECT_EQ(test, unmapped, 0);
	KUNIT_EXPECT_GT(test, r->loops, 0);
	/* The reclaim did take it now and then: both ways were taken. */
	KUNIT_EXPECT_GT(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps) - atomic_read(&md->unmaps),
			(int)mock_count(md));
	kunit_info(test, "%u cycles, %lu reclaims, %d maps\n", i, r->loops,
		   atomic_read(&md->maps));
}

/*
 * iommu_msi_prepare() on a test device, which has no group, translates an
 * MSI only through bind_fast(): its slow path finds no IOMMU and leaves
 * the MSI untranslated. That tells the two paths apart.
 */
static void fast_wakes_idle_binding(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	struct msi_desc *other = new_desc(test);
	struct iommu_msi_binding *b;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	b = desc->iommu_binding;
	iommu_msi_release(desc);
	KUNIT_ASSERT_EQ(test, binding_msis(b), 0);

	KUNIT_ASSERT_EQ(test, iommu_msi_prepare(desc, mock_db(0)), 0);
	KUNIT_EXPECT_PTR_EQ(test, desc->iommu_binding, b);
	KUNIT_EXPECT_EQ(test, binding_msis(b), 1);
	KUNIT_EXPECT_EQ(test, db_users(b->cur), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	expect_composed(test, md, desc, mock_db(0), MOCK_WIN_BASE);

	/* No binding to that page: the slow path, which finds no IOMMU. */
	KUNIT_ASSERT_EQ(test, iommu_msi_prepare(other, mock_db(1)), 0);
	expect_untranslated(test, other);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
}

/* A binding in use gains an MSI from another offset of the same page. */
static void fast_shares_binding_in_use(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *a = new_desc(test);
	struct msi_desc *b = new_desc(test);

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, a, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, iommu_msi_prepare(b, mock_db_off(0, 0x8)), 0);
	KUNIT_EXPECT_PTR_EQ(test, b->iommu_binding, a->iommu_binding);
	KUNIT_EXPECT_EQ(test, binding_msis(a->iommu_binding), 2);
	KUNIT_EXPECT_EQ(test, db_users(desc_db(a)), 1);
	expect_composed(test, md, b, mock_db_off(0, 0x8), MOCK_WIN_BASE);

	iommu_msi_release(a);
	expect_mapped(test, md, MOCK_WIN_BASE, mock_db(0));
	KUNIT_EXPECT_EQ(test, db_users(desc_db(b)), 1);
	iommu_msi_release(b);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->unmaps), 0);
}

/* Only a binding whose doorbell the device's domain maps is taken. */
static void fast_skips_binding_out_of_domain(struct kunit *test)
{
	struct mock_domain *from = mock_window(test, SZ_4K, 4);
	struct mock_domain *to = mock_window(test, SZ_4K, 4);
	struct msi_dev *md = msi_dev_new(test);
	struct msi_desc *extra = new_desc_for(test, md->dev);

	msi_dev_prepare(test, md, &from->domain);
	KUNIT_ASSERT_EQ(test, switch_to(md, blocked_domain(test)), 0);
	KUNIT_EXPECT_FALSE(test, md->desc[0]->iommu_binding->in_domain);
	KUNIT_ASSERT_EQ(test, iommu_msi_prepare(extra, mock_db(0)), 0);
	expect_untranslated(test, extra);

	KUNIT_ASSERT_EQ(test, switch_to(md, &to->domain), 0);
	KUNIT_ASSERT_EQ(test, iommu_msi_prepare(extra, mock_db(0)), 0);
	KUNIT_EXPECT_PTR_EQ(test, extra->iommu_binding,
			    md->desc[0]->iommu_binding);
	expect_composed(test, to, extra, mock_db(0), MOCK_WIN_BASE);
	KUNIT_EXPECT_EQ(test, mock_count(from), 0);
}

/* An IOVA above 4 GiB is not given to an MSI that can only write 32 bits. */
static void fast_refuses_unreachable_iova(struct kunit *test)
{
	struct mock_domain *md = mock_window_at(test, SZ_4K, MOCK_WIN_HIGH, 4);
	struct pci_dev *pdev = kunit_kzalloc(test, sizeof(*pdev), GFP_KERNEL);
	struct msi_desc *wide, *wide2, *narrow;

	KUNIT_ASSERT_NOT_NULL(test, pdev);
	pdev->dev.bus = &pci_bus_type;
	give_mock_iommu(test, &pdev->dev);
	wide = new_desc_for(test, &pdev->dev);
	wide2 = new_desc_for(test, &pdev->dev);
	narrow = new_desc_for(test, &pdev->dev);
	wide->pci.msi_attrib.is_msix = 1;
	wide2->pci.msi_attrib.is_msix = 1;

	KUNIT_ASSERT_EQ(test, mock_prepare(md, wide, mock_db(0)), 0);
	KUNIT_ASSERT_EQ(test, iommu_msi_prepare(narrow, mock_db(0)), 0);
	expect_untranslated(test, narrow);
	KUNIT_ASSERT_EQ(test, iommu_msi_prepare(wide2, mock_db(0)), 0);
	expect_composed(test, md, wide2, mock_db(0), MOCK_WIN_HIGH);
	KUNIT_EXPECT_EQ(test, binding_msis(wide->iommu_binding), 2);
}

struct sweep_race {
	struct idle_race	race;		/* its thread and loops */
	struct mock_domain	*md;
	struct msi_desc		*desc;
	unsigned long		fast;
	unsigned long		unmapped;
};

/* A VMM enabling and disabling one MSI, never under the group mutex. */
static int sweep_race_vmm(void *data)
{
	struct sweep_race *r = data;
	struct mock_domain *md = r->md;

	while (!kthread_should_stop()) {
		if (!iommu_msi_prepare(r->desc, mock_db(0)) &&
		    desc_shift(r->desc)) {
			r->fast++;
			if (mock_lookup(md, MOCK_WIN_BASE) !=
			    mock_page(md, mock_db(0)))
				r->unmapped++;
		}
		iommu_msi_release(r->desc);
		r->race.loops++;
		cond_resched();
	}
	return 0;
}

/* Start a VMM thread enabling and disabling an MSI of @test's device. */
static struct sweep_race *sweep_race_start(struct kunit *test,
					   struct mock_domain *md,
					   const char *name)
{
	struct sweep_race *r;

	set_idle_ms(test, 60000);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->md = md;
	r->desc = new_desc(test);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, idle_race_stop,
							&r->race), 0);
	r->race.task = kthread_run(sweep_race_vmm, r, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r->race.task);
	return r;
}

/*
 * Stop the VMM thread, free what @mine's device keeps idle, and check what
 * both races must leave: every loop done, no lockless prepare on an
 * unmapped doorbell, both paths taken, nothing mapped or leaked.
 */
static void sweep_race_finish(struct kunit *test, struct sweep_race *r,
			      struct msi_desc *mine, unsigned int loops,
			      unsigned int rebound)
{
	struct mock_domain *md = r->md;

	idle_race_stop(&r->race);
	iommu_msi_dev_drop_idle(mine->dev);
	KUNIT_EXPECT_EQ(test, loops, IDLE_RACE_LOOPS);
	KUNIT_EXPECT_EQ(test, r->unmapped, 0);
	KUNIT_EXPECT_GT(test, r->fast, 0);
	KUNIT_EXPECT_GT(test, rebound, 1);
	KUNIT_EXPECT_EQ(test, mock_count(md), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), atomic_read(&md->unmaps));
	KUNIT_EXPECT_EQ(test, atomic_read(&md->bad_ops), 0);
	kunit_info(test, "%lu cycles, %lu without the mutex, %u bindings\n",
		   r->race.loops, r->fast, rebound);
}

/*
 * The group mutex holder frees idle bindings while bind_fast() wakes them
 * up: each binding is either woken, and stays with its doorbell mapped, or
 * freed, and the lockless prepare falls back to the slow path.
 */
static void fast_wake_races_sweep(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 1);
	struct msi_desc *mine = new_desc(test);
	struct sweep_race *r = sweep_race_start(test, md, "msi-sweep-race");
	unsigned int i, idle, rebound = 0;

	/* This thread plays the group mutex holder. No assertion until stop. */
	for (i = 0; i < IDLE_RACE_LOOPS; i++) {
		if (!dev_bindings(mine->dev, &idle)) {
			if (mock_prepare(md, mine, mock_db(0)))
				break;
			iommu_msi_release(mine);
			rebound++;
		}
		iommu_msi_dev_drop_idle(mine->dev);
		cond_resched();
	}
	sweep_race_finish(test, r, mine, i, rebound);
	/* Both ways were taken: woken without the mutex, and swept. */
	KUNIT_EXPECT_GT(test, r->race.loops, r->fast);
	KUNIT_EXPECT_EQ(test, dev_bindings(mine->dev, &idle), 0);
}

/* Whether @dev has a binding that is not retired. */
static bool dev_has_live_binding(struct device *dev)
{
	struct iommu_msi_binding *b;

	hlist_for_each_entry(b, iommu_msi_dev_bindings(dev), node)
		if (iommu_msi_binding_users(b) != IOMMU_MSI_BINDING_RETIRED)
			return true;
	return false;
}

/*
 * The reclaim retires idle bindings while bind_fast() wakes them up: each
 * binding either wakes up, and its doorbell stays mapped, or is retired
 * first, and the lockless prepare falls back to the slow path.
 */
static void fast_wake_races_reclaim(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 1);
	struct msi_desc *mine = new_desc(test);
	struct sweep_race *r = sweep_race_start(test, md, "msi-retire-race");
	unsigned int i, rebound = 0;

	/* This thread reclaims, and rebinds under the "group mutex". */
	for (i = 0; i < IDLE_RACE_LOOPS; i++) {
		if (!dev_has_live_binding(mine->dev)) {
			if (mock_prepare(md, mine, mock_db(0)))
				break;
			iommu_msi_release(mine);
			rebound++;
		}
		iommu_msi_cookie_reclaim(md->domain.msi_cookie);
		cond_resched();
	}
	sweep_race_finish(test, r, mine, i, rebound);
	/* Both ways were taken: woken without the mutex, and retired. */
	KUNIT_EXPECT_GT(test, atomic_read(&md->unmaps), 1);
}

static int iommu_msi_test_init(struct kunit *test)
{
	set_idle_ms(test, 0);
	test->priv = new_dev(test, "iommu-msi-test");
	return 0;
}

static struct kunit_case iommu_msi_cookie_test_cases[] = {
	KUNIT_CASE(mock_rejects_double_map),
	KUNIT_CASE_PARAM(window_first_doorbell_at_base, granule_gen_params),
	KUNIT_CASE_PARAM(window_second_doorbell_next_slot, granule_gen_params),
	KUNIT_CASE(window_reuses_first_free_slot),
	KUNIT_CASE(window_at_iova_zero),
	KUNIT_CASE(granule_from_page_sizes),
	KUNIT_CASE(granule_narrowed_after_cookie),
	KUNIT_CASE(granule_change_under_doorbells_refused),
	KUNIT_CASE(granule_window_misfit_refused),
	KUNIT_CASE(map_prot_write_noexec_mmio),
	KUNIT_CASE(addr_limit_no_64bit_msi),
	KUNIT_CASE(translated_follows_prepare),
	KUNIT_CASE_PARAM(same_doorbell_shares_mapping, granule_gen_params),
	KUNIT_CASE_PARAM(same_page_offsets_share, granule_gen_params),
	KUNIT_CASE(shared_across_devices),
	KUNIT_CASE_PARAM(compose_keeps_offset, granule_gen_params),
	KUNIT_CASE_PARAM(compose_high_doorbell_low_iova, granule_gen_params),
	KUNIT_CASE_PARAM(compose_high_iova, granule_gen_params),
	KUNIT_CASE(compose_under_raw_spinlock),
	KUNIT_CASE_PARAM(last_release_unmaps, granule_gen_params),
	KUNIT_CASE_PARAM(window_exhaustion, granule_gen_params),
	KUNIT_CASE_PARAM(dma_cookie_maps_allocated_iova, granule_gen_params),
	KUNIT_CASE(dma_alloc_failure),
	KUNIT_CASE(dma_iova_above_limit),
	KUNIT_CASE_PARAM(create_window_misaligned_base, granule_gen_params),
	KUNIT_CASE_PARAM(create_window_misaligned_size, granule_gen_params),
	KUNIT_CASE(create_window_zero_size),
	KUNIT_CASE(create_window_wraps),
	KUNIT_CASE(create_window_too_many_slots),
	KUNIT_CASE(second_cookie_eexist),
	KUNIT_CASE(create_on_non_paging_domain),
	KUNIT_CASE(create_dma_bad_ops),
	KUNIT_CASE(add_hw_region_bad_input),
	KUNIT_CASE(erange_window_above_4g),
	KUNIT_CASE_PARAM(erange_window_straddles_4g, granule_gen_params),
	KUNIT_CASE(erange_untranslated_high_doorbell),
	KUNIT_CASE(erange_shared_doorbell),
	KUNIT_CASE_PARAM(map_failure_window, map_error_gen_params),
	KUNIT_CASE(map_failure_keeps_earlier),
	KUNIT_CASE_PARAM(map_failure_dma, map_error_gen_params),
	KUNIT_CASE(bypass_identity_domain),
	KUNIT_CASE(bypass_null_domain),
	KUNIT_CASE(bypass_no_cookie),
	KUNIT_CASE(bypass_no_iommu_group),
	KUNIT_CASE(hw_region_bypass),
	KUNIT_CASE(hw_region_added_twice),
	KUNIT_CASE(reprepare_releases_old),
	KUNIT_CASE(reprepare_same_doorbell),
	KUNIT_CASE(reprepare_failure_drops_old),
	KUNIT_CASE(reprepare_to_hw_region),
	KUNIT_CASE(release_never_prepared),
	KUNIT_CASE(release_twice),
	KUNIT_CASE(destroy_window_live),
	KUNIT_CASE(destroy_dma_live),
	KUNIT_CASE(destroy_without_cookie),
	KUNIT_CASE(destroy_then_recreate),
	KUNIT_CASE(release_unmap_failure_keeps_mapping),
	KUNIT_CASE(reprepare_maps_new_first),
	KUNIT_CASE_PARAM(many_doorbells, granule_gen_params),
	KUNIT_CASE(switch_prepare_then_commit),
	KUNIT_CASE(switch_prepare_then_abort),
	KUNIT_CASE(switch_shares_with_other_device),
	KUNIT_CASE_PARAM(switch_map_failure, map_error_gen_params),
	KUNIT_CASE(switch_to_other_window),
	KUNIT_CASE(switch_granules_differ),
	KUNIT_CASE(switch_dma_to_window_refused),
	KUNIT_CASE(switch_untranslated_to_window_refused),
	KUNIT_CASE(switch_must_succeed),
	KUNIT_CASE(switch_detach_then_attach),
	KUNIT_CASE(switch_prepared_while_blocked),
	KUNIT_CASE(switch_blocked_without_window),
	KUNIT_CASE(switch_to_domain_without_cookie),
	KUNIT_CASE(lazy_release_keeps_mapping),
	KUNIT_CASE(lazy_reclaim_skips_used),
	KUNIT_CASE(lazy_reclaim_after_delay),
	KUNIT_CASE(lazy_full_window_reclaims),
	KUNIT_CASE(lazy_shared_window_reclaims),
	KUNIT_CASE(lazy_dma_alloc_reclaims),
	KUNIT_CASE(lazy_switch_drops_old),
	KUNIT_CASE(lazy_destroy_unmaps_idle),
	KUNIT_CASE(lazy_idle_binding_wakes_up),
	KUNIT_CASE(lazy_idle_binding_after_reclaim),
	KUNIT_CASE(lazy_switch_drops_idle_binding),
	KUNIT_CASE(lazy_release_during_switch),
	KUNIT_CASE(lazy_window_move_drops_idle_binding),
	KUNIT_CASE(lazy_reclaim_disarms_binding_in_use),
	KUNIT_CASE(lazy_reclaim_retires_all_or_none),
	KUNIT_CASE_SLOW(lazy_wake_up_races_reclaim),
	KUNIT_CASE(fast_wakes_idle_binding),
	KUNIT_CASE(fast_shares_binding_in_use),
	KUNIT_CASE(fast_skips_binding_out_of_domain),
	KUNIT_CASE(fast_refuses_unreachable_iova),
	KUNIT_CASE_SLOW(fast_wake_races_sweep),
	KUNIT_CASE_SLOW(fast_wake_races_reclaim),
	KUNIT_CASE(sw_window_move_and_reset),
	KUNIT_CASE(sw_window_driver_size),
	KUNIT_CASE(sw_window_bad_input),
	KUNIT_CASE(sw_window_blocked_msis_follow),
	KUNIT_CASE(sw_window_switch_to_driver_window_refused),
	KUNIT_CASE_SLOW(stress_one_domain),
	KUNIT_CASE_SLOW(stress_two_domains),
	{}
};

static struct kunit_suite iommu_msi_cookie_test_suite = {
	.name		= "iommu_msi_cookie",
	.init		= iommu_msi_test_init,
	.test_cases	= iommu_msi_cookie_test_cases,
};

#if IS_ENABLED(CONFIG_IOMMU_MSI_COOKIE_KUNIT_BENCH)
/*
 * Microbenchmarks, not tests: make bench runs them on a kernel without the
 * KUnit suite's debug options, and prints the figures. Times come from
 * ktime_get_ns() around many operations.
 */
#define BENCH_COMPOSES		1000000
#define BENCH_PREPARES		20000
#define BENCH_MS		500
#define BENCH_MAX_DBS		256

/*
 * What 6.12's dma-iommu did to compose, as the reference: the same two
 * fields of the descriptor, the IOVA page and the offset kept. Out of line
 * like the real one, which lives in another object.
 */
static noinline void bench_compose_6_12(const struct msi_desc *desc,
					struct msi_msg *msg)
{
	unsigned int shift = desc->iommu_msi_shift;
	u64 page;

	if (shift) {
		page = (u64)desc->iommu_msi_iova << shift;
		msg->address_lo = lower_32_bits(page) |
				  (msg->address_lo & ((1U << shift) - 1));
		msg->address_hi = upper_32_bits(page);
	}
}

/* Composing is idempotent: the page offset survives each call. */
static u64 bench_compose_loop(const struct msi_desc *desc,
			      void (*compose)(const struct msi_desc *desc,
					      struct msi_msg *msg),
			      struct msi_msg *msg)
{
	unsigned int i;
	u64 t0;

	t0 = ktime_get_ns();
	for (i = 0; i < BENCH_COMPOSES; i++)
		compose(desc, msg);
	return ktime_get_ns() - t0;
}

static void bench_compose(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	struct msi_msg ours = {
		.address_lo = lower_32_bits(mock_db(0)),
		.address_hi = upper_32_bits(mock_db(0)),
	};
	struct msi_msg ref = ours;
	u64 t_ours, t_ref;

	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	/* Alternate, so that both see the same machine. */
	t_ref = bench_compose_loop(desc, bench_compose_6_12, &ref);
	t_ours = bench_compose_loop(desc, iommu_msi_compose, &ours);
	t_ref += bench_compose_loop(desc, bench_compose_6_12, &ref);
	t_ours += bench_compose_loop(desc, iommu_msi_compose, &ours);
	KUNIT_EXPECT_EQ(test, msg_addr(&ours), MOCK_WIN_BASE + MOCK_DB_OFF);
	KUNIT_EXPECT_EQ(test, msg_addr(&ours), msg_addr(&ref));
	kunit_info(test, "bench: compose %llu ps/op, 6.12's %llu ps/op, ratio %llu.%03llu\n",
		   div_u64(t_ours * 1000, 2 * BENCH_COMPOSES),
		   div_u64(t_ref * 1000, 2 * BENCH_COMPOSES),
		   div_u64(t_ours, t_ref),
		   div_u64((t_ours % t_ref) * 1000, t_ref));
}

/*
 * Prepare and release of an MSI whose doorbell is already mapped, with
 * @nr doorbells in the cookie: the lookup must not grow with @nr.
 */
static void bench_prepare_mapped(struct kunit *test)
{
	static const unsigned int nrs[] = { 1, 16, BENCH_MAX_DBS };
	struct mock_domain *md = mock_window(test, SZ_4K, BENCH_MAX_DBS);
	struct msi_desc *pin[BENCH_MAX_DBS], *desc = new_desc(test);
	unsigned int i, n = 0, k, fast = 0;
	u64 t0, t1;

	for (k = 0; k < ARRAY_SIZE(nrs); k++) {
		for (; n < nrs[k]; n++) {
			pin[n] = new_desc(test);
			KUNIT_ASSERT_EQ(test, mock_prepare(md, pin[n],
							   mock_db(n)), 0);
		}
		t0 = ktime_get_ns();
		for (i = 0; i < BENCH_PREPARES; i++) {
			/* The last doorbell mapped: the deepest lookup. */
			mock_prepare(md, desc, mock_db(n - 1));
			iommu_msi_release(desc);
		}
		t0 = ktime_get_ns() - t0;
		t1 = ktime_get_ns();
		for (i = 0; i < BENCH_PREPARES; i++) {
			/* Without the group mutex: bind_fast(). */
			fast += !iommu_msi_prepare(desc, mock_db(n - 1)) &&
				desc_shift(desc);
			iommu_msi_release(desc);
		}
		t1 = ktime_get_ns() - t1;
		KUNIT_EXPECT_EQ(test, mock_count(md), n);
		kunit_info(test, "bench: prepare+release of a mapped doorbell, %u doorbells: %llu ns/op, %llu without the group mutex\n",
			   n, div_u64(t0, BENCH_PREPARES),
			   div_u64(t1, BENCH_PREPARES));
	}
	KUNIT_EXPECT_EQ(test, fast, (unsigned int)ARRAY_SIZE(nrs) * BENCH_PREPARES);
}

/*
 * One MSI set up and freed, as a VMM does when the guest toggles a vector:
 * the device's binding goes idle and wakes up each time, the doorbell stays
 * mapped (lazily unmapped).
 */
static void bench_single_msi_cycle(struct kunit *test)
{
	struct mock_domain *md = mock_window(test, SZ_4K, 4);
	struct msi_desc *desc = new_desc(test);
	unsigned int i, fast = 0;
	u64 t0, t1;

	set_idle_ms(test, 60000);
	KUNIT_ASSERT_EQ(test, mock_prepare(md, desc, mock_db(0)), 0);
	iommu_msi_release(desc);
	t0 = ktime_get_ns();
	for (i = 0; i < BENCH_PREPARES; i++) {
		mock_prepare(md, desc, mock_db(0));
		iommu_msi_release(desc);
	}
	t0 = ktime_get_ns() - t0;
	t1 = ktime_get_ns();
	for (i = 0; i < BENCH_PREPARES; i++) {
		fast += !iommu_msi_prepare(desc, mock_db(0)) && desc_shift(desc);
		iommu_msi_release(desc);
	}
	t1 = ktime_get_ns() - t1;
	KUNIT_EXPECT_EQ(test, atomic_read(&md->maps), 1);
	KUNIT_EXPECT_EQ(test, fast, BENCH_PREPARES);
	kunit_info(test, "bench: prepare+release of the only MSI of a doorbell left mapped: %llu ns/op, %llu without the group mutex\n",
		   div_u64(t0, BENCH_PREPARES), div_u64(t1, BENCH_PREPARES));
}

struct bench_thread {
	struct mock_domain	*md;
	struct msi_desc		*desc;
	phys_addr_t		doorbell;
	u64			ops;
	struct task_struct	*task;
};

static int bench_worker(void *data)
{
	struct bench_thread *bt = data;

	while (!kthread_should_stop()) {
		if (!mock_prepare(bt->md, bt->desc, bt->doorbell))
			iommu_msi_release(bt->desc);
		bt->ops++;
		cond_resched();
	}
	return 0;
}

/* Prepare/release throughput of @nr threads, each on its own domain. */
static void bench_throughput(struct kunit *test, unsigned int nr)
{
	struct bench_thread *bt;
	struct msi_desc *pin;
	unsigned int i;
	u64 total = 0;

	bt = kunit_kcalloc(test, nr, sizeof(*bt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bt);
	for (i = 0; i < nr; i++) {
		bt[i].md = mock_window(test, SZ_4K, 4);
		bt[i].doorbell = mock_db(i);
		/* A device each: each has its own bindings. */
		bt[i].desc = new_desc_for(test, new_dev(test, i ? "msi-bench-1" :
							 "msi-bench-0"));
		pin = new_desc(test);
		KUNIT_ASSERT_EQ(test, mock_prepare(bt[i].md, pin,
						   bt[i].doorbell), 0);
	}
	for (i = 0; i < nr; i++) {
		bt[i].task = kthread_run(bench_worker, &bt[i], "msi-bench/%u",
					 i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(bt[i].task));
	}
	msleep(BENCH_MS);
	for (i = 0; i < nr; i++) {
		kthread_stop(bt[i].task);
		total += bt[i].ops;
	}
	KUNIT_EXPECT_GT(test, total, 0);
	kunit_info(test, "bench: prepare+release throughput, %u thread(s) on %u domain(s): %llu ops/s\n",
		   nr, nr, div_u64(total * 1000, BENCH_MS));
}

static void bench_throughput_1(struct kunit *test)
{
	bench_throughput(test, 1);
}

static void bench_throughput_2(struct kunit *test)
{
	bench_throughput(test, 2);
}

/*
 * Memory: ours, and stock 6.12's dma-iommu MSI page (a list_head, an IOVA
 * and a physical address per doorbell page and domain; its cookie's MSI
 * part is a list_head and an IOVA cursor).
 */
static void bench_sizes(struct kunit *test)
{
	struct {
		struct list_head	list;
		dma_addr_t		iova;
		phys_addr_t		phys;
	} stock_page;
	size_t stock_cookie = sizeof(struct list_head) + sizeof(dma_addr_t);

	kunit_info(test, "bench: bytes per cookie: ours %zu (+ %zu per shared window), stock %zu (in its DMA cookie)\n",
		   sizeof(struct iommu_msi_cookie),
		   sizeof(struct iommu_msi_window), stock_cookie);
	kunit_info(test, "bench: bytes per doorbell and domain: ours %zu (+ %zu per window slot), stock %zu\n",
		   sizeof(struct iommu_msi_doorbell),
		   sizeof(struct iommu_msi_slot), sizeof(stock_page));
	kunit_info(test, "bench: bytes per device and doorbell page: ours %zu, stock 0\n",
		   sizeof(struct iommu_msi_binding));
	KUNIT_EXPECT_GT(test, sizeof(struct iommu_msi_doorbell), 0);
}

static struct kunit_case iommu_msi_cookie_bench_cases[] = {
	KUNIT_CASE(bench_compose),
	KUNIT_CASE(bench_prepare_mapped),
	KUNIT_CASE(bench_single_msi_cycle),
	KUNIT_CASE(bench_throughput_1),
	KUNIT_CASE(bench_throughput_2),
	KUNIT_CASE(bench_sizes),
	{}
};

static struct kunit_suite iommu_msi_cookie_bench_suite = {
	.name		= "iommu_msi_cookie_bench",
	.init		= iommu_msi_test_init,
	.test_cases	= iommu_msi_cookie_bench_cases,
};

kunit_test_suites(&iommu_msi_cookie_test_suite,
		  &iommu_msi_cookie_bench_suite);
#else
kunit_test_suite(iommu_msi_cookie_test_suite);
#endif

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for IOMMU MSI cookies");
MODULE_LICENSE("GPL");
