"""``aither demo``: the product on its embedded stack, interactive or headless (``--once``)."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import sys
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path

import yaml

from aither_assets.config.operator import load_operator_config
from aither_assets.devstack.baseimage import ensure_base_images
from aither_assets.devstack.demo.promotion import (
    AUTO_RING,
    auto_promotion_problems,
    auto_promotion_summary,
    demo_freeze,
    live_rings,
    metrics_summary,
    promotion_problems,
    promotion_summary,
    remove_rings,
    ring_policies,
    rollback_summary,
    run_scenario,
    staleness_summary,
    wait_for_auto_promotion,
)
from aither_assets.devstack.demo.seed import REPO, Seeded, SeededPR, seed
from aither_assets.devstack.demo.stack import (
    PROJECT_ROOT,
    TOKEN_ENV,
    Stack,
    check_docker,
    dagster_home,
    environment,
    free_port,
)
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.devstack.runnerimage import ensure_runner_image
from aither_assets.github.client import client_from_config
from aither_assets.release_cli import lineage
from aither_assets.runs.pipeline import PIPELINE_JOB_NAME
from aither_assets.webhooks.receiver import PATH as WEBHOOK_PATH

TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
#: embedded: SQLite and run workers forked in the daemon (one machine). production: Postgres, a code server
#: and one container per run (dagster-docker), webserver, daemon and receiver as separate processes.
PROFILES = ("embedded", "production")


def prepare(data_dir: Path, reset: bool) -> Seeded:
    """Seed the local GitHub once per data folder; later starts reuse it (history stays)."""
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    seeded_file = data_dir / "seeded.json"
    if seeded_file.exists():
        raw = json.loads(seeded_file.read_text())
        return Seeded(raw["api_token"], raw["repository"], [SeededPR(**p) for p in raw["prs"]])
    store = LocalGitHub(data_dir / "github")
    try:
        seeded = seed(store)
    finally:
        store.close()
    seeded_file.write_text(json.dumps(asdict(seeded), indent=2))
    return seeded


def write_operator_config(data_dir: Path, github_url: str, registry: str, repository: str,
                          base_images: dict[str, str], pages_url: str | None, ui_url: str | None,
                          postgres_url_env: str | None = None) -> Path:
    path = data_dir / "aither.yaml"
    storage = {"root": str(data_dir / "store")}
    if postgres_url_env:  # production: head claims and preview ports in Postgres, beside the instance
        storage["state_postgres_url_env"] = postgres_url_env
    path.write_text(yaml.safe_dump({
        "repository": repository,
        "github": {"api_url": github_url, "token_env": TOKEN_ENV, "seconds_between_writes": 0},
        "registry": {"address": registry, "insecure": True},
        # Nothing can be pulled here: the sample's Dockerfile gets a base built from Debian packages.
        "images": {"base_images": base_images},
        "storage": storage,
        # gh-pages: dashboards are also pushed to the sample repository's gh-pages branch.
        "pages": {"base_url": pages_url, "gh_pages": True},
        # Rings on free ports, with the demo's short soak times (devstack/demo/promotion.py).
        "rings": {"policies": ring_policies(), "freeze": demo_freeze()},
        **({"dagster_ui_url": ui_url} if ui_url else {}),
    }, sort_keys=False))
    return path


def start(stack: Stack, data_dir: Path, seeded: Seeded, sensor_interval: int,
          ui_port: int | None = None, interactive: bool = False, profile: str = "embedded") -> dict[str, str]:
    check_docker()
    print("building the local base image (cached after the first time) ...", flush=True)
    base_images = ensure_base_images(["linux/amd64"])
    ensure_runner_image()  # suites and linters run in containers of it (aither_assets/sandbox)
    github_url = stack.start_local_github(free_port(8765))
    registry = stack.start_registry(free_port(5000))
    pages_url = stack.start_pages_server(free_port(8080), data_dir / "store" / "pages") if interactive else None
    ui_port = ui_port or free_port()
    ui_url = f"http://127.0.0.1:{ui_port}"
    production = profile == "production"
    database = start_database(stack, data_dir) if production else {}
    config = write_operator_config(data_dir, github_url, registry, seeded.repository, base_images, pages_url,
                                   ui_url if interactive else None, next(iter(database), None))
    env = {**dagster_env(config, seeded, sensor_interval), **database}
    if production:
        env["DAGSTER_HOME"] = start_production_dagster(stack, data_dir, config, env, ui_port)
    else:
        env["DAGSTER_HOME"] = str(dagster_home(data_dir))
        stack.start_dagster(env, ui_port)
    webhooks = start_webhooks(stack, data_dir, seeded.repository, env, ui_url)
    return {"github": github_url, "registry": registry, "dagster": ui_url, "pages": pages_url or "",
            "webhooks": webhooks, **env}


def start_database(stack: Stack, data_dir: Path) -> dict[str, str]:
    """Production: PostgreSQL in the demo's folder, stopped when the stack stops; {URL variable: URL}."""
    from aither_assets.devstack import postgres
    from aither_assets.devstack.production import postgres_env, start_postgres

    print("starting PostgreSQL in the demo's folder ...", flush=True)
    server = start_postgres(data_dir, free_port(5433))
    stack.cleanups.append(lambda: postgres.stop(server))
    return postgres_env(server)


