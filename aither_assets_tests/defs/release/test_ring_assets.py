"""Ring promotion on the product's path: the ring assets run against a real Dagster instance, the local
GitHub (comments, permissions, deployments) and, for deploys, the real Docker engine and registry.

The pipeline's own assets are stood in for by one multi-asset with the same keys and checks, so a
test decides what the candidate's pipeline run passed without building anything.
"""

import os
import subprocess
import sys
import time
import uuid

import dagster as dg
import pytest
import yaml

from aither_assets.defs.release.assets import build_ring_asset
from aither_assets.defs.resources import AitherConfig, GitHubResource, WorkspaceResource
from aither_assets.environments.ring_env import RingEnvironments
from aither_assets.images.registry import RegistryClient
from aither_assets.promotion.names import COMMAND_COMMENT_TAG, ring_asset_names
from aither_assets.runs import rings as records
from aither_assets.runs.partitions import pr_partitions
from aither_assets_tests.conftest import OWNER, REPO
from aither_assets_tests.environments.docker_support import SAMPLE, remove_app_containers
from aither_assets_tests.images.conftest import free_port

LADDER = ("dev", "staging", "ring-0")
NAMES = ring_asset_names(LADDER)
PIPELINE = (SAMPLE / ".aither" / "pipeline.yaml").read_text()
CHECKS = {"validation_report": "no_error_findings", "unit_tests": "all_tests_passed",
          "domain_tests": "all_tests_passed", "integration_tests": "all_tests_passed",
          "smoke_report": "smoke_passed"}


class Build(dg.Config):
    digest: str
    reference: str
    head_sha: str
    failing_check: str = ""


@dg.multi_asset(
    specs=[dg.AssetSpec(key, partitions_def=pr_partitions) for key in ("container_image", *CHECKS)],
    check_specs=[dg.AssetCheckSpec(check, asset=asset) for asset, check in CHECKS.items()],
)
def stand_in_pipeline(config: Build):
    yield dg.MaterializeResult(asset_key="container_image", metadata={
        "digest": config.digest, "reference": config.reference, "head_sha": config.head_sha})
    for asset, check in CHECKS.items():
        yield dg.MaterializeResult(asset_key=asset)
        yield dg.AssetCheckResult(asset_key=asset, check_name=check, passed=asset != config.failing_check,
                                  description="stand-in")


RINGS = [build_ring_asset(ring, LADDER[i - 1] if i else None, NAMES) for i, ring in enumerate(LADDER)]


@pytest.fixture
def stack(github, tmp_path, monkeypatch):
    """Operator config with a three-ring ladder on free ports, the resources, a real instance."""
    yield from open_stack(github, tmp_path, monkeypatch)


def open_stack(github, tmp_path, monkeypatch, freeze: dict | None = None, **overrides):
    """The stack fixture's body; ``freeze`` is the rings' freeze config, ``overrides`` adds to a ring's policy
    (e.g. staging={"auto_promote": True})."""
    monkeypatch.setenv("AITHER_TEST_TOKEN", github.token)
    app = f"aither-test-{uuid.uuid4().hex[:8]}"
    policies = {"dev": {"approvals": 0, "port": free_port()}, "staging": {"approvals": 0, "port": free_port()},
                "ring-0": {"approvals": 1, "port": free_port(), "soak_seconds": 0, "require_merged": False}}
    for ring, extra in overrides.items():
        policies[ring.replace("_", "-")].update(extra)
    operator = github.operator_config(app_name=app, storage={"root": str(tmp_path / "store")},
                                      registry={"address": "127.0.0.1:5999", "insecure": True},
                                      rings={"ladder": list(LADDER), "policies": policies,
                                             "entry": [{"branch": "dev", "ring": "dev"},
                                                       {"branch": "main", "ring": "ring-0"}],
                                             **({"freeze": freeze} if freeze else {})})
    config_file = tmp_path / "aither.yaml"
    config_file.write_text(yaml.safe_dump(operator.model_dump(mode="json")))
    config = AitherConfig(path=str(config_file))
    gh = GitHubResource(config=config)
    resources = {"aither_config": config, "github": gh, "workspace": WorkspaceResource(config=config, github=gh)}
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        yield Stack(github, instance, resources, app, config_file, tmp_path / "home")
    remove_app_containers(app)


