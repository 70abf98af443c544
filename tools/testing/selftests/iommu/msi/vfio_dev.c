// SPDX-License-Identifier: GPL-2.0
/* VFIO device fd operations shared by the type1 and iommufd paths. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "util.h"
#include "vfio_dev.h"

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4

static int region_info(struct vfio_dev *d, uint32_t index, const char *what,
		       uint64_t *off, uint64_t *size)
{
	struct vfio_region_info ri = {
		.argsz = sizeof(ri),
		.index = index,
	};
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ |
			    VFIO_REGION_INFO_FLAG_WRITE;

	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return err_ret(-errno, "VFIO_DEVICE_GET_REGION_INFO(%s)",
			       what);
	if ((ri.flags & rw) != rw || !ri.size)
		return err_ret(-ENODEV, "%s region unusable (flags 0x%x size 0x%llx)",
			       what, ri.flags, (unsigned long long)ri.size);
	msi_log("%s: %s region offset 0x%llx size 0x%llx flags 0x%x",
		d->bdf, what, (unsigned long long)ri.offset,
		(unsigned long long)ri.size, ri.flags);
	*off = ri.offset;
	if (size)
		*size = ri.size;
	return 0;
}

static int cfg_rw16(struct vfio_dev *d, uint64_t reg, uint16_t *val,
		    int write)
{
	ssize_t n;

	/* Config space is little endian, like the arm64 guest. */
	if (write)
		n = pwrite(d->fd, val, sizeof(*val), (off_t)(d->cfg_off + reg));
	else
		n = pread(d->fd, val, sizeof(*val), (off_t)(d->cfg_off + reg));
	if (n != sizeof(*val))
		return err_ret(n < 0 ? -errno : -EIO, "%s config 0x%llx",
			       write ? "write" : "read",
			       (unsigned long long)reg);
	return 0;
}

int vfio_dev_init(struct vfio_dev *d, int fd, const char *bdf)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_irq_info irq = {
		.argsz = sizeof(irq),
		.index = VFIO_PCI_MSI_IRQ_INDEX,
	};
	uint16_t cmd;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->efd = -1;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);

	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
		return err_ret(-errno, "VFIO_DEVICE_GET_INFO");
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI))
		return err_ret(-ENODEV, "%s is not a vfio-pci device", bdf);
	msi_log("%s: vfio device flags 0x%x, %u regions, %u irq indexes",
		bdf, info.flags, info.num_regions, info.num_irqs);

	ret = region_info(d, VFIO_PCI_BAR0_REGION_INDEX, "BAR0", &d->bar0_off,
			  &d->bar0_size);
	if (ret)
		return ret;
	ret = region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, "config",
			  &d->cfg_off, NULL);
	if (ret)
		return ret;

	if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &irq))
		return err_ret(-errno, "VFIO_DEVICE_GET_IRQ_INFO(MSI)");
	if (!irq.count || !(irq.flags & VFIO_IRQ_INFO_EVENTFD))
		return err_ret(-ENODEV, "no eventfd-capable MSI (count %u flags 0x%x)",
			       irq.count, irq.flags);

	/* BAR access needs memory decode; DMA and MSI writes need BM. */
	ret = cfg_rw16(d, PCI_COMMAND, &cmd, 0);
	if (ret)
		return ret;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	ret = cfg_rw16(d, PCI_COMMAND, &cmd, 1);
	if (ret)
		return ret;
	ret = cfg_rw16(d, PCI_COMMAND, &cmd, 0);
	if (ret)
		return ret;
	if ((cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) !=
	    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		return err_ret(-EIO, "PCI_COMMAND did not stick (0x%04x)", cmd);
	msi_log("%s: PCI_COMMAND 0x%04x (memory + bus master)", bdf, cmd);
	return 0;
}