def start_production_dagster(stack: Stack, data_dir: Path, config_path: Path, env: dict[str, str],
                             ui_port: int) -> str:
    """The code image, the production DAGSTER_HOME, the code server (a container of the image), then the
    webserver and the daemon as separate processes. Returns DAGSTER_HOME."""
    from aither_assets.devstack import production
    from aither_assets.devstack.codeimage import ensure_code_image
    from aither_assets.devstack.runnerimage import ensure_runner_image_present

    image = ensure_code_image().tag
    # Built here, on the host: the code image has no apt or dpkg to build it from a run.
    ensure_runner_image_present()
    config = load_operator_config(config_path)
    with environment(env):
        home = production.production_home(data_dir, image, config, config_path)
    env = {**env, "DAGSTER_HOME": str(home), "DAGSTER_CURRENT_IMAGE": image}
    production.remove_containers(data_dir)  # a code server left by a killed demo holds the name
    stack.cleanups.append(lambda: production.remove_containers(data_dir))
    port = free_port()
    names = [*production.run_env_var_names(config, production.TUNING_ENV), "DAGSTER_HOME", "DAGSTER_CURRENT_IMAGE"]
    argv = production.code_server_argv(data_dir, image, port, names, production.mounts(data_dir, config, config_path))
    proc, log = stack.spawn("code-server", argv, env)
    production.wait_code_server(port, proc, log)
    workspace = production.write_workspace(data_dir, port)
    stack.start_webserver(env, ui_port, workspace)
    stack.start_daemon(env, workspace)
    return str(home)


def dagster_env(config: Path, seeded: Seeded, sensor_interval: int) -> dict[str, str]:
    return {
        "AITHER_CONFIG": str(config),
        TOKEN_ENV: seeded.api_token,
        "AITHER_SENSOR_INTERVAL_SECONDS": str(sensor_interval),
        # The sweep asks GitHub about every live preview: every 30 s is soon enough for a closed PR,
        # and it keeps out of the way of the PR sensor's ticks (they share the code server).
        "AITHER_SWEEP_INTERVAL_SECONDS": str(max(sensor_interval, 30)),
    }


def start_webhooks(stack: Stack, data_dir: Path, repository: str, env: dict[str, str], dagster_url: str) -> str:
    """Start ``aither webhooks`` and point a fresh repository hook of the local GitHub at it.

    The secret is made here, per start, and given to the receiver alone: no Dagster process
    (and so no PR code) sees it. Hooks of earlier starts are removed first.
    """
    secret = secrets.token_hex(32)
    secret_env = load_operator_config(env["AITHER_CONFIG"]).github.webhook_secret_env
    url = stack.start_webhook_receiver({**env, secret_env: secret}, free_port(8790), dagster_url)
    owner, name = repository.split("/")
    store = LocalGitHub(data_dir / "github")
    try:
        for hook in store.hooks(owner, name):
            store.delete_hook(owner, name, hook["id"])
        store.create_hook(owner, name, url, secret=secret, events=("pull_request", "issue_comment"))
    finally:
        store.close()
    return url


