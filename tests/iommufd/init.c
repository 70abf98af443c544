// SPDX-License-Identifier: GPL-2.0
/*
 * /init for make iommufd-selftests: mount what the iommufd selftests use,
 * run each program given on the kernel command line (iommufd_st=a,b) with
 * its TAP output on the console, and power off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static void run(const char *prog)
{
	char path[64];
	pid_t pid;
	int st = 0;

	snprintf(path, sizeof(path), "/%s", prog);
	printf("IOMMUFD-ST start %s\n", prog);
	pid = fork();
	if (!pid) {
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		st = -1;
	printf("IOMMUFD-ST end %s status %d\n", prog,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128);
}

int main(void)
{
	char cmdline[1024] = "", *list, *prog;
	FILE *f;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);

	f = fopen("/proc/cmdline", "r");
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	list = strstr(cmdline, "iommufd_st=");
	if (list) {
		list += strlen("iommufd_st=");
		list[strcspn(list, "\n ")] = '\0';
		for (prog = strtok(list, ","); prog; prog = strtok(NULL, ","))
			run(prog);
	}
	printf("IOMMUFD-ST done\n");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
