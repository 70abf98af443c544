// SPDX-License-Identifier: GPL-2.0
/*
 * MSI path benchmark, run as /init under QEMU with -icount shift=0,sleep=off
 * and one CPU: guest time then counts instructions, so the same kernel
 * gives the same figures on every run, and two kernels can be compared.
 *
 * Prints one "BENCH <name> <ns> <unit>" line per measurement, then
 * "BENCH-DONE <n>", and powers off. Built against the kernel's uapi
 * headers; runs on stock 6.12 and on ours (nothing here needs our uAPI).
 *
 * Measured: a VFIO MSI enable + disable of edu's one vector, through
 * type1 and through iommufd; MSI-X enable + disable of N NVMe vectors
 * (per vector); an iommufd IOAS replace with edu's MSI live; and binding
 * the NVMe controller to its DMA-API driver with many I/O queues, also
 * counted in the instructions the binding task retires (the PMU).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/perf_event.h>
#include <linux/vfio.h>

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define EDU_ID		"0x11e8"
#define NVME_CLASS	"0x010802"
#define CYCLES		1000	/* enable + disable cycles per figure */
#define REPLACES	200
#define BINDS		5
#define MAX_VECTORS	64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int done;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("BENCH-ERROR ");
	vprintf(fmt, ap);
	printf(" (%s)\n", strerror(errno));
	va_end(ap);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void report(const char *name, uint64_t ns, unsigned long n,
		   const char *unit)
{
	printf("BENCH %s %llu %s\n", name, (unsigned long long)(ns / n), unit);
	fflush(stdout);
	done++;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The first PCI device whose @attr reads @want; false if none. */
static bool find_pci(const char *attr, const char *want, char *bdf)
{
	char path[256], val[64];
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(PCI_DEVICES);

	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", e->d_name,
			 attr);
		if (!read_str(path, val, sizeof(val)) && !strcmp(val, want)) {
			snprintf(bdf, 32, "%s", e->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void pci_set_driver(const char *bdf, const char *drv)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver/unbind", bdf);
	write_str(path, bdf);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", bdf);
	if (write_str(path, drv ? drv : "\n"))
		die("driver_override %s", bdf);
	if (drv && write_str("/sys/bus/pci/drivers_probe", bdf))
		die("drivers_probe %s for %s", bdf, drv);
}

static int open_path(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open %s", path);
	return fd;
}

/* The device fd of @bdf through VFIO type1 (a container per device). */
static int open_type1(const char *bdf, int *container)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[256], link[256];
	ssize_t n;
	int group, dev;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("iommu_group of %s", bdf);
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	group = open_path(path);
	*container = open_path("/dev/vfio/vfio");
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO type1 set-up of %s", bdf);
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD %s", bdf);
	close(group);
	return dev;
}

static uint32_t ioas_alloc(int iommufd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		die("IOMMU_IOAS_ALLOC");
	return a.out_ioas_id;
}

static void attach(int dev, uint32_t pt)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at), .pt_id = pt,
	};

	if (ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		die("VFIO_DEVICE_ATTACH_IOMMUFD_PT %u", pt);
}

/* The device fd of @bdf through its VFIO cdev, attached to a new IOAS. */
static int open_iommufd(const char *bdf, int *iommufd, uint32_t *ioas)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	char path[256], name[64] = "";
	struct dirent *e;
	DIR *d;
	int dev;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vfio-dev", bdf);
	d = opendir(path);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4))
			snprintf(name, sizeof(name), "%s", e->d_name);
	if (d)
		closedir(d);
	if (!name[0])
		die("no VFIO cdev for %s", bdf);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	dev = open_path(path);
	*iommufd = open_path("/dev/iommu");
	b.iommufd = *iommufd;
	if (ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b))
		die("VFIO_DEVICE_BIND_IOMMUFD %s", bdf);
	*ioas = ioas_alloc(*iommufd);
	attach(dev, *ioas);
	return dev;
}

/* Enable @n vectors of @index with eventfds, or disable it (n == 0). */
static void set_irqs(int dev, unsigned int index, unsigned int n,
		     const int *fds)
{
	struct {
		struct vfio_irq_set s;
		int32_t fds[MAX_VECTORS];
	} req = { 0 };

	req.s.argsz = sizeof(req.s) + n * sizeof(int32_t);
	req.s.index = index;
	req.s.start = 0;
	req.s.count = n;
	req.s.flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		      (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	memcpy(req.fds, fds, n * sizeof(int32_t));
	if (ioctl(dev, VFIO_DEVICE_SET_IRQS, &req))
		die("VFIO_DEVICE_SET_IRQS index %u count %u", index, n);
}

/* Enable + disable cycles of @n vectors; returns ns per cycle. */
static uint64_t irq_cycles(int dev, unsigned int index, unsigned int n,
			   unsigned int cycles)
{
	int fds[MAX_VECTORS];
	uint64_t t0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		if (fds[i] < 0)
			die("eventfd");
	}
	/* A first cycle maps what stays mapped (stock never unmaps). */
	set_irqs(dev, index, n, fds);
	set_irqs(dev, index, 0, NULL);
	t0 = now_ns();
	for (i = 0; i < cycles; i++) {
		set_irqs(dev, index, n, fds);
		set_irqs(dev, index, 0, NULL);
	}
	t0 = now_ns() - t0;
	for (i = 0; i < n; i++)
		close(fds[i]);
	return t0;
}

