"""The PR sensor against the real local GitHub server and a real (temporary) Dagster instance."""

import time

import dagster as dg
import pytest
import yaml

from aither_assets.defs.prs.sensors import pull_request_sensor
from aither_assets.defs.resources import AitherConfig, GitHubResource
from aither_assets.prs.claims import claims_for
from aither_assets.runs.partitions import PR_PARTITIONS_NAME
from aither_assets_tests.conftest import OWNER, REPO
from aither_assets_tests.runtime.support import queue_run


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def tick(github, instance, tmp_path, monkeypatch):
    """Evaluate one sensor tick the way the daemon does: cursor carried, partitions applied."""
    monkeypatch.setenv("AITHER_TEST_TOKEN", github.token)
    config_file = tmp_path / "aither.yaml"
    config_file.write_text(yaml.safe_dump(github.operator_config().model_dump(mode="json")))
    config = AitherConfig(path=str(config_file))
    state = {"cursor": None}

    def run():
        before = len(github.store.request_log())
        resources = {"aither_config": config, "github": GitHubResource(config=config)}
        with dg.build_sensor_context(instance=instance, cursor=state["cursor"], resources=resources) as context:
            result = pull_request_sensor(context)
        if isinstance(result, dg.SensorResult):
            state["cursor"] = result.cursor
            for request in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(PR_PARTITIONS_NAME, list(request.partition_keys))
        result.requests = github.store.request_log()[before:]
        return result

    return run


def observed(result, number):
    return [dict((k, v.value) for k, v in e.metadata.items()) for e in result.asset_events if e.partition == str(number)]


def test_new_pr_gets_a_partition_and_a_run_for_its_head(github, tick, instance):
    number = github.open_pr("items")
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    result = tick()
    (request,) = result.run_requests
    assert request.run_key == f"{number}:{sha}"
    assert request.partition_key == str(number)
    assert request.tags == {"aither/pr": str(number), "aither/head-sha": sha, "aither/base-ref": "dev"}
    assert instance.get_dynamic_partitions(PR_PARTITIONS_NAME) == [str(number)]


def test_head_the_webhook_receiver_started_is_not_requested_again(github, tick, instance):
    started, other = github.open_pr("items"), github.open_pr("other")
    queue_run(instance, started, github.store.get_pr(OWNER, REPO, started)["head_sha"], **{"aither/trigger": "webhook"})
    result = tick()
    assert [r.partition_key for r in result.run_requests] == [str(other)]
    assert sorted(instance.get_dynamic_partitions(PR_PARTITIONS_NAME), key=int) == [str(started), str(other)]
    newer = github.push(started, {"app/items.py": "NAME = 'v2'\n"})  # a head nobody started yet
    assert [r.run_key for r in tick().run_requests] == [f"{started}:{newer}"]


def test_head_the_webhook_receiver_is_starting_is_not_requested(github, tick, tmp_path):
    number = github.open_pr("items")
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    # the receiver claimed the head and is submitting its run: no run exists yet
    claims_for(tmp_path / ".aither").claim([(number, sha)], "webhook receiver")
    assert tick().run_requests == []


def test_unchanged_poll_makes_no_run_and_costs_one_conditional_request(github, tick):
    github.open_pr("items")
    tick()
    result = tick()
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
    assert len(result.requests) == 1
    assert result.requests[0]["status"] == 304 and not result.requests[0]["counted"]


def test_new_head_on_known_pr_requests_a_new_run_only_for_that_pr(github, tick, instance):
    first = github.open_pr("items")
    github.open_pr("other")
    tick()
    new_sha = github.push(first, {"app/items.py": "NAME = 'v2'\n"})
    result = tick()
    assert [r.run_key for r in result.run_requests] == [f"{first}:{new_sha}"]
    assert result.dynamic_partitions_requests == []  # the partition exists already
    assert len(instance.get_dynamic_partitions(PR_PARTITIONS_NAME)) == 2


def test_closed_and_merged_prs_are_noted_for_teardown(github, tick):
    closed = github.open_pr("closed")
    merged = github.open_pr("merged")
    tick()
    github.store.close_pr(OWNER, REPO, closed)
    github.store.merge_pr(OWNER, REPO, merged)
    result = tick()
    assert result.run_requests == []
    assert observed(result, closed)[0]["state"] == "closed"
    assert observed(result, merged)[0]["state"] == "merged"
    assert observed(result, merged)[0]["teardown"] == "pending"


def test_draft_is_skipped_with_its_reason_and_runs_when_ready(github, tick):
    number = github.open_pr("wip", draft=True)
    result = tick()
    assert result.run_requests == []
    assert observed(result, number)[0]["skipped_reason"].startswith("draft PR")
    github.store.set_draft(OWNER, REPO, number, False)
    assert [r.partition_key for r in tick().run_requests] == [str(number)]


def open_fork_pr(github):
    github.store.fork_repo(OWNER, REPO, "mallory")
    github.store.commit_files("mallory", REPO, "evil", {"app/x.py": "import os\n"}, "x", author="mallory")
    return github.store.open_pr(OWNER, REPO, head="evil", base="dev", title="fork", user="mallory",
                                head_owner="mallory")


def approval_status(github, number):
    """The aither/approval commit status on the PR's head, as GitHub shows it: (state, description)."""
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    statuses = {s["context"]: s for s in github.client().combined_status(sha)["statuses"]}
    status = statuses.get("aither/approval")
    return (status["state"], status["description"]) if status else None


