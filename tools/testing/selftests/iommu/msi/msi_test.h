/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging for the MSI selftests' TEST_F()s, on top of kselftest_harness.h
 * (include that first).
 */
#ifndef MSI_TEST_H
#define MSI_TEST_H

#include <stdbool.h>
#include <stdio.h>

/*
 * TH_LOG() through a buffer of LOG_LEN bytes, for formats too long for
 * the line of TH_LOG() itself.
 */
#define LOG_LEN			2048
#define LOG_MSG(buf, ...) do {						\
		char *log_buf = (buf);					\
									\
		snprintf(log_buf, LOG_LEN, __VA_ARGS__);		\
		TH_LOG("%s", log_buf);					\
	} while (0)

/*
 * Logs what a check of the library saw, then expects it to hold: the
 * message is there on success too.
 */
#define EXPECT_CHECK(check, msg) do {					\
		bool check_held = (check);				\
									\
		TH_LOG("%s%s", check_held ? "" : "FAILED: ", msg);	\
		EXPECT_TRUE(check_held);				\
	} while (0)

#endif
