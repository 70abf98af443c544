/* SPDX-License-Identifier: GPL-2.0 */
/* The checks selectable with msi_e2e.checks=. */
#ifndef E2E_CHECKS_H
#define E2E_CHECKS_H

#include "opts.h"

void check_type1(const struct e2e_opts *o);
void check_iommufd(const struct e2e_opts *o);
void check_iommufd_replace(const struct e2e_opts *o);
void check_iommufd_window(const struct e2e_opts *o);
void check_iommufd_race(const struct e2e_opts *o);
void check_dmaapi(const struct e2e_opts *o);
void check_demo(const struct e2e_opts *o);
void check_stress(const struct e2e_opts *o);
void check_failslab(const struct e2e_opts *o);

#endif