static int bar0_rw32(struct vfio_dev *d, uint64_t off, uint32_t *val,
		     int write)
{
	off_t pos = (off_t)(d->bar0_off + off);
	ssize_t n;

	if (off + sizeof(*val) > d->bar0_size)
		return err_ret(-ERANGE, "BAR0 offset 0x%llx",
			       (unsigned long long)off);
	/* 4-byte pread/pwrite become single 32-bit MMIO accesses. */
	if (write)
		n = pwrite(d->fd, val, sizeof(*val), pos);
	else
		n = pread(d->fd, val, sizeof(*val), pos);
	if (n != sizeof(*val))
		return err_ret(n < 0 ? -errno : -EIO, "%s BAR0+0x%llx",
			       write ? "write" : "read",
			       (unsigned long long)off);
	return 0;
}

int vfio_dev_bar0_read32(struct vfio_dev *d, uint64_t off, uint32_t *val)
{
	return bar0_rw32(d, off, val, 0);
}

int vfio_dev_bar0_write32(struct vfio_dev *d, uint64_t off, uint32_t val)
{
	return bar0_rw32(d, off, &val, 1);
}

static int set_msi_irq(struct vfio_dev *d, int efd)
{
	/* struct vfio_irq_set followed by one eventfd (s32). */
	union {
		struct vfio_irq_set set;
		uint8_t raw[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u;
	int32_t fd32 = efd;

	memset(&u, 0, sizeof(u));
	u.set.index = VFIO_PCI_MSI_IRQ_INDEX;
	u.set.start = 0;
	if (efd >= 0) {
		u.set.argsz = sizeof(u.raw);
		u.set.flags = VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER;
		u.set.count = 1;
		memcpy(u.raw + sizeof(u.set), &fd32, sizeof(fd32));
	} else {
		u.set.argsz = sizeof(u.set);
		u.set.flags = VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER;
		u.set.count = 0;
	}
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &u.set))
		return err_ret(-errno, "VFIO_DEVICE_SET_IRQS(MSI, %s)",
			       efd >= 0 ? "enable" : "disable");
	return 0;
}

int vfio_dev_msi_enable(struct vfio_dev *d)
{
	int efd, ret;

	if (d->efd >= 0)
		return 0;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return err_ret(-errno, "eventfd");
	ret = set_msi_irq(d, efd);
	if (ret) {
		close(efd);
		return ret;
	}
	d->efd = efd;
	if (!d->quiet)
		msi_log("%s: MSI enabled, eventfd %d", d->bdf, efd);
	return 0;
}

int vfio_dev_msi_disable(struct vfio_dev *d)
{
	int ret;

	if (d->efd < 0)
		return 0;
	ret = set_msi_irq(d, -1);
	/* The eventfd is dead either way: a new enable gets a new one. */
	close(d->efd);
	d->efd = -1;
	if (!ret && !d->quiet)
		msi_log("%s: MSI disabled", d->bdf);
	return ret;
}

int vfio_dev_msi_wait(struct vfio_dev *d, int timeout_ms, uint64_t *count)
{
	ssize_t n;
	int ret;

	*count = 0;
	if (d->efd < 0)
		return -EBADF;
	ret = wait_readable(d->efd, timeout_ms);
	if (ret < 0)
		return err_ret(ret, "poll eventfd");
	if (!ret)
		return -ETIMEDOUT;
	n = read(d->efd, count, sizeof(*count));
	if (n != sizeof(*count))
		return err_ret(n < 0 ? -errno : -EIO, "read eventfd");
	return 0;
}

void vfio_dev_msi_drain(struct vfio_dev *d)
{
	uint64_t count;

	if (d->efd >= 0 && wait_readable(d->efd, 0) > 0 &&
	    read(d->efd, &count, sizeof(count)) == sizeof(count))
		msi_log("%s: drained %llu stale MSI event(s)", d->bdf,
			(unsigned long long)count);
}

void vfio_dev_release(struct vfio_dev *d)
{
	vfio_dev_msi_disable(d);
}
