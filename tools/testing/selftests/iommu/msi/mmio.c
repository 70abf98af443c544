// SPDX-License-Identifier: GPL-2.0
/* MMIO reads that survive a bus error instead of killing the test. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>

#include "mmio.h"

static sigjmp_buf mmio_env;

static void mmio_fault(int sig)
{
	(void)sig;
	siglongjmp(mmio_env, 1);
}

int mmio_read32(const volatile uint32_t *p, uint32_t *val)
{
	struct sigaction sa = { .sa_handler = mmio_fault };
	struct sigaction old_bus, old_segv;
	int ret = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	/* sigsetjmp(.., 1) restores the mask the handler blocked. */
	if (sigsetjmp(mmio_env, 1))
		ret = -EFAULT;
	else
		*val = le32toh(*p);	/* PCI registers are little endian */
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return ret;
}
