# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The kernel-log judge of the KUnit run (scripts/kunit-log-judge.sh) and of
# the e2e matrix (tests/e2e/run.sh): the lines by which the kernel reports a
# bug of its own or one its debug tools found. Sourced, not run.
#
# Such a line fails a run in every mode: no allow list excuses it, and no
# negative control (run.sh --expect-*) takes it for the failure it plants,
# except --expect-leaks for kmemleak's own report (KLOG_LEAK).

# WARN and lockdep splats ("WARNING: possible circular locking ..."),
# "BUG:" (KASAN, sleeping function called from invalid context, scheduling
# while atomic, soft lockup, NULL dereference), oopses and panics, UBSAN,
# lockdep's and the hung-task/RCU-stall detectors' "INFO:" lines (not the
# guest's "E2E-INFO ").
KLOG_BUG='WARNING:|BUG:|Oops|Kernel panic|Unable to handle kernel|Internal error:|Call [tT]race:'
KLOG_BUG+='|KASAN:|UBSAN:|sleeping function called from invalid context'
KLOG_BUG+='|possible (circular|recursive) locking|possible .*deadlock|DEADLOCK'
KLOG_BUG+='|(^|[^-_[:alnum:]])INFO:'
# kmemleak's automatic scan (on in the KUnit config, off in debug.config,
# where the e2e guest reads /sys/kernel/debug/kmemleak itself).
KLOG_LEAK='suspected memory leak'
KLOG_REPORT="$KLOG_BUG|$KLOG_LEAK"

# klog_grep <log> <regex> [max]: the first max (5) lines of <log> that
# match <regex>, carriage returns dropped; fails when there are none. A log
# that cannot be read or searched matches: the line printed says so.
# grep -a: a serial log with a stray NUL or a byte that is not UTF-8 is
# still searched line by line ("binary file matches" prints no line).
klog_grep() {
	local log=$1 re=$2 max=${3:-5} lines rc=0
	if [ ! -f "$log" ] || [ ! -r "$log" ]; then
		echo "no kernel log at $log"
		return 0
	fi
	lines=$(grep -a -E -m "$max" -e "$re" -- "$log") || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "grep failed ($rc) on $log"
		return 0
	fi
	[ -n "$lines" ] || return 1
	printf '%s\n' "$lines" | tr -d '\r'
}

# klog_reports <log> [max]: the report lines of either kind (KUnit).
klog_reports() {
	klog_grep "$1" "$KLOG_REPORT" "${2:-5}"
}