class Stack:
    def __init__(self, github, instance, resources, app, config_file=None, home=None):
        self.github, self.instance, self.resources, self.app = github, instance, resources, app
        self.config_file, self.home = config_file, home
        self.pages = resources["aither_config"].operator.storage.pages

    def open_pr(self, name: str, base: str = "dev") -> int:
        number = self.github.open_pr(name, base=base, files={".aither/pipeline.yaml": PIPELINE})
        self.instance.add_dynamic_partitions(pr_partitions.name, [str(number)])
        return number

    def head(self, number: int) -> str:
        return self.github.store.get_pr(OWNER, REPO, number)["head_sha"]

    def build(self, number: int, digest: str, reference: str = "", failing_check: str = "") -> None:
        result = dg.materialize(
            [stand_in_pipeline], partition_key=str(number), instance=self.instance,
            run_config={"ops": {"stand_in_pipeline": {"config": {
                "digest": digest, "reference": reference or f"127.0.0.1:5999/x@{digest}",
                "head_sha": self.head(number), "failing_check": failing_check}}}},
            raise_on_error=False)
        assert result.success

    def promote(self, number: int, ring: str, reason: str = "test", tags: dict | None = None, **config):
        """A run of ``ring``'s asset for PR ``number`` (``config``: mode, break_glass)."""
        ring_def = RINGS[LADDER.index(ring)]
        return dg.materialize(
            [ring_def, stand_in_pipeline, *[r for r in RINGS if r is not ring_def]], selection=[ring_def.key],
            partition_key=str(number), instance=self.instance, resources=self.resources, tags=tags or {},
            run_config={"ops": {NAMES[ring]: {"config": {"reason": reason, **config}}}}, raise_on_error=False)

    def comment(self, number: int, body: str, user: str) -> int:
        time.sleep(1.05)  # GitHub's times are whole seconds: after the build, not within its second
        return self.github.store.create_comment(OWNER, REPO, number, body, user=user)["id"]


def failure_message(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the promotion should have failed"
    return failures[0].event_specific_data.error.message


def last_observation(stack, ring, number) -> dict:
    record = stack.instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(NAMES[ring]), asset_partitions=[str(number)]), limit=1).records[0]
    return {k: getattr(v, "value", v) for k, v in record.asset_observation.metadata.items()}


DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def test_refusal_lists_every_unmet_gate_and_changes_nothing(stack):
    number = stack.open_pr("feature")
    stack.build(number, DIGEST_A, failing_check="unit_tests")
    stack.comment(number, "/approve ring-0", user="alice")  # the PR's author
    result = stack.promote(number, "ring-0", reason="canary")
    assert not result.success
    message = failure_message(result)
    assert "refused: 3 unmet gates" in message
    assert "build: unit_tests:all_tests_passed failed" in message
    assert "ring_below: sha256:aaaaaaaaaaaa has not been live and verified in staging" in message
    assert "approvals: 0 of 1 approval" in message and "alice ignored: the PR's author" in message
    observed = last_observation(stack, "ring-0", number)
    assert observed["outcome"] == "refused" and {g["gate"] for g in observed["unmet_gates"]} == {
        "build", "ring_below", "approvals"}
    assert observed["requester"] == "Dagster UI (unauthenticated)" and observed["reason"] == "canary"
    assert records.live(stack.instance, "ring-0") is None
    assert not stack.instance.fetch_materializations(dg.AssetKey(NAMES["ring-0"]), limit=1).records
    page = (stack.pages / "rings" / "ring-0.html").read_text()
    assert "Nothing is running in ring-0" in page and "refused" in page and "canary" in page


def test_entry_ring_and_a_ring_below_it(stack):
    number = stack.open_pr("hotfix", base="main")  # enters at ring-0
    stack.build(number, DIGEST_A)
    below = stack.promote(number, "dev")
    assert "entry: the PR enters at ring-0" in failure_message(below)
    at_entry = stack.promote(number, "ring-0")
    message = failure_message(at_entry)
    assert "ring_below" not in message and "1 unmet gate" in message and "approvals" in message


