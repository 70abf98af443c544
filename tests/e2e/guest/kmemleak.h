/* SPDX-License-Identifier: GPL-2.0 */
/* kmemleak: a baseline before the checks and a scan after them. */
#ifndef E2E_KMEMLEAK_H
#define E2E_KMEMLEAK_H

#include "opts.h"

/* Forget what boot left unreferenced, so the final scan sees only ours. */
int kmemleak_baseline(void);

/* The "kmemleak" check: scan after the other checks' teardown. */
void check_kmemleak(const struct e2e_opts *o);

#endif
