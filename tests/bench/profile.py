# SPDX-License-Identifier: GPL-2.0
#
# gdb script for make bench-profile: attach to a bench kernel held at
# reset under QEMU's gdbstub, let it run to the SKIP+1st call of each
# function in PROFILE_FUNCS, then single-step CALLS calls of it to their
# return and print how many instructions each took, and in which
# functions. QEMU steps with interrupts and timers off, so the figures
# are the call's own (gdb steps over a load/store-exclusive loop as one
# instruction). Environment: SYSMAP, PORT, PROFILE_FUNCS (comma
# separated), SKIP, CALLS; TRACE=1 also prints the addresses stepped.
import bisect
import collections
import os

import gdb

syms = []
for line in open(os.environ["SYSMAP"]):
    fields = line.split()
    if len(fields) >= 3 and fields[1] in "tTwW":
        syms.append((int(fields[0], 16), fields[2]))
syms.sort()
addrs = [a for a, _ in syms]
by_name = {n: a for a, n in syms}


def function_at(pc):
    return syms[bisect.bisect_right(addrs, pc) - 1][1]


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & (2**64 - 1)


funcs = os.environ["PROFILE_FUNCS"].split(",")
skip = int(os.environ.get("SKIP", "100"))
calls = int(os.environ.get("CALLS", "3"))
gdb.execute("set pagination off")
gdb.execute("target remote :" + os.environ["PORT"], to_string=True)
bps = {}
for f in funcs:
    bps[by_name[f]] = (f, gdb.Breakpoint("*%#x" % by_name[f], internal=True))
hits = collections.Counter()
done = collections.defaultdict(list)

while any(len(done[f]) < calls for f in funcs):
    gdb.execute("continue", to_string=True)
    pc = reg("pc")
    if pc not in bps:
        raise gdb.GdbError("stopped at %#x (%s), not at a profiled function" %
                           (pc, function_at(pc)))
    name = bps[pc][0]
    hits[name] += 1
    if hits[name] <= skip:
        continue
    ret, sp = reg("x30"), reg("sp")
    where = collections.Counter()
    for _, bp in bps.values():
        bp.enabled = False
    trace = []
    while not (pc == ret and reg("sp") == sp):
        where[function_at(pc)] += 1
        trace.append(pc)
        gdb.execute("stepi", to_string=True)
        pc = reg("pc")
    done[name].append(where)
    for f, bp in bps.values():
        bp.enabled = len(done[f]) < calls
    if os.environ.get("TRACE"):
        print("trace: " + " ".join("%x" % t for t in trace))

for f in funcs:
    for i, where in enumerate(done[f]):
        parts = ", ".join("%s %d" % kv for kv in where.most_common())
        print("profile: %s call %d: %d instructions: %s" %
              (f, skip + i + 1, sum(where.values()), parts))
gdb.execute("kill")