def test_a_new_digest_voids_earlier_approvals_and_a_reader_does_not_count(stack, github):
    github.store.create_user("reader")
    github.store.add_collaborator(OWNER, REPO, "reader", "read")
    number = stack.open_pr("voids", base="main")
    stack.build(number, DIGEST_A)
    stack.comment(number, "/approve ring-0", user="maintainer")
    stack.comment(number, "/approve ring-0", user="reader")
    stack.build(number, DIGEST_B)  # a new build: the approval was for DIGEST_A
    message = failure_message(stack.promote(number, "ring-0"))
    assert "maintainer ignored: approved sha256:aaaaaaaaaaaa, an earlier build" in message
    assert "reader ignored: has read permission, write is needed" in message


def test_a_forged_requester_tag_is_not_believed(stack):
    number = stack.open_pr("forged", base="main")
    stack.build(number, DIGEST_A)
    other = stack.open_pr("other", base="main")
    comment = stack.comment(other, "/promote ring-0 on another PR", user="maintainer")
    stack.comment(number, "/approve ring-0", user="maintainer")
    # the run claims maintainer asked (through a comment on another PR): not accepted, so maintainer's
    # approval still counts and the requester is unauthenticated
    result = stack.promote(number, "ring-0", tags={COMMAND_COMMENT_TAG: str(comment)})
    assert "approvals" not in failure_message(result)
    assert last_observation(stack, "ring-0", number)["requester"] == "Dagster UI (unauthenticated)"
    # a real request by the approver: then the approval does not count (nobody approves their own request)
    request = stack.comment(number, "/promote ring-0 ship it", user="maintainer")
    result = stack.promote(number, "ring-0", tags={COMMAND_COMMENT_TAG: str(request)})
    assert "maintainer ignored: the person requesting the promotion cannot also approve it" in failure_message(result)
    assert last_observation(stack, "ring-0", number)["requester"] == "maintainer"


# -- with Docker: deploy, verify, put back ---------------------------------------------------------


def push(image_id: str, registry) -> str:
    repository = registry.repository()
    subprocess.run(["docker", "tag", image_id, f"{repository}:t"], check=True, capture_output=True)
    subprocess.run(["docker", "push", f"{repository}:t"], check=True, capture_output=True, timeout=300)
    subprocess.run(["docker", "image", "rm", f"{repository}:t"], check=False, capture_output=True)
    digest = RegistryClient(registry.address, insecure=True).head_manifest(repository.split("/", 1)[1], "t")
    return f"{repository}@{digest}"


@pytest.fixture
def pushed(sample_images, local_registry):
    return push(sample_images.id, local_registry), push(sample_images.variant_id, local_registry)


def rings_of(stack) -> RingEnvironments:
    return RingEnvironments(app=stack.app)


@pytest.mark.docker
def test_promotion_deploys_verifies_records_and_retags(stack, pushed, local_registry):
    first, _ = pushed
    number = stack.open_pr("ships")
    stack.build(number, first.split("@")[1], reference=first)
    result = stack.promote(number, "dev", reason="first to dev")
    assert result.success
    live = records.live(stack.instance, "dev")
    assert (live.digest, live.pr, live.reason, live.by) == (first.split("@")[1], number, "first to dev",
                                                            "Dagster UI (unauthenticated)")
    assert rings_of(stack).current("dev").image_ref == first
    repository = first.split("@")[0].split("/", 1)[1]
    registry = RegistryClient(local_registry.address, insecure=True)
    assert registry.head_manifest(repository, "dev-latest") == live.digest
    assert registry.head_manifest(repository, f"dev-pr-{number}-latest") == live.digest
    page = (stack.pages / "rings" / "dev.html").read_text()
    assert "Running now" in page and f"#{number}" in page and "first to dev" in page and "5 of 5 checks" in page
    deployments = stack.github.client().deployments(environment="dev")
    assert len(deployments) == 1 and deployments[0]["transient_environment"] is False
    # then staging: the same digest verified in dev is what staging needs
    assert stack.promote(number, "staging", reason="next").success
    assert records.presence(stack.instance, "dev", str(number), live.digest) is not None


