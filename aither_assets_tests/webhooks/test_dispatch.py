"""The dispatcher against the real local GitHub server and a real instance whose runs queue.

Runs are submitted through ``launch``; here it records the tags and adds the run to the instance
as the webserver would (queued), so later deliveries and the sensor see it. The GraphQL launch
itself runs in the demo test (aither_assets_tests/devstack/demo), against a real webserver.
"""

import dagster as dg
import pytest

from aither_assets.prs.claims import claims_for
from aither_assets.runs.partitions import PR_PARTITIONS_NAME
from aither_assets.webhooks.dispatch import RunDispatcher
from aither_assets.webhooks.events import Delivery
from aither_assets_tests.conftest import OWNER, REPO
from aither_assets_tests.runtime.support import queue_run


@pytest.fixture
def launched():
    return []


@pytest.fixture
def config(github, tmp_path):
    return github.operator_config(storage={"root": str(tmp_path / "store")})  # the claims file goes there


@pytest.fixture
def dispatch(github, config, queued_instance, launched):
    def launch(tags):
        launched.append(tags)
        return queue_run(queued_instance, int(tags["aither/pr"]), tags["aither/head-sha"], **{"n": str(len(launched))})

    return RunDispatcher(config, github.client(), queued_instance, launch)


def delivery(github, number, guid="d-1"):
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    return Delivery(guid, "pull_request", "synchronize", f"{OWNER}/{REPO}", number, sha)


def test_new_head_gets_its_partition_and_a_queued_run(github, dispatch, launched, queued_instance):
    number = github.open_pr("items")
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    outcome = dispatch(delivery(github, number))
    assert outcome.startswith("run ") and sha[:12] in outcome
    (tags,) = launched
    assert tags == {"aither/pr": str(number), "aither/head-sha": sha, "aither/base-ref": "dev",
                    "dagster/partition": str(number), "aither/trigger": "webhook", "aither/webhook-delivery": "d-1"}
    assert queued_instance.get_dynamic_partitions(PR_PARTITIONS_NAME) == [str(number)]


def test_a_head_is_run_once_whatever_the_number_of_deliveries(github, dispatch, launched):
    number = github.open_pr("items")
    dispatch(delivery(github, number, "d-1"))
    assert "has a run already" in dispatch(delivery(github, number, "d-2"))  # redelivery, or labeled after opened
    assert len(launched) == 1


def test_the_head_read_from_github_wins_over_the_one_in_the_event(github, dispatch, launched):
    number = github.open_pr("items")
    stale = delivery(github, number)
    newest = github.push(number, {"app/items.py": "NAME = 'v2'\n"})
    dispatch(stale)  # the event said the older head; GitHub says the newer one
    assert [t["aither/head-sha"] for t in launched] == [newest]


def test_filters_apply_as_in_the_sensor(github, dispatch, launched):
    draft = github.open_pr("draft", draft=True)
    assert dispatch(delivery(github, draft)).startswith("skipped: ")
    assert launched == []


def test_newer_head_cancels_the_older_heads_queued_run(github, dispatch, queued_instance):
    number = github.open_pr("items")
    older = queue_run(queued_instance, number, github.store.get_pr(OWNER, REPO, number)["head_sha"])
    github.push(number, {"app/items.py": "NAME = 'v2'\n"})
    assert "1 older run(s) cancelled" in dispatch(delivery(github, number))
    assert queued_instance.get_run_by_id(older).status == dg.DagsterRunStatus.CANCELED


def test_closed_pr_is_left_to_the_sensor(github, dispatch, launched):
    number = github.open_pr("items")
    github.store.close_pr(OWNER, REPO, number)
    assert "not open" in dispatch(delivery(github, number))
    assert launched == []


def test_a_head_the_sensor_claimed_is_left_to_it(github, config, dispatch, launched):
    number = github.open_pr("items")
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    claims_for(config.storage.root).claim([(number, sha)], "PR sensor")
    assert dispatch(delivery(github, number)) == f"head {sha[:12]} is being started by the PR sensor"
    assert launched == []


def test_a_failed_submission_gives_the_head_back(github, config, queued_instance):
    number = github.open_pr("items")
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]

    def unreachable(tags):
        raise ConnectionError("webserver down")

    dispatch = RunDispatcher(config, github.client(), queued_instance, unreachable)
    with pytest.raises(ConnectionError):
        dispatch(delivery(github, number))
    assert claims_for(config.storage.root).holder(number, sha) is None  # the sensor may start it