def run_interactive(data_dir: Path, reset: bool, ui_port: int, profile: str = "embedded") -> None:
    seeded = prepare(data_dir, reset)
    with Stack(data_dir) as stack:
        urls = start(stack, data_dir, seeded, sensor_interval=10, ui_port=free_port(ui_port), interactive=True,
                     profile=profile)
        try_file = write_try_file(data_dir)
        print(f"Dagster UI:    {urls['dagster']}")
        print(f"Local GitHub:  {urls['github']}/repos/{seeded.repository}/pulls")
        print(f"Registry:      http://{urls['registry']}/v2/_catalog")
        print(f"Dashboards:    {urls['pages']}/")
        print(f"Webhooks:      {urls['webhooks']} (pull_request and issue_comment events from the local GitHub)")
        print(f"Logs:          {data_dir / 'logs'}")
        for line in try_lines(urls["dagster"], urls["pages"], data_dir, seeded, try_file):
            print(line)
        print("Ctrl-C stops everything this demo started.", flush=True)
        try:
            while all(proc.poll() is None for _, proc in stack.procs):
                time.sleep(1)
            dead = [name for name, proc in stack.procs if proc.poll() is not None]
            print(f"stopping: {', '.join(dead)} exited (see {data_dir / 'logs'})")
        except KeyboardInterrupt:
            print(f"\nstopping the {profile} stack ...", flush=True)
    print(left_running_message(data_dir), flush=True)


#: The branch and base of the newcomer's own PR (``dev`` runs the whole pipeline, like the seeded PRs).
TRY_BRANCH, TRY_BASE = "my-change", "dev"


def write_try_file(data_dir: Path) -> Path:
    """A file to push as one's own change (kept when it exists: the user may have edited it)."""
    path = data_dir / "try" / "VERSION"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("1.4.0\n")
    return path


def aither_command() -> str:
    """This installation's ``aither`` (the venv's), as a shell word."""
    return shlex.quote(str(Path(sys.executable).parent / "aither"))


def location_name() -> str:
    """The code location ``pr_pipeline`` lives in, as workspace.yaml names it."""
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    return workspace["load_from"][0]["python_module"]["location_name"]


def try_lines(dagster_url: str, pages_url: str, data_dir: Path, seeded: Seeded, try_file: Path) -> list[str]:
    """What to try, with this demo's own URLs and data folder filled in."""
    first = next(p for p in seeded.prs if p.should_run and not p.expect_failure)
    github = f"{aither_command()} local-github --data {shlex.quote(str(data_dir / 'github'))}"
    graph = f"{dagster_url}/locations/{location_name()}/jobs/{PIPELINE_JOB_NAME}"
    return [
        "Try:",
        f"  1. the {PIPELINE_JOB_NAME} asset graph:  {graph}",
        f"  2. PR #{first.number}'s dashboard (once its first run finished):  {pages_url}/pr-{first.number}/",
        f"  3. a PR of your own (change {shlex.quote(str(try_file))} first if you like), then watch it in 1.:",
        f"     {github} push {seeded.repository} {TRY_BRANCH} --base {TRY_BASE} --author alice -m 'My change' "
        f"--file app/VERSION=@{shlex.quote(str(try_file))}",
        f"     {github} open-pr {seeded.repository} --head {TRY_BRANCH} --base {TRY_BASE} --title 'My change' "
        "--user alice",
    ]


def demo_environments(data_dir: Path):
    """The preview containers of this demo: the app its operator config names (the sample's by default)."""
    from aither_assets.environments.docker_env import PreviewEnvironments

    config = data_dir / "aither.yaml"
    app = load_operator_config(config).app if config.is_file() else REPO
    return PreviewEnvironments(app=app)


