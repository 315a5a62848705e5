"""procstat reads this process, a zombie child and a reaped one as the kernel reports them."""

import os
import subprocess
import sys
import time

from aither_assets.runtime.procstat import PGRP, PPID, STATE, is_dead, stat_fields


def test_fields_of_this_process():
    fields = stat_fields(os.getpid())
    assert fields is not None and not is_dead(fields)
    assert int(fields[PPID]) == os.getppid() and int(fields[PGRP]) == os.getpgrp()
    assert fields[STATE] in ("R", "S")


def test_a_zombie_is_dead_and_a_reaped_process_is_gone():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while (fields := stat_fields(child.pid)) is not None and fields[STATE] != "Z" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fields is not None and fields[STATE] == "Z" and is_dead(fields)  # exited, not yet reaped
    child.wait()
    assert stat_fields(child.pid) is None and is_dead(None)
