/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slab allocation failures on demand: /proc/thread-self/fail-nth fails the
 * n-th slab allocation of this thread, and failslab's stack trace filter
 * (require-start/end, reject-start/end) limits the count to allocations
 * made under one kernel function, or outside one.
 */
#ifndef MSI_FAIL_NTH_H
#define MSI_FAIL_NTH_H

#include <stdbool.h>
#include <stddef.h>

/* Both knobs exist; if not, why says what is missing. */
bool fail_nth_available(char *why, size_t len);
/*
 * Make failslab fail GFP_KERNEL allocations too, silently, and open
 * fail-nth (it stays open: an open() would allocate and count).
 */
int fail_nth_open(void);
/* Put failslab's knobs back as fail_nth_open() found them. */
void fail_nth_close(void);
/* Fail the n-th slab allocation of this thread from now on, once. */
int fail_nth_arm(unsigned int n);
/* Stop injecting; true if the failure was injected since the arm. */
bool fail_nth_disarm(void);
/* Count only allocations made under func (its range in kallsyms). */
int fail_nth_require(const char *func);
/* Count no allocation made under func. */
int fail_nth_reject(const char *func);
/* Drop the stack trace filters. */
void fail_nth_unfilter(void);

#endif