static void bench_msi_cycle(const char *edu)
{
	uint32_t ioas;
	int dev, fd;

	pci_set_driver(edu, "vfio-pci");
	dev = open_type1(edu, &fd);
	report("msi-cycle-type1", irq_cycles(dev, VFIO_PCI_MSI_IRQ_INDEX, 1,
					     CYCLES), CYCLES, "ns/cycle");
	close(dev);
	close(fd);

	dev = open_iommufd(edu, &fd, &ioas);
	report("msi-cycle-iommufd", irq_cycles(dev, VFIO_PCI_MSI_IRQ_INDEX, 1,
					       CYCLES), CYCLES, "ns/cycle");
	close(dev);
	close(fd);
}

static void bench_replace(const char *edu)
{
	uint32_t a, b;
	int dev, fd, efd;
	unsigned int i;
	uint64_t t0;

	dev = open_iommufd(edu, &fd, &a);
	b = ioas_alloc(fd);
	efd = eventfd(0, EFD_CLOEXEC);
	set_irqs(dev, VFIO_PCI_MSI_IRQ_INDEX, 1, &efd);
	attach(dev, b);
	attach(dev, a);
	t0 = now_ns();
	for (i = 0; i < REPLACES; i++)
		attach(dev, i & 1 ? a : b);
	t0 = now_ns() - t0;
	/* edu's MSI uses one doorbell: per replace is per doorbell. */
	report("replace-msi-live", t0, REPLACES, "ns/replace");
	report("replace-msi-live-per-doorbell", t0, REPLACES, "ns/doorbell");
	set_irqs(dev, VFIO_PCI_MSI_IRQ_INDEX, 0, NULL);
	close(efd);
	close(dev);
	close(fd);
}

static void bench_msix(const char *nvme)
{
	static const unsigned int ns[] = { 1, 16, 64 };
	char name[64];
	uint32_t ioas;
	int dev, fd;
	unsigned int i;

	pci_set_driver(nvme, "vfio-pci");
	dev = open_iommufd(nvme, &fd, &ioas);
	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		snprintf(name, sizeof(name), "msix-%u-vectors", ns[i]);
		report(name, irq_cycles(dev, VFIO_PCI_MSIX_IRQ_INDEX, ns[i],
					CYCLES / 4),
		       (CYCLES / 4) * ns[i], "ns/vector");
	}
	close(dev);
	close(fd);
}

/*
 * Instructions this task retires, user and kernel: under -icount QEMU's PMU
 * counts them exactly, and a task that sleeps waiting for a device counts
 * nothing meanwhile.
 */
static int open_insn_counter(void)
{
	struct perf_event_attr attr = {
		.type		= PERF_TYPE_HARDWARE,
		.size		= sizeof(attr),
		.config		= PERF_COUNT_HW_INSTRUCTIONS,
	};
	int fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);

	if (fd < 0)
		die("perf_event_open(instructions)");
	return fd;
}

static uint64_t read_counter(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		die("read instruction counter");
	return v;
}

/*
 * Bind NVMe to its driver: the probe sets up its queues, one MSI-X vector
 * each, in the DMA-API domain. Measured is the probe itself (the bind
 * write), in guest time and in instructions; the wait for the controller
 * to go live, which only polls, is not. Guest time also counts the waits
 * for the emulated controller, whose length depends on the host: the
 * instructions are the figure to compare.
 */
static void bench_nvme_bind(const char *nvme)
{
	uint64_t t0, total = 0, end, c0, insns = 0;
	int counter = open_insn_counter();
	char state[32] = "";
	unsigned int i;

	for (i = 0; i < BINDS; i++) {
		pci_set_driver(nvme, NULL);
		t0 = now_ns();
		c0 = read_counter(counter);
		pci_set_driver(nvme, "nvme");
		insns += read_counter(counter) - c0;
		total += now_ns() - t0;
		end = now_ns() + 20000000000ull;
		do {
			usleep(1000);
			read_str("/sys/class/nvme/nvme0/state", state,
				 sizeof(state));
		} while (strcmp(state, "live") && now_ns() < end);
		if (strcmp(state, "live"))
			die("nvme0 not live after bind (state '%s')", state);
	}
	report("dmaapi-nvme-probe", total, BINDS, "ns/bind");
	report("dmaapi-nvme-probe-insns", insns, BINDS, "insns/bind");
	close(counter);
}

int main(void)
{
	char edu[32], nvme[32], cmdline[512];

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!find_pci("device", EDU_ID, edu))
		die("no edu device");
	if (!find_pci("class", NVME_CLASS, nvme))
		die("no NVMe controller");
	printf("BENCH-START edu %s nvme %s\n", edu, nvme);

	/* bench=probe: the boot with several CPUs, for NVMe's queues. */
	if (read_str("/proc/cmdline", cmdline, sizeof(cmdline)) ||
	    !strstr(cmdline, "bench=probe")) {
		bench_msi_cycle(edu);
		bench_replace(edu);
		bench_msix(nvme);
	} else {
		bench_nvme_bind(nvme);
	}

	printf("BENCH-DONE %d\n", done);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
