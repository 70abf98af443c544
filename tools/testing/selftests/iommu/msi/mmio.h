/* SPDX-License-Identifier: GPL-2.0 */
/* MMIO reads that survive a bus error instead of killing the test. */
#ifndef MSI_MMIO_H
#define MSI_MMIO_H

#include <stdint.h>

/*
 * Reads a little-endian device register into host order: 0, or -EFAULT
 * if the read raised SIGBUS/SIGSEGV.  Not thread safe: one guarded read
 * at a time.
 */
int mmio_read32(const volatile uint32_t *p, uint32_t *val);

#endif
