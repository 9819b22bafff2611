"""Run a command and report its wall time, CPU time and peak RSS (used by ``measure``).

``python -S bench/_launch.py RESULT_FILE ARGV...``: forks from this small process, so the
child's peak RSS (``wait4``) starts from a few MiB, not from the benchmark process's
size (a forked or vforked child is charged its parent's resident pages until exec). The
CPU time (user and system) counts the child and every process it waited for, so a
command's worker processes are in it.
"""

import json
import os
import sys
import time

start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as handle:
    cpu = usage.ru_utime + usage.ru_stime
    json.dump({"seconds": seconds, "cpu_seconds": cpu, "maxrss_kib": usage.ru_maxrss}, handle)
sys.exit(os.waitstatus_to_exitcode(status))
