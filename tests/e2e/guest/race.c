// SPDX-License-Identifier: GPL-2.0
/*
 * The "iommufd-race" check: edu under iommufd moves between IOAS A and
 * IOAS B while its MSI is set up, fired and torn down.
 *
 * first-attach, reattach: MSI is enabled while the device is bound but not
 *   attached; the attach to A must install the doorbell, and so must a
 *   detach and an attach to B.
 * baseline: MSI on, one thread replaces A <-> B as fast as it can while
 *   this one fires MSIs one at a time.  The SMMUv3 driver loses an MSI
 *   now and then during a switch on its own (C_BAD_CD, event 0x0a);
 *   run.sh matches the MSIs lost here and in "race" against those events.
 * race: the switcher also detaches and re-attaches every few switches
 *   while this thread enables MSI, fires one, waits and disables it.  An
 *   MSI is excused for not arriving only if a detach overlapped the time
 *   from the fire to the end of the wait.  edu sends the MSI within the
 *   write that raises it, so an excused MSI whose write saw no detach went
 *   through a domain and is counted apart (excused_fired_attached): run.sh
 *   wants a C_BAD_CD event for it too.
 * msi, dma, debugfs: afterwards MSIs and DMA work, and disabling MSI takes
 *   the doorbell out of the device's cookie.
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

#include "checks.h"
#include "edu.h"
#include "vfio_tests.h"

#define FIRST_MSIS		50
#define BASELINE_SECS		5
#define RACE_SECS		20
#define AFTER_MSIS		200
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
	e2e_log("%s: %s; no pacing on SMMU events", KMSG_PATH,
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

static void run_baseline(struct check *c, struct race *r)
{
	uint64_t end, count;
	unsigned int bound;
	bool attached;
	pthread_t t;
	int ret;

	race_reset(r, false);
	if (vfio_dev_msi_enable(r->d) || start_switcher(r, &t)) {
		check_report(c, "baseline", false, "%s", last_error());
		return;
	}
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
	if (!vfio_dev_msi_wait(r->d, LATE_WAIT_MS, &count))
		r->arrived += (unsigned int)count;
	r->lost = r->fired > r->arrived ? r->fired - r->arrived : 0;
	bound = loss_bound(r);
	info_log("race.baseline",
		 "switches=%u fired=%u arrived=%u late=%u lost=%u paused_ms=%llu bound=%u errors=%d",
		 r->switches, r->fired, r->arrived, r->late, r->lost,
		 (unsigned long long)r->paused_ms, bound,
		 !!(r->sw_err || r->msi_err));
	check_report(c, "baseline",
		     !r->sw_err && !r->msi_err && r->switches && r->fired &&
		     r->lost <= bound,
		     "%u replaces A<->B with MSI on, %u MSIs fired: %u arrived (%u late), %u lost (bound %u)%s%s",
		     r->switches, r->fired, r->arrived, r->late, r->lost, bound,
		     err_who(r), err_msg(r));
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

static void run_race(struct check *c, struct race *r)
{
	uint64_t end, start;
	unsigned int bound;
	pthread_t t;
	bool fire;
	int ret;

	race_reset(r, true);
	if (vfio_dev_msi_disable(r->d) || start_switcher(r, &t)) {
		check_report(c, "race", false, "%s", last_error());
		return;
	}
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
	bound = loss_bound(r);
	info_log("race.race",
		 "cycles=%u fired=%u arrived=%u late=%u lost_attached=%u lost_detached=%u excused_fired_attached=%u switches=%u detaches=%u paused_ms=%llu bound=%u errors=%d",
		 r->cycles, r->fired, r->arrived, r->late, r->lost,
		 r->lost_det, r->lost_det_fa, r->switches, r->detaches,
		 (unsigned long long)r->paused_ms, bound,
		 !!(r->sw_err || r->msi_err));
	check_report(c, "race",
		     !r->sw_err && !r->msi_err && r->cycles && r->switches &&
		     r->detaches && r->lost + r->lost_det_fa <= bound,
		     "%u MSI enable/fire/disable cycles against %u replaces and %u detaches: %u/%u arrived (%u late), %u lost while attached, %u while detached (%u of them fired attached; bound %u on those and the former)%s%s",
		     r->cycles, r->switches, r->detaches, r->arrived, r->fired,
		     r->late, r->lost, r->lost_det, r->lost_det_fa, bound,
		     err_who(r), err_msg(r));
}

/* FIRST_MSIS MSIs (MSI already on) as subcheck sub; true if all came. */
static bool fire_phase(struct check *c, const char *sub, struct vfio_dev *d,
		       const char *what)
{
	unsigned int got = 0;
	bool ok;
	int ret;

	ret = edu_fire_msis(d, FIRST_MSIS, &got);
	ok = !ret && got == FIRST_MSIS;
	check_report(c, sub, ok, "%s: %u/%u MSIs delivered%s%s", what, got,
		     FIRST_MSIS, ret ? ": " : "", ret ? last_error() : "");
	return ok;
}

