// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's edu device under iommufd moves between IOAS A and IOAS B while
 * its MSI is set up, fired and torn down.
 *
 * first_attach: MSI is enabled while the device is bound but not
 *   attached; the attach to A must install the doorbell, and so must a
 *   detach and an attach to B.
 * baseline: MSI on, one thread replaces A <-> B as fast as it can while
 *   this one fires MSIs one at a time.  The SMMUv3 driver loses an MSI
 *   now and then during a switch on its own (C_BAD_CD, event 0x0a); the
 *   "# INFO race.*" lines give the figures for a runner to match the MSIs
 *   lost here and in "race" against those events in the kernel log.
 * race: the switcher also detaches and re-attaches every few switches
 *   while this thread enables MSI, fires one, waits and disables it.  An
 *   MSI is excused for not arriving only if a detach overlapped the time
 *   from the fire to the end of the wait.  edu sends the MSI within the
 *   write that raises it, so an excused MSI whose write saw no detach went
 *   through a domain and is counted apart (excused_fired_attached).
 *   Afterwards MSIs and DMA work, and disabling MSI takes the doorbell out
 *   of the device's cookie.
 *
 * The SMMUv3 driver prints at most 10 events per 5 s.  The MSI side
 * follows /dev/kmsg and fires no MSI (the switcher goes on, and so do
 * the race's MSI enable/disable cycles) while EVENT_BURST SMMU events
 * came within EVENT_WINDOW_MS, so that every event is printed for run.sh
 * to count.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "debugfs_msi.h"
#include "edu.h"
#include "msi_test.h"
#include "pci.h"
#include "platform.h"
#include "util.h"
#include "vfio_lib.h"

#define FIRST_MSIS		50
#define BASELINE_SECS		5
#define RACE_SECS		20
#define MSI_WAIT_MS		50	/* an MSI not seen by then is late... */
#define LATE_WAIT_MS		200	/* ...and lost if not seen by then */
#define DETACH_EVERY		8	/* race: every 8th switch detaches */
#define EVENT_BURST		8	/* SMMU events seen in the kernel log... */
#define EVENT_WINDOW_MS		6000	/* ...in any 6 s, at most */
#define PACE_SLEEP_MS		10
#define KMSG_PATH		"/dev/kmsg"
#define KMSG_REC_LEN		2048
/* Guest-side bound on MSIs lost while attached; run.sh judges exactly. */
#define LOSS_BOUND_MIN		10
#define LOSS_BOUND_FIRED	10	/* one more per this many MSIs fired */

struct race {
	struct iommufd_dev *x;
	struct vfio_dev *d;
	uint32_t ioas[2];
	bool detach;		/* the switcher detaches now and then */
	atomic_bool stop;
	atomic_uint seq;	/* odd while a detach..attach is under way */
	/* Written by the switcher thread, read after it is joined. */
	unsigned int switches, detaches;
	int sw_err;
	char sw_msg[MSG_LEN];
	/* Written by the MSI side (the check's own thread). */
	unsigned int cycles, fired, arrived, late, lost, lost_det;
	unsigned int lost_det_fa;	/* excused, but fired attached */
	uint64_t paused_ms;
	int kmsg;			/* /dev/kmsg at its end, or -1 */
	uint64_t event_at[EVENT_BURST];	/* ring: when the last events came */
	unsigned int event_next;
	int msi_err;
	char msi_msg[MSG_LEN];
};

enum { MSI_MISSING, MSI_ON_TIME, MSI_LATE };

static void race_reset(struct race *r, bool detach)
{
	r->detach = detach;
	atomic_store(&r->stop, false);
	r->switches = 0;
	r->detaches = 0;
	r->cycles = 0;
	r->fired = 0;
	r->arrived = 0;
	r->late = 0;
	r->lost = 0;
	r->lost_det = 0;
	r->lost_det_fa = 0;
	r->paused_ms = 0;
}

/* Follow the kernel log from its end on; without it, no pacing. */
static void events_open(struct race *r)
{
	r->kmsg = open(KMSG_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (r->kmsg >= 0 && lseek(r->kmsg, 0, SEEK_END) >= 0)
		return;
	msi_log("%s: %s; no pacing on SMMU events", KMSG_PATH,
		strerror(errno));
	if (r->kmsg >= 0)
		close(r->kmsg);
	r->kmsg = -1;
}

/* Note the time of each SMMU event printed since the last call. */
static void events_poll(struct race *r)
{
	char rec[KMSG_REC_LEN];
	ssize_t n;

	while (r->kmsg >= 0) {
		n = read(r->kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on */
		if (n <= 0)
			return;
		rec[n] = '\0';
		if (strstr(rec, "arm-smmu-v3") && strstr(rec, ": event 0x"))
			r->event_at[r->event_next++ % EVENT_BURST] = now_ms();
	}
}

/* False while EVENT_BURST SMMU events are recent: fire no MSI now. */
static bool events_allow(struct race *r)
{
	uint64_t oldest;

	events_poll(r);
	oldest = r->event_at[r->event_next % EVENT_BURST];
	return !oldest || now_ms() >= oldest + EVENT_WINDOW_MS;
}

static unsigned int loss_bound(const struct race *r)
{
	return LOSS_BOUND_MIN + r->fired / LOSS_BOUND_FIRED;
}

/* Detach, then attach to IOAS "to"; seq is odd in between. */
static int detach_attach(struct race *r, uint32_t to)
{
	int ret;

	atomic_fetch_add(&r->seq, 1);
	ret = iommufd_detach_pt(r->x);
	if (!ret) {
		r->detaches++;
		ret = iommufd_attach_pt(r->x, to);
	}
	atomic_fetch_add(&r->seq, 1);
	return ret;
}

static void *switcher(void *arg)
{
	struct race *r = arg;
	unsigned int i;
	int ret;

	for (i = 1; !atomic_load(&r->stop); i++) {
		if (r->detach && !(i % DETACH_EVERY)) {
			/* Alternate the IOAS the device comes back to. */
			ret = detach_attach(r, r->ioas[r->detaches % 2]);
		} else {
			ret = iommufd_attach_pt(r->x,
						r->ioas[r->x->ioas == r->ioas[0]]);
			if (!ret)
				r->switches++;
		}
		if (ret) {
			r->sw_err = ret;
			snprintf(r->sw_msg, sizeof(r->sw_msg), "%s",
				 last_error());
			atomic_store(&r->stop, true);
		}
	}
	return NULL;
}

static void msi_error(struct race *r, int err)
{
	r->msi_err = err;
	snprintf(r->msi_msg, sizeof(r->msi_msg), "%s", last_error());
	atomic_store(&r->stop, true);
}

/* True if a detach was under way at s1 or began or ended since then. */
static bool detach_overlapped(struct race *r, unsigned int s1)
{
	return (s1 & 1) || atomic_load(&r->seq) != s1;
}

/*
 * Fire one MSI and wait for it; the longer wait only when no detach
 * excuses it anyway.  *count gets the eventfd count, *attached whether
 * no detach overlapped the raise (the MSI write).  MSI_MISSING,
 * MSI_ON_TIME, MSI_LATE or -errno.
 */
static int fire_one(struct race *r, unsigned int s1, uint64_t *count,
		    bool *attached)
{
	int ret, got = MSI_ON_TIME;

	*count = 0;
	ret = edu_raise(r->d);
	*attached = !detach_overlapped(r, s1);
	if (ret)
		return ret;
	ret = vfio_dev_msi_wait(r->d, MSI_WAIT_MS, count);
	if (ret == -ETIMEDOUT && !detach_overlapped(r, s1)) {
		got = MSI_LATE;
		ret = vfio_dev_msi_wait(r->d, LATE_WAIT_MS, count);
	}
	if (ret == -ETIMEDOUT)
		got = MSI_MISSING;
	else if (ret)
		return ret;
	ret = edu_ack(r->d, NULL);
	return ret ? ret : got;
}

static int start_switcher(struct race *r, pthread_t *t)
{
	int ret;

	r->sw_err = 0;
	r->msi_err = 0;
	ret = pthread_create(t, NULL, switcher, r);
	if (ret)
		return err_ret(-ret, "pthread_create");
	return 0;
}

static void stop_switcher(struct race *r, pthread_t t)
{
	atomic_store(&r->stop, true);
	pthread_join(t, NULL);
}

/* The first error of either thread as "; <who>: <error>", or "". */
static const char *err_who(const struct race *r)
{
	return r->sw_err ? "; switcher: " : r->msi_err ? "; MSI side: " : "";
}

static const char *err_msg(const struct race *r)
{
	return r->sw_err ? r->sw_msg : r->msi_err ? r->msi_msg : "";
}

/* Enable MSI, fire one (if fire), wait for it, disable MSI. */
static int race_cycle(struct race *r, bool fire)
{
	uint64_t count;
	unsigned int s1;
	bool attached;
	int ret, off;

	ret = vfio_dev_msi_enable(r->d);
	if (ret)
		return ret;
	s1 = atomic_load(&r->seq);
	ret = fire ? fire_one(r, s1, &count, &attached) : -ENODATA;
	if (ret >= 0) {
		r->fired++;
		if (ret != MSI_MISSING) {
			r->arrived++;
		} else if (!detach_overlapped(r, s1)) {
			r->lost++;
		} else {
			r->lost_det++;
			r->lost_det_fa += attached;
		}
		r->late += ret == MSI_LATE;
	}
	off = vfio_dev_msi_disable(r->d);
	r->cycles++;
	return ret < 0 && ret != -ENODATA ? ret : off;
}

FIXTURE(vfio_race) {
	char bdf[BDF_LEN];
	struct msi_expect e;
	struct msi_vfio v;
	struct ioas_ctx ic[2];
	uint8_t *buf[2];
	struct race r;
	char msg[MSG_LEN];
	char log[LOG_LEN];
};

/*
 * edu bound to /dev/iommu, in no IOAS, its fd set up (memory decode, bus
 * master); IOAS A and B each with a buffer of its own at DMA_BUF_IOVA.
 */
FIXTURE_SETUP(vfio_race)
{
	int i, ret;

	self->r.kmsg = -1;
	ret = msi_edu_vfio_setup(self->bdf, &self->e);
	if (ret == 1)
		SKIP(return, "%s", last_error());
	ASSERT_EQ(0, ret) TH_LOG("%s", last_error());
	ret = msi_vfio_bind(&self->v, self->bdf, self->e.isolated);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "iommufd: %s", last_error());
	ASSERT_EQ(0, ret) TH_LOG("%s", last_error());
	for (i = 0; i < 2; i++) {
		self->ic[i].iommufd = self->v.x.iommufd;
		self->buf[i] = anon_alloc(DMA_BUF_SIZE);
		ASSERT_TRUE(!!self->buf[i]);
		ASSERT_EQ(0, ioas_alloc(self->v.x.iommufd, &self->ic[i].ioas))
			TH_LOG("%s", last_error());
		ASSERT_EQ(0, map_dma_buf(&self->ic[i], self->buf[i]))
			TH_LOG("%s", last_error());
		self->r.ioas[i] = self->ic[i].ioas;
	}
	self->r.x = &self->v.x;
	self->r.d = &self->v.d;
}

FIXTURE_TEARDOWN(vfio_race)
{
	int i;

	if (self->r.kmsg >= 0)
		close(self->r.kmsg);
	vfio_dev_msi_disable(&self->v.d);
	self->v.x.quiet = false;
	if (self->v.x.ioas)
		iommufd_detach_pt(&self->v.x);
	for (i = 0; i < 2; i++) {
		if (self->ic[i].ioas)
			iommufd_destroy(self->v.x.iommufd, self->ic[i].ioas);
		anon_free(self->buf[i], DMA_BUF_SIZE);
	}
	msi_vfio_close(&self->v);
}

/* FIRST_MSIS MSIs, MSI already on; 0 or -errno, *got delivered. */
static int fire_phase(struct vfio_dev *d, unsigned int *got)
{
	return edu_fire_msis(d, FIRST_MSIS, got);
}

/*
 * MSI on while the device is in no IOAS; then the first attach (A) and a
 * detach + attach (B) must each bring the doorbell along.
 */
TEST_F(vfio_race, first_attach)
{
	struct iommufd_dev *x = &self->v.x;
	unsigned int got = 0;

	ASSERT_EQ(0, vfio_dev_msi_enable(&self->v.d)) TH_LOG("%s", last_error());
	TH_LOG("%s: MSI enabled before any attach", self->bdf);
	ASSERT_EQ(0, iommufd_attach_pt(x, self->ic[0].ioas))
		TH_LOG("%s", last_error());
	EXPECT_EQ(0, fire_phase(&self->v.d, &got)) TH_LOG("%s", last_error());
	TH_LOG("MSI enabled unattached, then attached to IOAS A: %u/%u MSIs delivered",
	       got, FIRST_MSIS);
	ASSERT_EQ(FIRST_MSIS, got);
	ASSERT_EQ(0, iommufd_detach_pt(x)) TH_LOG("%s", last_error());
	ASSERT_EQ(0, iommufd_attach_pt(x, self->ic[1].ioas))
		TH_LOG("%s", last_error());
	EXPECT_EQ(0, fire_phase(&self->v.d, &got)) TH_LOG("%s", last_error());
	TH_LOG("MSI still on, detached from A, attached to IOAS B: %u/%u MSIs delivered",
	       got, FIRST_MSIS);
	EXPECT_EQ(FIRST_MSIS, got);
}

/* MSI on; replaces A <-> B as fast as they go against single MSIs. */
TEST_F_TIMEOUT(vfio_race, baseline, 60)
{
	struct race *r = &self->r;
	uint64_t end, count;
	unsigned int bound;
	bool attached;
	pthread_t t;
	int ret;

	ASSERT_EQ(0, iommufd_attach_pt(&self->v.x, self->ic[0].ioas))
		TH_LOG("%s", last_error());
	ASSERT_EQ(0, vfio_dev_msi_enable(&self->v.d)) TH_LOG("%s", last_error());
	race_reset(r, false);
	events_open(r);
	self->v.x.quiet = true;
	ASSERT_EQ(0, start_switcher(r, &t)) TH_LOG("%s", last_error());
	end = now_ms() + BASELINE_SECS * 1000ULL;
	while (!atomic_load(&r->stop) && now_ms() < end) {
		if (!events_allow(r)) {
			sleep_ms(PACE_SLEEP_MS);
			r->paused_ms += PACE_SLEEP_MS;
			continue;
		}
		ret = fire_one(r, atomic_load(&r->seq), &count, &attached);
		if (ret < 0) {
			msi_error(r, ret);
			break;
		}
		r->fired++;
		r->arrived += (unsigned int)count;
		r->late += ret == MSI_LATE;
	}
	stop_switcher(r, t);
	/* Anything still in flight is counted, not lost. */
	if (!vfio_dev_msi_wait(&self->v.d, LATE_WAIT_MS, &count))
		r->arrived += (unsigned int)count;
	r->lost = r->fired > r->arrived ? r->fired - r->arrived : 0;
	bound = loss_bound(r);
	info_log("race.baseline",
		 "switches=%u fired=%u arrived=%u late=%u lost=%u paused_ms=%llu bound=%u errors=%d",
		 r->switches, r->fired, r->arrived, r->late, r->lost,
		 (unsigned long long)r->paused_ms, bound,
		 !!(r->sw_err || r->msi_err));
	LOG_MSG(self->log,
		"%u replaces A<->B with MSI on, %u MSIs fired: %u arrived (%u late), %u lost (bound %u)%s%s",
		r->switches, r->fired, r->arrived, r->late, r->lost, bound,
		err_who(r), err_msg(r));
	EXPECT_EQ(0, r->sw_err);
	EXPECT_EQ(0, r->msi_err);
	EXPECT_LT(0u, r->switches);
	EXPECT_LT(0u, r->fired);
	EXPECT_GE(bound, r->lost);
}

/*
 * Replaces and detaches against MSI enable/fire/disable cycles; then MSIs
 * and DMA work, and the doorbell is listed until MSI is off.
 */
TEST_F_TIMEOUT(vfio_race, race, 120)
{
	struct iommufd_dev *x = &self->v.x;
	struct race *r = &self->r;
	unsigned int bound, got = 0;
	uint64_t end, start;
	char off[MSG_LEN];
	pthread_t t;
	bool fire;
	int ret;

	ASSERT_EQ(0, iommufd_attach_pt(x, self->ic[0].ioas))
		TH_LOG("%s", last_error());
	race_reset(r, true);
	events_open(r);
	x->quiet = true;
	self->v.d.quiet = true;
	ASSERT_EQ(0, start_switcher(r, &t)) TH_LOG("%s", last_error());
	end = now_ms() + RACE_SECS * 1000ULL;
	while (!atomic_load(&r->stop) && now_ms() < end) {
		/* Paced: MSI on and off without a fire. */
		start = now_ms();
		fire = events_allow(r);
		ret = race_cycle(r, fire);
		if (ret)
			msi_error(r, ret);
		if (!fire)
			r->paused_ms += now_ms() - start;
	}
	stop_switcher(r, t);
	x->quiet = false;
	self->v.d.quiet = false;
	bound = loss_bound(r);
	info_log("race.race",
		 "cycles=%u fired=%u arrived=%u late=%u lost_attached=%u lost_detached=%u excused_fired_attached=%u switches=%u detaches=%u paused_ms=%llu bound=%u errors=%d",
		 r->cycles, r->fired, r->arrived, r->late, r->lost,
		 r->lost_det, r->lost_det_fa, r->switches, r->detaches,
		 (unsigned long long)r->paused_ms, bound,
		 !!(r->sw_err || r->msi_err));
	LOG_MSG(self->log,
		"%u MSI enable/fire/disable cycles against %u replaces and %u detaches: %u/%u arrived (%u late), %u lost while attached, %u while detached (%u of them fired attached; bound %u on those and the former)%s%s",
		r->cycles, r->switches, r->detaches, r->arrived, r->fired,
		r->late, r->lost, r->lost_det, r->lost_det_fa, bound,
		err_who(r), err_msg(r));
	EXPECT_EQ(0, r->sw_err);
	EXPECT_EQ(0, r->msi_err);
	EXPECT_LT(0u, r->cycles);
	EXPECT_LT(0u, r->switches);
	EXPECT_LT(0u, r->detaches);
	EXPECT_GE(bound, r->lost + r->lost_det_fa);

	ASSERT_NE(0, x->ioas) TH_LOG("the race left the device detached");
	TH_LOG("%s: attached to IOAS %u after the race", self->bdf, x->ioas);
	EXPECT_EQ(0, vt_fire(&self->v.d, msi_count(), &got))
		TH_LOG("%s", last_error());
	EXPECT_EQ(msi_count(), got)
		TH_LOG("after the race %u/%u MSIs", got, msi_count());
	if (msi_debugfs_present())
		EXPECT_CHECK(vt_debugfs_on(&self->v.d, &self->e, true,
					   self->msg, sizeof(self->msg)),
			     self->msg);
	EXPECT_CHECK(vt_dma(&self->v.d,
			    self->buf[x->ioas == self->ic[1].ioas],
			    DMA_BUF_IOVA, self->msg, sizeof(self->msg)),
		     self->msg);
	ASSERT_EQ(0, vfio_dev_msi_disable(&self->v.d));
	if (msi_debugfs_present())
		EXPECT_CHECK(vt_debugfs_off(&self->e, off, sizeof(off)), off);
}

TEST_HARNESS_MAIN
