"""What running a PR command in a sandbox container costs, per suite (issue 15).

The same commands, alternating, in the sandbox (``aither_assets.sandbox.runner.Sandbox``: a
container created, the tree handed over, run, report read back, container removed) and on
the host (``aither_assets.runtime.prcommand.run_argv``, how the plain script and a developer
run them). Three commands:

* ``python -c pass``: nothing but the interpreter, so the difference is the container's cost;
* one sample-app unit suite (``0100-0199``) and the integration suite, as the pipeline runs them.

Reported per command: host wall time, sandbox wall time, the difference, and the sandbox's
own split: set-up (create, attach, start, hand over the tree) and removal.

Usage: python benchmarks/sandbox_cost.py [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common import loadavg, stats  # noqa: E402

from aither_assets.config.operator import SandboxConfig  # noqa: E402
from aither_assets.config.pipeline import load_pipeline_config  # noqa: E402
from aither_assets.devstack.runnerimage import ensure_runner_image  # noqa: E402
from aither_assets.runtime.prcommand import run_argv  # noqa: E402
from aither_assets.sandbox.model import RESULTS_DIR, WORKDIR, SandboxRequest  # noqa: E402
from aither_assets.sandbox.runner import Sandbox  # noqa: E402
from aither_assets.suites.plan import plan_suites  # noqa: E402
from aither_assets.suites.runner import expand_argv  # noqa: E402

SAMPLE = ROOT / "examples" / "sample-app"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.xml")
NOOP = "python -c pass (the container's cost alone)"


def measure(rounds: int = 5) -> dict:
    ensure_runner_image()
    work = Path(tempfile.mkdtemp(prefix="aither-bench-sandbox-"))
    try:
        root = work / "repo"
        shutil.copytree(SAMPLE, root, ignore=IGNORED)
        plan = plan_suites(load_pipeline_config(root).tests, root)
        commands = {NOOP: (("python", "-c", "pass"), ("python", "-c", "pass"))}
        for suite in (plan.suite("0100-0199"), next(s for s in plan.suites if s.kind == "integration")):
            host = expand_argv(suite.argv_template, {"junit": str(work / "r.xml"), "coverage": "",
                                                     "workspace": str(root)}, suite.files)
            box = expand_argv(suite.argv_template, {"junit": f"{RESULTS_DIR}/r.xml", "coverage": "",
                                                    "workspace": WORKDIR}, suite.files)
            commands[f"{suite.kind} suite {suite.name} (sample app)"] = (tuple(host), tuple(box))
        samples = {name: {"host": [], "sandbox": [], "setup": [], "removal": []} for name in commands}
        config = SandboxConfig()
        with Sandbox(config, "bench-sandbox") as sandbox:
            sandbox.tree(root)  # packed once per run, as in the pipeline
            for index in range(rounds):
                for name, (host_argv, box_argv) in commands.items():
                    for side in (("host", "sandbox") if index % 2 == 0 else ("sandbox", "host")):
                        started = time.monotonic()
                        if side == "host":
                            proc = run_argv(host_argv, root, 120)
                            ok = proc.exit_code == 0
                        else:
                            request = SandboxRequest(box_argv, config.default_runner_image, 120, "bench",
                                                     collect=("r.xml",))
                            result = sandbox.run(request, root)
                            ok = result.exit_code == 0
                            samples[name]["setup"].append(result.setup_seconds)
                            samples[name]["removal"].append(result.teardown_seconds)
                        samples[name][side].append(time.monotonic() - started)
                        if not ok:
                            raise RuntimeError(f"{name} failed on the {side} side")
        out = {}
        for name, data in samples.items():
            diff = [b - a for a, b in zip(data["host"], data["sandbox"], strict=True)]
            out[name] = {"host": stats(data["host"]), "sandbox": stats(data["sandbox"]),
                         "sandbox_minus_host": stats(diff), "setup": stats(data["setup"]),
                         "removal": stats(data["removal"])}
        return {"rounds": rounds, "commands": out, "loadavg": loadavg()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = measure(args.rounds)
    text = json.dumps(results, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