def test_fork_waits_for_ok_to_test_from_a_writer(github, tick):
    number = open_fork_pr(github)
    result = tick()
    assert result.run_requests == []
    assert "ok-to-test" in observed(result, number)[0]["skipped_reason"]
    state, why = approval_status(github, number)  # the contributor sees why nothing runs
    assert state == "pending" and "'ok-to-test' label from someone with write permission" in why

    github.store.add_labels(OWNER, REPO, number, ["ok-to-test"], actor="mallory")  # the author labels it
    result = tick()
    assert result.run_requests == []
    assert "'mallory', who has 'read' permission" in observed(result, number)[0]["skipped_reason"]

    # GitHub's times have 1 s resolution and a re-label leaves the PR's fields as they were:
    # the next second makes it a visible change (within one second it waits for the resync).
    time.sleep(1.1)
    github.store.remove_label(OWNER, REPO, number, "ok-to-test", actor="maintainer")
    github.store.add_labels(OWNER, REPO, number, ["ok-to-test"], actor="maintainer")
    assert [r.partition_key for r in tick().run_requests] == [str(number)]
    assert approval_status(github, number) == ("success", "approved by maintainer (write)")


def test_one_approval_runs_one_fork_head_and_new_commits_wait_for_a_new_one(github, tick, instance):
    from dagster._core.storage.dagster_run import DagsterRun

    number = open_fork_pr(github)
    github.store.add_labels(OWNER, REPO, number, ["ok-to-test"], actor="maintainer")
    (first,) = tick().run_requests
    assert first.tags["aither/fork-approval"]
    instance.add_run(DagsterRun(job_name="pr_pipeline", run_id="fork-run-1", tags=first.tags))  # the daemon's run

    time.sleep(1.1)  # the next second: a visible change for the poll
    github.push(number, {"app/x.py": "import os, sys\n"})  # the fork author pushes after the approval
    result = tick()
    assert result.run_requests == []
    why = observed(result, number)[0]["skipped_reason"]
    assert why.startswith("new commits since the 'ok-to-test' label was set") and first.tags["aither/head-sha"][:8] in why
    assert approval_status(github, number) == ("pending", why[:140])

    time.sleep(1.1)
    github.store.remove_label(OWNER, REPO, number, "ok-to-test", actor="maintainer")
    github.store.add_labels(OWNER, REPO, number, ["ok-to-test"], actor="maintainer")
    (second,) = tick().run_requests
    assert second.tags["aither/head-sha"] != first.tags["aither/head-sha"]
    assert second.tags["aither/fork-approval"] != first.tags["aither/fork-approval"]


def test_tick_survives_injected_server_errors_and_rate_limits(github, tick):
    number = github.open_pr("items")
    github.store.set_faults(server_errors=2)
    assert [r.partition_key for r in tick().run_requests] == [str(number)]
    github.push(number, {"app/items.py": "v = 2\n"})
    github.store.set_faults(secondary_rate_limits=1, retry_after=1, status=429)
    result = tick()
    assert [r.partition_key for r in result.run_requests] == [str(number)]
    assert [r["status"] for r in result.requests][:1] == [429]


def test_primary_rate_limit_far_away_skips_the_tick_and_keeps_the_cursor(github, tick):
    github.open_pr("items")
    tick()
    github.store.set_faults(primary_rate_limit=1, reset_in=3600)
    result = tick()
    assert isinstance(result, dg.SkipReason) and "rate limit" in result.skip_message


def test_thousand_open_prs_first_and_steady_ticks_stay_far_below_the_limit(github, tick, instance):
    github.store.bulk_open_prs(OWNER, REPO, count=1000, base="dev", author="alice")
    started = time.monotonic()
    first = tick()
    first_seconds = time.monotonic() - started
    assert len(first.run_requests) == 1000
    assert len(instance.get_dynamic_partitions(PR_PARTITIONS_NAME)) == 1000
    started = time.monotonic()
    steady = tick()
    steady_seconds = time.monotonic() - started
    assert steady.run_requests == [] and len(steady.requests) == 1
    # The daemon gives a tick 60 s; a third of that is "far below". Figures: benchmarks/.
    assert first_seconds < 20 and steady_seconds < 20


def test_newer_head_cancels_the_queued_run_of_the_older_head_unless_deploying(github, queued_instance, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("AITHER_TEST_TOKEN", github.token)
    config_file = tmp_path / "aither.yaml"
    config_file.write_text(yaml.safe_dump(github.operator_config().model_dump(mode="json")))
    config = AitherConfig(path=str(config_file))
    first, second = github.open_pr("first"), github.open_pr("second")
    old_first = github.store.get_pr(OWNER, REPO, first)["head_sha"]
    old_second = github.store.get_pr(OWNER, REPO, second)["head_sha"]
    plain = queue_run(queued_instance, first, old_first)
    deploying = queue_run(queued_instance, second, old_second, **{"aither/deploying": "true"})
    unrelated = queue_run(queued_instance, 999, "c" * 40)

    resources = {"aither_config": config, "github": GitHubResource(config=config)}
    with dg.build_sensor_context(instance=queued_instance, resources=resources) as context:
        pull_request_sensor(context)  # first tick: full sync, same heads as the queued runs
    assert queued_instance.get_run_by_id(plain).status == dg.DagsterRunStatus.QUEUED

    github.push(first, {"app/first.py": "v = 2\n"})
    github.push(second, {"app/second.py": "v = 2\n"})
    with dg.build_sensor_context(instance=queued_instance, resources=resources, cursor=context.cursor) as context:
        result = pull_request_sensor(context)
    assert len(result.run_requests) == 2
    assert queued_instance.get_run_by_id(plain).status == dg.DagsterRunStatus.CANCELED
    assert queued_instance.get_run_by_id(deploying).status == dg.DagsterRunStatus.QUEUED  # left to finish its deploy
    assert queued_instance.get_run_by_id(unrelated).status == dg.DagsterRunStatus.QUEUED
