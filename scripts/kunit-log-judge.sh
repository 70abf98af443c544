#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fail a KUnit run whose kernel log holds a report of the debug tools the
# kunitconfig enables (KASAN, lockdep, atomic-sleep checks, kmemleak), or a
# WARN, BUG, Oops or UBSAN report, even if every test case passed. The
# judge is the e2e matrix's: tests/lib/judge-log.sh.
set -euo pipefail

# shellcheck source=tests/lib/judge-log.sh
. "$(dirname "$0")/../tests/lib/judge-log.sh"

LOG=$1
# A missing or empty log is no proof of a clean run.
if [ ! -s "$LOG" ]; then
	echo "kunit: no kernel log at $LOG" >&2
	exit 1
fi
if bad=$(klog_reports "$LOG" 5); then
	echo "kunit: the kernel log reports problems:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "kunit: kernel log clean (no KASAN, lockdep, sleep-in-atomic or kmemleak report)"
