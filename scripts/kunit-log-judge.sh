#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fail a KUnit run whose kernel log holds a report of the debug tools the
# kunitconfig enables (KASAN, lockdep, atomic-sleep checks, kmemleak),
# even if every test case passed.
set -euo pipefail

LOG=$1
BAD='BUG:|WARNING:|Oops|Call trace:|possible circular locking|suspected memory leak'
if grep -E -q "$BAD" "$LOG"; then
	echo "kunit: the kernel log reports problems:" >&2
	grep -E -m5 "$BAD" "$LOG" >&2
	exit 1
fi
echo "kunit: kernel log clean (no KASAN, lockdep, sleep-in-atomic or kmemleak report)"
