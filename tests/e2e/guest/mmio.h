/* SPDX-License-Identifier: GPL-2.0 */
/* MMIO reads that survive a bus error instead of killing PID 1. */
#ifndef E2E_MMIO_H
#define E2E_MMIO_H

#include <stdint.h>

/*
 * Reads a little-endian device register into host order: 0, or -EFAULT
 * if the read raised SIGBUS/SIGSEGV.
 */
int mmio_read32(const volatile uint32_t *p, uint32_t *val);

/*
 * Called first by the fatal signal handler: if a guarded read is in
 * progress this jumps back into mmio_read32() and does not return.
 */
void mmio_fault_hook(int sig);

#endif
