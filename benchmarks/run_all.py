"""All the benchmarks of issue 7 in one go (what ``make bench`` runs): results.json and RESULTS.md.

1. end-to-end PR latency, pipeline against a plain sequential script  (benchmarks/e2e.py)
2. orchestration overhead, per run and per step                       (benchmarks/e2e.py)
3. sensor cost with 100, 1,000 and 5,000 open PRs                     (benchmarks/sensor_tick.py)
4. work avoided: unchanged poll, docs-only head, image layer cache    (benchmarks/e2e.py)
5. memory of the daemon, the code server and a run at 1,000 open PRs  (benchmarks/e2e.py, benchmarks/memory.py)
6. per-suite cost of the sandbox: container start and removal         (benchmarks/sandbox_cost.py)
7. validation of a repository with 30 workflows, our checks only       (benchmarks/validation.py)
8. many PRs at once (20, 50) on the embedded and production profiles  (benchmarks/load.py)
9. faults on the production profile: daemon, PostgreSQL, receiver     (benchmarks/faults.py)
10. promotion: /promote comment -> ring live and verified; rollback  (benchmarks/promotion.py)

The sensor runs on SQLite and on PostgreSQL (the production profile's storage) when the server is installed.
``--only PART ...`` runs only those parts and keeps the other parts' figures from --json; RESULTS.md is
rendered from all of them (each part says when and on what load it was measured).

Usage: python benchmarks/run_all.py [--rounds 3] [--quick] [--json benchmarks/results.json]
       [--markdown benchmarks/RESULTS.md]
``--quick`` is a tiny setting that checks the benchmarks work (one round, 50 extra PRs for memory,
the sensor at 100 PRs, no load or fault scenes): its figures mean little.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import fmt, loadavg, machine, md_table, stats  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sensor-prs", type=int, nargs="+", help="default 100 1000 5000 (quick: 100)")
    parser.add_argument("--memory-prs", type=int, help="default 1000 (quick: 50)")
    parser.add_argument("--warmup", choices=["needed", "all"],
                        help="first runs before measuring: all seeded PRs (default) or only the two used (quick)")
    parser.add_argument("--skip-e2e", action="store_true", help="no end-to-end benchmark")
    parser.add_argument("--skip-sandbox", action="store_true", help="without the sandbox cost benchmark")
    parser.add_argument("--skip-promotion", action="store_true", help="no promotion benchmark")
    parser.add_argument("--load-prs", type=int, nargs="+",
                        help="PRs per burst, in order (default 1 1 1 20 50: three latencies, two loads; quick: none)")
    parser.add_argument("--only", nargs="+", choices=PARTS, help="run only these parts, keep the others' figures")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    sensor_prs = args.sensor_prs or ([100] if args.quick else [100, 1000, 5000])
    memory_prs = args.memory_prs or (50 if args.quick else 1000)
    warmup = args.warmup or ("needed" if args.quick else "all")

    load_prs = args.load_prs or ([] if args.quick else [1, 1, 1, 20, 50])
    parts = set(args.only or [p for p in PARTS if not (p == "e2e" and args.skip_e2e)
                              and not (p == "sandbox" and args.skip_sandbox)
                              and not (p == "promotion" and (args.skip_promotion or args.skip_e2e))
                              and not (p in ("load", "faults") and args.quick)])

    started = time.monotonic()
    results: dict = {"machine": machine(), "settings": {
        "rounds": args.rounds, "quick": args.quick, "sensor_prs": sensor_prs, "memory_prs": memory_prs,
        "warmup": warmup}}
    if args.only and args.json.exists():  # the parts not run keep their figures
        results = {**json.loads(args.json.read_text()), "partial_update": {"parts": sorted(parts),
                                                                             "date": machine()["date"]}}
    if "e2e" in parts:
        import e2e

        # The PR sensor at the product's default interval: webhooks detect new heads, the sensor is the
        # safety net (quick: 2 s, so the unchanged-poll check sees its ticks soon).
        results["e2e"] = e2e.run(args.rounds, args.quick, memory_prs, warmup, timeout=600, keep_data=False,
                                 sensor_interval=2 if args.quick else 30)
    if "promotion" in parts:
        import promotion

        print(f"[promotion {time.strftime('%H:%M:%S')}] /promote comment -> ring live and verified", flush=True)
        results["promotion"] = promotion.run(1 if args.quick else args.rounds)
    if "sandbox" in parts:
        import sandbox_cost

        print(f"[sandbox {time.strftime('%H:%M:%S')}] per-suite cost of the sandbox", flush=True)
        results["sandbox"] = sandbox_cost.measure(1 if args.quick else max(5, args.rounds))
    if "sensor" in parts:
        import sensor_tick

        from aither_assets.devstack import postgres

        backends = ["sqlite", "postgres"] if postgres.available() else ["sqlite"]
        print(f"[sensor {time.strftime('%H:%M:%S')}] open PRs: {sensor_prs} on {backends}", flush=True)
        results["sensor_machine"] = machine()
        results["sensor"] = [sensor_tick.measure(n, 1 if args.quick else args.rounds, backend)
                             for n in sensor_prs for backend in backends]
    if "validation" in parts:
        import validation

        print(f"[validation {time.strftime('%H:%M:%S')}] 30 workflows", flush=True)
        results["validation"] = validation.measure(30, 1 if args.quick else 5)
    if "load" in parts and load_prs:
        import load

        results["load"] = load.measure(["embedded", "production"], load_prs)
    if "faults" in parts:
        import faults

        results["faults"] = faults.measure()
    if "seconds" not in results:  # a full run, or --only with nothing to keep
        results["machine"]["loadavg_at_end"] = loadavg()
        results["seconds"] = round(time.monotonic() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    args.markdown.write_text(render(results))
    print(f"wrote {args.json} and {args.markdown} in {round(time.monotonic() - started, 1)} s")
    if "error" in results.get("e2e", {}):
        print(f"the end-to-end benchmark failed: {results['e2e']['error']}", file=sys.stderr)
        return 1
    return 0


PARTS = ("e2e", "promotion", "sandbox", "sensor", "validation", "load", "faults")


# ---------------------------------------------------------------------- RESULTS.md


def _promotion(promotion: dict) -> list[str]:
    if "summary" not in promotion:
        return ["## Promotion: FAILED", "", f"`{promotion.get('error')}`", ""]
    summary = promotion["summary"]
    return ["## Promotion", "", "`/promote dev` comment on the local GitHub -> the ring's verified deploy recorded "
            "(benchmarks/promotion.py; a warm-up round first, then rounds alternating two PRs' digests).", "",
            md_table(["measure", "median (min to max)"], [
                ["comment -> ring live and verified", fmt(summary["comment_to_live"])],
                ["of which comment -> run created (webhook, GraphQL)", fmt(summary["comment_to_run_created"])],
                ["of which run queue and launch", fmt(summary["run_queue_and_launch"])],
                ["of which run start -> live (gates, deploy, health, smoke, retag)", fmt(summary["run_start_to_live"])],
            ]), ""] + _rollback(promotion)


def _rollback(promotion: dict) -> list[str]:
    manual, automatic = promotion.get("rollback_summary") or {}, promotion.get("automatic_rollback_summary") or {}
    if not manual and not automatic:
        return []
    return ["`/rollback dev` comment -> dev verified on the last good build (no rebuild; the replaced build is "
            "held, then unheld for the next round); automatic rollback read from the record alone: the failed "
            "verification of the ring-flag PR -> the ring back on the good digest (health-checked).", "",
            md_table(["measure", "median (min to max)"], [
                ["/rollback comment -> ring serving the old digest, verified", fmt(manual.get("comment_to_live"))],
                ["of which comment -> run created", fmt(manual.get("comment_to_run_created"))],
                ["of which run queue and launch", fmt(manual.get("run_queue_and_launch"))],
                ["of which run start -> live (target, deploy, health, smoke, retag)",
                 fmt(manual.get("run_start_to_live"))],
                ["automatic: verification failure -> ring back on the good digest",
                 fmt(automatic.get("failure_to_rolled_back"))],
                ["automatic: /promote comment of the bad build -> ring back on the good digest",
                 fmt(automatic.get("comment_to_rolled_back"))],
            ]), ""]


def _s(value: float | None, unit: str = "s", digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}".strip()


def render(results: dict) -> str:
    m = results["machine"]
    settings = results["settings"]
    out = [
        "# Benchmark results",
        "",
        f"Run by `make bench` (`benchmarks/run_all.py`) on {m['date']}; {results['seconds']:.0f} s in all."
        + (" **Quick setting: one round, figures mean little.**" if settings["quick"] else ""),
        "",
        md_table(["machine", ""], [
            ["CPU", f"{m['nproc']} x {m['cpu_model']}"], ["memory", f"{m['memory_gib']} GiB"],
            ["kernel / Python", f"{m['kernel']} / {m['python']}"],
            ["load average (1/5/15 min) at start, at end",
             f"{m.get('loadavg_at_start')}, {m.get('loadavg_at_end')}"],
        ]),
        "",
        *([f"Parts re-run on their own since (`--only`): {', '.join(results['partial_update']['parts'])}, "
           f"{results['partial_update']['date']}; their sections say when and at what load.", ""]
          if results.get("partial_update") else []),
        "Medians, with min to max in brackets, over the rounds; the two sides of a comparison are measured in "
        "the same run, alternating (which side goes first alternates by round).",
        "",
    ]
    e2e = results.get("e2e")
    if e2e and "summary" in e2e:
        out += _e2e(e2e)
    if e2e and "error" in e2e:
        out += ["## End-to-end: FAILED", "", f"`{e2e['error']}` (traceback in results.json); what was measured "
                "before is below.", ""]
    promotion = results.get("promotion")
    if promotion:
        out += _promotion(promotion)
    out += _sensor(results.get("sensor") or [], results.get("sensor_machine"))
    if e2e and "work_avoided" in e2e:
        out += _avoided(e2e)
    if e2e and "memory" in e2e:
        out += _memory(e2e["memory"])
    if results.get("sandbox"):
        out += _sandbox(results["sandbox"])
    out += _validation(results.get("validation"))
    if results.get("load"):
        out += _load(results["load"], results.get("e2e", {}).get("summary"))
    if results.get("faults"):
        out += _faults(results["faults"])
    return "\n".join(out) + "\n"


def _measured(m: dict | None) -> str:
    if not m:
        return ""
    return f"Measured {m['date']}, load average at start {m.get('loadavg_at_start')}."


def _load(load: dict, e2e_summary: dict | None) -> list[str]:
    rows = []
    for p in load["profiles"]:
        if "error" in p:
            rows.append([p["profile"], "-", f"FAILED: {p['error']}"] + ["-"] * 7)
            continue
        for b in p["bursts"]:
            rows.append([p["profile"], b["prs"], f"{b['seconds_to_open']:.2f} s",
                         f"{b['runs']} ({b['heads_with_exactly_one_run']})", b["successes"],
                         ", ".join(map(str, b["sticky_comments"])), ", ".join(map(str, b["statuses_per_head"])),
                         _s(b["makespan"]), f"{p['plain_seconds']:.1f} s",
                         f"**{b['throughput_ratio']}**" if b.get("throughput_ratio") else "-"])
    return [
        "## 8. Many PRs at once, and one PR on each profile",
        "",
        "`benchmarks/load.py`: the demo's stack on each profile (embedded: SQLite, run workers forked in the "
        "daemon; production: PostgreSQL, a code server container, one container per run), the seeded PRs run "
        "first; then N branches are made and the N PRs opened back to back on the local GitHub, which delivers "
        "each `opened` webhook. Makespan: first PR opened -> the last head's run (or its report run) ended. "
        "Throughput ratio: N x the plain script's time (measured once on the same stack) / makespan. Counts come "
        "from the instance's run records and GitHub's answers. " + _measured(load.get("machine")),
        "",
        md_table(["profile", "PRs", "opened in", "pipeline runs (heads with exactly one)", "successes",
                  "sticky comments per PR", "statuses per PR", "makespan", "plain script", "throughput ratio"], rows),
        "",
        "End-to-end latency, one PR opened alone (PR opened -> its run reported), bursts of one above:",
        "",
        md_table(["profile", "PR opened -> dashboard", "plain script", "ratio latency / plain"], [
            [p["profile"], fmt(one), f"{p['plain_seconds']:.1f} s",
             f"{one['median'] / p['plain_seconds']:.2f}" if one else "-"]
            for p in load["profiles"] if "error" not in p
            for one in [stats(b["makespan"] for b in p["bursts"] if b["prs"] == 1)]]),
        "",
    ]


def _faults(faults: dict) -> list[str]:
    if "error" in faults:
        return ["## 9. Faults (production profile): FAILED", "", f"`{faults['error']}`", ""]
    rows = []
    for sc in faults["scenes"]:
        what = {k: v for k, v in sc.items() if k.endswith(("_seconds", "_killed", "_restarted")) and k != "seconds"}
        rows.append([sc["scene"], ", ".join(f"{k} {v}" for k, v in what.items()) or "-", sc["heads"],
                     sc["heads_with_one_run"], sc["heads_without_run"], sc["heads_with_several_runs"],
                     ", ".join(f"{k} {v}" for k, v in sorted(sc["run_statuses"].items())), sc["runs_left_in_flight"],
                     sc.get("wait_error", "-")])
    return [
        "## 9. Faults on the production profile",
        "",
        "`benchmarks/faults.py`: on the production demo stack, each scene opens PRs and breaks a part: the daemon "
        "killed (SIGKILL) while runs are in flight and started again 15 s later; PostgreSQL restarted (fast "
        "shutdown, start) while runs are in flight; the webhook receiver killed before the PRs are opened (the PR "
        "sensor, every 10 s, is the only way in). Then: runs per head, how they ended, and runs left "
        "queued/starting/started after run monitoring had two minutes. " + _measured(faults.get("machine")),
        "",
        md_table(["scene", "fault", "heads", "with one run", "without a run", "with several runs", "run statuses",
                  "left in flight", "wait error"], rows),
        "",
    ]


def _sandbox(sandbox: dict) -> list[str]:
    rows = [[name, fmt(c["host"], "s", 2), fmt(c["sandbox"], "s", 2), fmt(c["sandbox_minus_host"], "s", 2),
             fmt(c["setup"], "s", 2), fmt(c["removal"], "s", 2)] for name, c in sandbox["commands"].items()]
    return [
        "## 6. Per-suite cost of the sandbox",
        "",
        f"`benchmarks/sandbox_cost.py`, {sandbox['rounds']} alternating rounds: the same command on the host "
        "(`run_argv`, as the plain script runs it) and in a sandbox container (`Sandbox.run`: create, hand over "
        "the tree, run, read the report back, remove). Set-up is create + attach + start + sending the tree; "
        "removal is `docker rm`. In the sandbox the suites use the runner image's Debian pytest; on the host "
        "the venv's.",
        "",
        md_table(["command", "host", "sandbox", "sandbox - host", "set-up", "removal"], rows),
        "",
    ]


def _validation(v: dict | None) -> list[str]:
    if not v:
        return []
    false_positives = len(v["findings"])
    return [
        "## 7. Validation",
        "",
        f"`validate_repository` on a generated repository of {v['workflows']} workflows (orchestrators calling "
        "build and test workflows, matrices, PowerShell steps, a composite action), without zizmor, hadolint "
        "or docker: our own checks only, every file read and parsed again each round "
        "(`benchmarks/validation.py`).",
        "",
        md_table(["measure", "figure"], [
            ["validation, 30 workflows", f"{fmt(v['seconds'], 's', 3)} (target under {v['target_seconds']:.0f} s)"],
            ["first round (compiles our patterns)", f"{v['first_round_seconds']:.3f} s"],
            ["files checked / findings on the clean repository", f"{v['files_checked']} / {false_positives}"],
        ]),
        "",
    ]


def _e2e(e2e: dict) -> list[str]:
    s = e2e["summary"]
    p, q = s["pipeline"], s["plain"]
    st = e2e["settings"]
    rounds = e2e["rounds"]
    rows = [
        ["**pipeline: push -> dashboard published**", f"**{fmt(p['push_to_dashboard'])}**"],
        ["  detection: push -> run started", fmt(p["detection"])],
        ["    push -> run queued (by the webhook receiver, or the sensor)", fmt(p["detection_request"])],
        ["      webhook: push -> the receiver has GitHub's delivery", fmt(p.get("detection_webhook_delivery"))],
        ["      webhook: delivery -> run queued (GitHub read, decision, GraphQL submission)",
         fmt(p.get("detection_webhook_submit"))],
        ["      sensor (rounds it started): push -> its tick starts (sensors are evaluated every 5 s)",
         fmt(p.get("detection_tick_wait"))],
        ["      sensor: the tick (GitHub poll, decisions, run request)", fmt(p.get("detection_tick"))],
        ["    run queue: queued -> launched", fmt(p["detection_queue"])],
        ["    launch: worker process start, code load -> run started", fmt(p["detection_launch"])],
        ["  run started -> dashboard written (the run's own pr_dashboard step)", fmt(p["run_start_to_dashboard"])],
        ["pipeline: push -> GitHub statuses and comment published (pr_feedback)", fmt(p["push_to_feedback_done"])],
        ["run: run started -> run ended", fmt(p["run"])],
        ["  sum of the run's step durations", fmt(p["run_steps_total"])],
        ["**plain script: the same work, sequential, no Dagster (process wall time)**", f"**{fmt(q['total'])}**"],
        ["  sum of its stages (without interpreter start and imports)", fmt(q["stages_total"])],
        ["**ratio pipeline / plain** (median / median)", f"**{s['ratio_pipeline_to_plain']}**"],
        ["  ratio per round", fmt(s["ratio_per_round"], "", 2)],
    ]
    out = [
        "## 1. End-to-end PR latency on the sample app",
        "",
        f"{len(rounds['pipeline'])} rounds. Pipeline: a one-line source change (`app/bench_round.py`) pushed to PR "
        f"#{st['pipeline_pr']} on the local GitHub server, then the product's real path: the local GitHub delivers "
        "the signed `pull_request` event to `aither webhooks`, which reads the PR, decides as the sensor would and "
        "submits the run through the webserver's GraphQL API (the PR sensor polls too, every "
        f"{st.get('sensor_interval', 2)} s, as the safety net; it skips heads that have a run), the daemon's run "
        "queue (0.5 s dequeue interval), the run worker forked by the warm run launcher (code location "
        "preloaded), a `pr_pipeline` run (threaded executor, half the cores' worth of steps at a time) whose "
        "last steps write `pages/pr-N/index.html` "
        "(its mtime is \"dashboard "
        "published\") and then the GitHub statuses and comment. Plain: `benchmarks/plain_pipeline.py` on the same "
        "kind of change pushed to a "
        f"draft PR #{st['plain_pr']} with the same files (the sensor skips drafts), run as a subprocess: checkout, "
        "PR context, validation, package, linters, every test suite one at a time, image build and push, "
        "container start, smoke checks, page render. Warm-up first: the first run of "
        + ("every seeded PR" if st["warmup"] == "all" else "the two PRs used (the other seeded PRs closed)")
        + ("" if st["quick"] else ", and one plain run") + ".",
        "",
        md_table(["measure", "median (min to max)"], rows),
        "",
        "Per round:",
        "",
        md_table(["round", "pipeline push -> dashboard", "detection", "started by", "run start -> dashboard",
                  "reported by", "plain",
                  "ratio", "load avg (1 min) pipeline / plain"],
                 [[a.get("round"), _s(a.get("push_to_dashboard")), _s(a.get("detection")), a.get("triggered_by"),
                   _s(a.get("run_start_to_dashboard")),
                   a.get("reported_by"), _s(b.get("wall")),
                   f"{a['push_to_dashboard'] / b['wall']:.2f}" if a.get("push_to_dashboard") and b.get("wall") else "-",
                   f"{(a.get('loadavg') or ['-'])[0]} / {(b.get('loadavg') or ['-'])[0]}"]
                  for a, b in zip(rounds["pipeline"], rounds["plain"], strict=False)]),
        "",
        "## 2. Orchestration overhead",
        "",
        "Step durations from the run's event log (STEP_START -> STEP_SUCCESS); a step's own work is approximated "
        "by the plain script's timing of the same stage (same functions, same inputs). The pipeline runs the test "
        "suites two at a time (one per core), the plain script one at a time; the pipeline's linters run in a "
        "pool too (one linter here).",
        "",
    ]
    own = q["stages_total"]["median"] if q.get("stages_total") else None
    run_med = p["run"]["median"] if p.get("run") else None
    e2e_med = p["push_to_dashboard"]["median"] if p.get("push_to_dashboard") else None
    out += [md_table(["per run", "median"], [
        ["run time (started -> ended)", _s(run_med)],
        ["run time - sum of its steps (run start-up and teardown inside the worker)", fmt(p["run_overhead"], "s", 2)],
        ["run time - the plain script's stages (own work; the run also publishes feedback to GitHub)",
         _s(run_med - own if run_med and own else None)],
        ["push -> dashboard - the plain script's stages (all orchestration: detection, launch, steps)",
         _s(e2e_med - own if e2e_med and own else None)],
    ]), ""]
    rows = []
    for stage, d in s["stages"].items():
        rows.append([stage, d["step"],
                     fmt(d["plain"], "s", 2), fmt(d["pipeline_step"], "s", 2),
                     _s(d["step_minus_plain"], "s", 2)])
    out += [md_table(["stage", "Dagster step", "plain stage", "step duration", "step - plain (median)"], rows), ""]
    return out


def _sensor(sensor: list[dict], measured: dict | None = None) -> list[str]:
    if not sensor:
        return []
    rows = []
    for r in sensor:
        u, c, f = r["unchanged_poll"], r["one_percent_new_heads"], r["first_tick"]
        rows.append([r.get("backend", "sqlite"), f"{r['open_prs']:,}", f"{f['seconds']:.2f} s, {f['requests']} req",
                     f"{fmt(u['seconds'], 's', 3)}, {u['requests']['median']:.0f} req",
                     f"{fmt(c['seconds'], 's', 3)}, {c['requests']['median']:.0f} req, "
                     f"{c['run_requests']['median']:.0f} runs"])
    return [
        "## 3. Sensor cost",
        "",
        "`benchmarks/sensor_tick.py`: the real `pull_request_sensor` against the local GitHub server and a "
        "temporary instance (SQLite, or PostgreSQL with the head claims there too, as in production); time of one "
        "tick and GitHub requests it made. " + _measured(measured),
        "",
        md_table(["storage", "open PRs", "first tick (full sync)", "unchanged poll", "1 % new heads"], rows),
        "",
    ]


def _avoided(e2e: dict) -> list[str]:
    a = e2e["work_avoided"]
    u, d, c = a["unchanged_poll"], a["docs_only"], a["image_cache"]
    cs = c["summary"]
    skipped = ", ".join(f"{k} {v.lower()}" for k, v in sorted(d["assets"].items()))
    rows = [
        ["unchanged poll", f"{u['ticks']} sensor ticks with nothing new: {u['runs_started']} runs started, "
                           f"{u['github_requests']} GitHub requests from all sensors ({u['pull_list_not_modified']} of "
                           f"{u['pull_list_requests']} PR-list polls answered 304 Not Modified)"],
        ["docs-only head (PR #%s)" % e2e["settings"]["docs_pr"],
         f"image built: {'yes' if d['image_built'] else 'no'}; deployed: {'yes' if d['deployed'] else 'no'}; "
         f"run {_s(d['run'])}, push -> dashboard {_s(d['push_to_dashboard'])}; assets: {skipped}"],
        ["image build, one-line change, pipeline (container_image build_seconds)",
         f"{fmt(cs['pipeline_build'], 's', 2)}, {fmt(cs['pipeline_cached_steps'], 'cached steps', 0)}"],
        ["image build, one-line change, direct `build_image` with the layer cache", fmt(cs["warm_build"], "s", 2)],
        ["image build, same tree, direct `build_image` with no cache (cold)",
         f"{fmt(cs['cold_build'], 's', 2)}, {fmt(cs['cold_cached_steps'], 'cached steps', 0)}"],
    ]
    return ["## 4. Work avoided", "", md_table(["case", "result"], rows), ""]


def _memory(m: dict) -> list[str]:
    rows = [
        ["daemon (`dagster-daemon run`)", _s(m["daemon"], "MiB")],
        ["webserver (`dagster-webserver`: UI, and the GraphQL API the webhook receiver submits runs to)",
         _s(m.get("webserver"), "MiB") if m.get("webserver") else "none"],
        ["webhook receiver (`aither webhooks`)",
         _s(m.get("webhook_receiver"), "MiB") if m.get("webhook_receiver") else "none"],
        [f"code server (`dagster api grpc`, runs the sensors; {m['code_servers_seen']} seen)",
         _s(m["code_server"], "MiB")],
        ["run launcher's forkserver (in the daemon; Dagster and the code location preloaded, forks the run workers)",
         _s(m.get("run_launcher"), "MiB") if m.get("run_launcher") else "none"],
        ["pipeline run worker (one `pr_pipeline` run, threaded executor)", _s(m["pipeline_run_worker"], "MiB")],
        ["report run worker (`pr_report`, for runs that could not report themselves)",
         _s(m["report_run_worker"], "MiB") if m["report_run_worker"] else "none ran"],
        ["largest process a run started (test suite, linter, git ...)", _s(m["run_children"], "MiB")],
    ]
    return [
        f"## 5. Memory at {m['open_prs']:,} open PRs",
        "",
        "Peak resident set size (VmHWM from /proc/<pid>/status, sampled every 0.25 s) of the stack's processes "
        f"while {m['open_prs']:,} PRs are known to the instance (draft PRs opened in bulk: the sensor registers "
        f"and skips them, in {m['partitions_registered_seconds']} s) and one more pipeline run goes through. "
        "The daemon's and code server's VmHWM is their peak since they started.",
        "",
        md_table(["process", "peak RSS"], rows),
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