def left_running_message(data_dir: Path) -> str:
    """What the demo leaves behind when it stops: its preview containers, and how to remove them."""
    try:
        names = [c.name for c in demo_environments(data_dir).list_ours() if c.status == "running"]
    except Exception as exc:  # noqa: BLE001 - the engine went away: say so, do not fail the stop
        return f"could not list the preview containers ({exc})"
    if not names:
        return "No preview containers left running."
    return (f"{len(names)} preview container{'s' if len(names) != 1 else ''} left running ({', '.join(names)}); "
            f"remove them with: {aither_command()} demo --teardown --data {shlex.quote(str(data_dir))}")


def teardown(data_dir: Path) -> list[str]:
    """Remove this demo's preview and ring containers (running or not) and release their ports; their names."""
    from aither_assets.environments.ports import PortAllocator

    environments = demo_environments(data_dir)
    names = [c.name for c in environments.list_ours()]
    environments.sweep(open_prs=set())
    config = data_dir / "aither.yaml"
    if config.is_file():
        operator = load_operator_config(config)
        # the ring environments (<app>-<ring>) outlive PRs: a stopped demo removes them here too
        names += [f"{operator.app}-{ring}" for ring in remove_rings(operator.rings.ladder, operator.app)]
        ports_db = operator.storage.root / "ports.sqlite3"
        if ports_db.is_file():
            ports = PortAllocator(ports_db, *operator.preview.port_range)
            for pr in list(ports.allocations()):
                ports.release(pr)
    return names


def run_once(data_dir: Path, json_path: Path, reset: bool, timeout: float, profile: str = "embedded") -> int:
    """Seed, let the real sensors and daemon process every PR, push once more to one PR (its second
    iteration), write the summary, tear down and stop everything."""
    import dagster as dg

    from aither_assets.reporting.summary import summarize

    seeded = prepare(data_dir, reset)
    with Stack(data_dir) as stack:
        env = start(stack, data_dir, seeded, sensor_interval=2, profile=profile)
        with environment({k: v for k, v in env.items() if k.isupper()}):
            config = load_operator_config(env["AITHER_CONFIG"])
            client = client_from_config(config, {TOKEN_ENV: seeded.api_token})
            expected = {p.number for p in seeded.prs if p.should_run}
            instance = dg.DagsterInstance.get()
            summary: dict = {"prs": []}
            scenario: dict = {}
            try:
                deadline = time.monotonic() + timeout
                _wait_for_runs(instance, [pr for pr in client.open_pulls() if pr.number in expected], deadline, stack)
                second = push_second_iteration(data_dir, seeded)
                _wait_for_runs(instance, [client.pull(second)], deadline, stack)
                scenario = run_scenario(data_dir, seeded, instance, deadline)
                wait_for_auto_promotion(instance, AUTO_RING, deadline)
            finally:
                pulls = client.open_pulls()
                summary = summarize(instance, pulls, config.rings.entry_ring)
                summary["promotion_scenario"] = scenario
                summary["promotions"] = promotion_summary(instance, config.rings.ladder)
                summary["auto_promotions"] = auto_promotion_summary(instance, config.rings.ladder)
                summary["metrics"] = metrics_summary(instance, config.rings.ladder, client)
                summary["staleness"] = staleness_summary(instance, next(p.number for p in seeded.prs
                                                                        if p.name == "items-pagination"))
                summary["rings"] = live_rings(instance, config.rings.ladder, config.app)
                summary.update(rollback_summary(instance, config.rings.ladder))
                try:
                    summary["trace"] = lineage(instance, config.rings.ladder, "ring-0")
                except ValueError as exc:
                    summary["trace"] = {"error": str(exc)}
                summary["rings_removed"] = remove_rings(config.rings.ladder, config.app)
                verify_images_in_registry(summary, config)
                summary["github"] = github_feedback_facts(client, pulls)
                summary["webhook_deliveries"] = webhook_deliveries(env["webhooks"])
                summary["teardown"] = teardown_all(config, client)
                summary["profile"] = profile
                if profile == "production":
                    summary["runs_in_containers"] = runs_in_containers(instance)
                json_path.parent.mkdir(parents=True, exist_ok=True)
                json_path.write_text(json.dumps(summary, indent=2))
                instance.dispose()
    if profile == "production":  # after the stack stopped: no container of this deployment, no database server
        summary["teardown"].update(stopped_after(data_dir))
        json_path.write_text(json.dumps(summary, indent=2))
    problems = verdict(summary, seeded) + promotion_problems(summary, seeded) + auto_promotion_problems(summary, seeded)
    for line in problems:
        print(f"FAIL {line}")
    print(f"{len(summary['prs'])} PRs, {sum(1 for p in summary['prs'] if p['run_status'])} runs; "
          f"summary in {json_path}")
    return 1 if problems else 0


