// SPDX-License-Identifier: GPL-2.0
/* MMIO reads that survive a bus error instead of killing PID 1. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>

#include "mmio.h"

static sigjmp_buf mmio_env;
static volatile sig_atomic_t mmio_guarded;

int mmio_read32(const volatile uint32_t *p, uint32_t *val)
{
	/* sigsetjmp(.., 1) restores the mask the handler blocked. */
	if (sigsetjmp(mmio_env, 1)) {
		mmio_guarded = 0;
		return -EFAULT;
	}
	mmio_guarded = 1;
	*val = le32toh(*p);	/* PCI registers are little endian */
	mmio_guarded = 0;
	return 0;
}

void mmio_fault_hook(int sig)
{
	(void)sig;
	if (mmio_guarded)
		siglongjmp(mmio_env, 1);
}
