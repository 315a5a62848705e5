"""The cost of scripts/bootstrap on a machine that is already set up (what every `make test` and
`make demo` pays first): wall time of N runs, and whether any of them had to change something.

Usage: python benchmarks/bootstrap.py [--runs 20]   (prints JSON; not part of run_all: seconds only)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import loadavg, stats  # noqa: E402

SCRIPT = HERE.parent / "scripts" / "bootstrap"


def measure(runs: int) -> dict:
    first = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
    if first.returncode != 0:
        return {"error": first.stderr.strip()}
    seconds, changed = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - started)
        changed += bool(result.returncode or result.stderr)  # it only speaks when it acts or fails
    return {"already_set_up_seconds": stats(seconds), "runs_that_acted_or_failed": changed, "loadavg": loadavg()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    print(json.dumps(measure(parser.parse_args().runs), indent=2))