def runs_in_containers(instance) -> dict:
    """How many of the instance's runs the DockerRunLauncher started in a container, and from which images."""
    from dagster._core.storage.tags import DOCKER_IMAGE_TAG
    from dagster_docker.docker_run_launcher import DOCKER_CONTAINER_ID_TAG

    runs = instance.get_runs()
    return {"runs": len(runs), "with_container": sum(1 for r in runs if r.tags.get(DOCKER_CONTAINER_ID_TAG)),
            "images": sorted({r.tags[DOCKER_IMAGE_TAG] for r in runs if DOCKER_IMAGE_TAG in r.tags})}


def stopped_after(data_dir: Path) -> dict:
    """What the production profile left behind: containers of this deployment, and whether Postgres answers."""
    from aither_assets.devstack.production import left_containers

    pid_file = data_dir / "postgres" / "data" / "postmaster.pid"
    try:
        os.kill(int(pid_file.read_text().splitlines()[0]), 0)
        running = True
    except (OSError, ValueError, IndexError):
        running = False  # no pid file, or a stale one
    facts = {"containers_left": left_containers(data_dir), "postgres_running": running}
    if running:  # why: what pg_ctl and the server said
        log = data_dir / "postgres" / "data.log"
        facts["postgres_log_tail"] = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    return facts


def push_second_iteration(data_dir: Path, seeded: Seeded) -> int:
    """A new head on the first PR that runs: a second iteration (v2 tag, same sticky comment)."""
    first = next(p for p in seeded.prs if p.should_run and not p.expect_failure)
    store = LocalGitHub(data_dir / "github")
    try:
        pr = store.get_pr(*seeded.repository.split("/"), first.number)
        store.commit_files(*seeded.repository.split("/"), pr["head_ref"], {"app/VERSION": "1.1.1\n"},
                           "Bump the version again", author="alice")
    finally:
        store.close()
    return first.number


def webhook_deliveries(receiver_url: str) -> list[dict]:
    """What the receiver got and did with it (its /deliveries listing)."""
    with urllib.request.urlopen(receiver_url.removesuffix(WEBHOOK_PATH) + "/deliveries", timeout=10) as response:
        return json.loads(response.read())["deliveries"]


def github_feedback_facts(client, pulls) -> dict:
    """What GitHub shows for each PR (read back through the API): sticky comments, statuses, deployments."""
    from aither_assets.feedback import MARKER

    facts = {}
    for pr in pulls:
        comments = [c for c in client.comments(pr.number) if c.body.startswith(MARKER)]
        combined = client.combined_status(pr.head_sha)
        deployments = client.deployments(environment=f"pr-{pr.number}")
        facts[str(pr.number)] = {
            "sticky_comments": len(comments),
            "statuses": {s["context"]: s["state"] for s in combined.get("statuses", [])},
            "deployments": len(deployments),
        }
    return facts


def verify_images_in_registry(summary: dict, config) -> None:
    """Each pushed tag must resolve to the digest the asset recorded (read from the registry itself)."""
    from aither_assets.images.registry import RegistryClient

    registry = RegistryClient(config.registry.address, insecure=config.registry.insecure or None)
    for pr in summary["prs"]:
        image = pr["assets"].get("container_image", {})
        if image.get("status") != "MATERIALIZED":
            continue
        repository = image["metadata"]["reference"].split("@")[0].split("/", 1)[1]
        resolved = {tag: registry.head_manifest(repository, tag) for tag in image["metadata"]["tags"]}
        image["registry_tags"] = resolved
        image["registry_verified"] = all(d == image["metadata"]["digest"] for d in resolved.values())
        environment = pr["assets"].get("pr_environment", {})
        ring = environment.get("metadata", {}).get("ring_tag", "")
        if environment.get("status") == "MATERIALIZED" and not ring.startswith("none"):
            # the ring tag is set on deploy: it must name the digest the preview runs
            deployed = environment["metadata"]["digest"]
            environment["ring_tag_verified"] = registry.head_manifest(repository, ring) == deployed