/* Bound, MSI on, then the first attach (A) and a detach + attach (B). */
static bool first_attach(struct check *c, struct iommufd_dev *x,
			 struct vfio_dev *d, const uint32_t *ioas)
{
	if (vfio_dev_msi_enable(d)) {
		check_setup_fail(c, "%s", last_error());
		return false;
	}
	e2e_log("%s: MSI enabled before any attach", d->bdf);
	if (iommufd_attach_pt(x, ioas[0])) {
		check_report(c, "first-attach", false, "%s", last_error());
		return false;
	}
	if (!fire_phase(c, "first-attach", d,
			"MSI enabled unattached, then attached to IOAS A"))
		return false;
	if (iommufd_detach_pt(x) || iommufd_attach_pt(x, ioas[1])) {
		check_report(c, "reattach", false, "%s", last_error());
		return false;
	}
	return fire_phase(c, "reattach", d,
			  "MSI still on, detached from A, attached to IOAS B");
}

static const char *const race_subs[] = {
	"first-attach", "reattach", "baseline", "race", "msi", "dma",
	"debugfs", NULL
};

void check_iommufd_race(const struct e2e_opts *o)
{
	struct iommufd_dev x = { .iommufd = -1, .devfd = -1 };
	struct ioas_ctx ic[2] = { { .iommufd = -1 }, { .iommufd = -1 } };
	struct vfio_dev d = { .fd = -1, .efd = -1 };
	struct vt_debugfs v = { .any_cookie = true };
	struct race r = { .x = &x, .d = &d, .kmsg = -1 };
	uint8_t *buf[2] = { NULL, NULL };
	char bdf[BDF_LEN];
	struct check c;
	int i;

	check_begin(&c, "iommufd-race", race_subs);
	if (pci_find_id(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, bdf)) {
		check_setup_fail(&c, "no edu device (%04x:%04x)",
				 PCI_VENDOR_QEMU, PCI_DEVICE_EDU);
		goto out;
	}
	if (iommufd_open(&x, bdf, !o->isolated)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	/* Each IOAS gets a buffer of its own at the same IOVA. */
	for (i = 0; i < 2; i++) {
		ic[i].iommufd = x.iommufd;
		buf[i] = anon_alloc(DMA_BUF_SIZE);
		if (!buf[i] || ioas_alloc(x.iommufd, &ic[i].ioas) ||
		    map_dma_buf(&ic[i], buf[i])) {
			check_setup_fail(&c, "%s", last_error());
			goto out;
		}
		r.ioas[i] = ic[i].ioas;
	}
	/* Memory decode and bus master before any attach. */
	if (vfio_dev_init(&d, x.devfd, bdf) || edu_check_id(&d)) {
		check_setup_fail(&c, "%s", last_error());
		goto out;
	}
	if (!first_attach(&c, &x, &d, r.ioas))
		goto out;

	events_open(&r);
	x.quiet = true;
	d.quiet = true;
	run_baseline(&c, &r);
	run_race(&c, &r);
	x.quiet = false;
	d.quiet = false;
	if (r.kmsg >= 0)
		close(r.kmsg);
	if (!x.ioas) {
		check_setup_fail(&c, "the race left the device detached");
		goto out;
	}
	e2e_log("%s: attached to IOAS %u after the race", bdf, x.ioas);
	vt_fire(&c, "msi", &d, AFTER_MSIS);
	vt_debugfs_on(&c, &v, &d, o);
	vt_dma(&c, &d, buf[x.ioas == ic[1].ioas], DMA_BUF_IOVA);
out:
	/* d.fd is x.devfd: iommufd_close() closes it. */
	vt_release(&c, &v, &d);
	x.quiet = false;
	if (x.ioas)
		iommufd_detach_pt(&x);
	for (i = 0; i < 2; i++) {
		if (ic[i].ioas)
			iommufd_destroy(x.iommufd, ic[i].ioas);
		anon_free(buf[i], DMA_BUF_SIZE);
	}
	iommufd_close(&x);
	check_end(&c);
}