@pytest.mark.docker
def test_failed_verification_puts_the_ring_back_and_fails_naming_the_check(stack, pushed):
    first, second = pushed
    good, bad = stack.open_pr("good"), stack.open_pr("bad")
    stack.build(good, first.split("@")[1], reference=first)
    assert stack.promote(good, "dev").success
    stack.build(bad, second.split("@")[1], reference=second)
    # the ring's smoke checks come from the PR head: this one expects what the app does not answer
    stack.github.push(bad, {".aither/pipeline.yaml": PIPELINE.replace("contains: ok", "contains: not-there")})
    stack.build(bad, second.split("@")[1], reference=second)  # the image of the new head
    result = stack.promote(bad, "dev")
    message = failure_message(result)
    assert "failed verification in dev: smoke /health" in message and f"dev is back on PR #{good}" in message
    observed = last_observation(stack, "dev", bad)
    assert observed["outcome"] == "verification_failed" and observed["restored_digest"] == first.split("@")[1]
    now = rings_of(stack).current("dev")
    assert (now.image_ref, now.pr) == (first, good)
    assert records.live(stack.instance, "dev").pr == good  # the record still names the build that runs


def promote_in_process(home: str, config_file: str, number: int, ring: str) -> None:
    """A promotion in a process of its own, as the daemon launches runs (python -c, see the test below)."""
    config = AitherConfig(path=config_file)
    gh = GitHubResource(config=config)
    resources = {"aither_config": config, "github": gh, "workspace": WorkspaceResource(config=config, github=gh)}
    instance = dg.DagsterInstance.from_config(home)
    ring_def = RINGS[LADDER.index(ring)]
    result = dg.materialize(
        [ring_def, stand_in_pipeline, *[r for r in RINGS if r is not ring_def]], selection=[ring_def.key],
        partition_key=str(number), instance=instance, resources=resources,
        run_config={"ops": {NAMES[ring]: {"config": {"reason": "race"}}}}, raise_on_error=False)
    raise SystemExit(0 if result.success else 1)


@pytest.mark.docker
def test_two_promotions_to_one_ring_at_once_end_on_one_digest(stack, pushed):
    first, second = pushed
    a, b = stack.open_pr("a"), stack.open_pr("b")
    stack.build(a, first.split("@")[1], reference=first)
    stack.build(b, second.split("@")[1], reference=second)
    code = ("import sys; from aither_assets_tests.defs.release.test_ring_assets import promote_in_process as p; "
            "p(sys.argv[1], sys.argv[2], int(sys.argv[3]), 'dev')")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(stack.home), str(stack.config_file), str(n)],
                              env={**os.environ, "AITHER_CONFIG": str(stack.config_file)}) for n in (a, b)]
    assert [proc.wait(timeout=300) for proc in procs] == [0, 0]
    history = records.ring_history(stack.instance, "dev")
    assert len(history) == 2
    live = history[0]
    running = rings_of(stack).current("dev")
    assert running.digest == live.digest and running.pr == live.pr  # what runs is what the record says
    # both ran as promotions of dev (the ring tag the guard and dagster.yaml use)
    runs = {r.dagster_run.run_id: r for r in stack.instance.get_run_records(
        filters=dg.RunsFilter(tags={"aither/ring": "dev"}))}
    assert len(runs) == 2
    # one waited for the other: the later deploy was recorded after the earlier run had ended
    older, newer = history[1], history[0]
    assert newer.since >= runs[older.run_id].end_time


def test_the_authors_own_request_with_only_their_own_approval_is_refused(stack):
    number = stack.open_pr("self", base="main")  # enters at ring-0
    stack.build(number, DIGEST_A)
    stack.comment(number, "/approve ring-0", user="alice")
    request = stack.comment(number, "/promote ring-0 canary, please", user="alice")
    message = failure_message(stack.promote(number, "ring-0", tags={COMMAND_COMMENT_TAG: str(request)}))
    assert "0 of 1 approval for ring-0" in message and "alice ignored: the PR's author cannot approve" in message
    observed = last_observation(stack, "ring-0", number)
    assert observed["outcome"] == "refused" and observed["requester"] == "alice"
    [attempt] = records.promotions(stack.instance, "ring-0", pr=str(number))
    assert attempt["outcome"] == "refused" and attempt["requester"] == "alice"
