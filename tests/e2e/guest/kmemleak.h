/* SPDX-License-Identifier: GPL-2.0 */
/* kmemleak: a baseline before the selftests and a scan after them. */
#ifndef E2E_KMEMLEAK_H
#define E2E_KMEMLEAK_H

#include <stddef.h>

/* Forget what boot left unreferenced, so the final scan sees only ours. */
int kmemleak_baseline(char *msg, size_t len);

/*
 * Scan after the selftests' teardown: 0 when the scan worked, *leaks the
 * unreferenced objects found; msg says what was done.
 */
int kmemleak_scan(unsigned int *leaks, char *msg, size_t len);

#endif