def teardown_all(config, client) -> dict:
    """--once leaves nothing running: every preview container of the app removed, every port freed,
    and the PRs' GitHub deployments marked inactive (what the teardown job does one PR at a time)."""
    from aither_assets.environments.docker_env import PreviewEnvironments
    from aither_assets.environments.ports import ports_for
    from aither_assets.feedback import deactivate_deployments

    environments = PreviewEnvironments(app=config.app)
    removed = environments.sweep(open_prs=set())
    for pr in removed:
        deactivate_deployments(client, pr)
    ports = ports_for(config.storage.root, config.state_postgres_url(os.environ), *config.preview.port_range)
    for pr in list(ports.allocations()):
        ports.release(pr)
    return {"removed_prs": sorted(removed), "left_running": [c.name for c in environments.list_ours()]}


def _wait_for_runs(instance, pulls, deadline: float, stack: Stack) -> None:
    """Until each PR's head has a finished pipeline run that reported: in its own last steps, or by a
    report run that has finished."""

    from aither_assets.reporting.summary import report_record, reported_in_run, run_for_head

    pending = {pr.number: pr for pr in pulls}
    while pending:
        for number, pr in list(pending.items()):
            run = run_for_head(instance, pr)
            if run is None or run.status.value not in TERMINAL:
                continue
            if reported_in_run(instance, run.run_id):
                del pending[number]
                continue
            report = report_record(instance, run.run_id)
            if report is not None and report.dagster_run.status.value in TERMINAL:
                del pending[number]
        dead = [name for name, proc in stack.procs if proc.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited early; see {stack.data_dir / 'logs'}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"PRs {sorted(pending)} had no finished, reported run in time")
        time.sleep(1)


def verdict(summary: dict, seeded: Seeded) -> list[str]:
    """Every way the demo's outcome differs from what each seeded PR should do."""
    by_number = {p["number"]: p for p in summary["prs"]}
    problems = []
    for pr in seeded.prs:
        got = by_number.get(pr.number)
        if got is None:
            problems.append(f"#{pr.number} ({pr.name}) is not in the summary")
        elif not pr.should_run:
            if got["run_status"] is not None:
                problems.append(f"#{pr.number} ({pr.name}) should not run but has a {got['run_status']} run")
            elif not got["skipped_reason"]:
                problems.append(f"#{pr.number} ({pr.name}) was not run but no skip reason was recorded")
        else:
            want = "FAILURE" if pr.expect_failure else "SUCCESS"
            if got["run_status"] != want:
                problems.append(f"#{pr.number} ({pr.name}) run is {got['run_status']}, "
                                f"expected {want}: {got['failures']}")
            image = got["assets"].get("container_image", {})
            if image.get("status") == "MATERIALIZED" and not image.get("registry_verified"):
                problems.append(f"#{pr.number} ({pr.name}) image tags do not resolve to its digest: "
                                f"{image.get('registry_tags')}")
            if got["assets"].get("pr_environment", {}).get("ring_tag_verified") is False:
                problems.append(f"#{pr.number} ({pr.name}) ring tag does not name the deployed digest")
    for number, facts in summary.get("github", {}).items():
        ran = by_number.get(int(number), {}).get("run_status")
        if ran and facts["sticky_comments"] != 1:
            problems.append(f"#{number} has {facts['sticky_comments']} sticky comments, expected exactly one")
    if summary.get("teardown", {}).get("left_running"):
        problems.append(f"preview containers still running after teardown: {summary['teardown']['left_running']}")
    if summary.get("teardown", {}).get("containers_left"):
        problems.append(f"containers of the deployment left after stopping: {summary['teardown']['containers_left']}")
    if summary.get("teardown", {}).get("postgres_running"):
        problems.append("PostgreSQL is still running after stopping")
    return problems
