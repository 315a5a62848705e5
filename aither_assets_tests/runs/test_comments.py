"""PR comment commands against the local GitHub and a real instance: who may ask, the replies, one launch."""

import dagster as dg
import pytest

from aither_assets.promotion.names import COMMAND_COMMENT_TAG, REQUESTER_TAG, RING_TAG
from aither_assets.promotion.requests import REPLY_MARKER, Permissions
from aither_assets.runs.comments import handle_comment
from aither_assets_tests.conftest import OWNER, REPO


@pytest.fixture
def setup(github, tmp_path):
    github.store.create_user("reader")
    github.store.add_collaborator(OWNER, REPO, "reader", "read")
    config = github.operator_config(storage={"root": str(tmp_path / "store")})
    client = github.client()
    launched = []

    def launch(request):
        launched.append(request)
        return f"run-{len(launched)}"

    with dg.instance_for_test() as instance:
        def handle(comment_id, claimant="webhook receiver"):
            comment = client.comment(comment_id)
            return handle_comment(client, config, instance, comment, claimant, launch, Permissions(client),
                                  "aither-bot")
        yield github, client, handle, launched


def replies(client, number):
    return [c.body for c in client.comments(number) if c.author == "aither-bot"]


def test_a_non_writers_command_is_ignored_with_one_reply(setup):
    github, client, handle, launched = setup
    number = github.open_pr("x")
    comment = github.store.create_comment(OWNER, REPO, number, "/approve ring-0", user="reader")["id"]
    outcome = handle(comment)
    assert outcome.startswith("replied: @reader: `/approve ring-0` ignored: it needs write permission")
    assert handle(comment, claimant="comment sensor") in ("replied already", "reply being posted by another claimant")
    [reply] = replies(client, number)
    assert reply.startswith(REPLY_MARKER.format(id=comment)) and "you have read" in reply
    promote = github.store.create_comment(OWNER, REPO, number, "/promote dev", user="mallory")["id"]  # not a collaborator
    assert "you have read" in handle(promote) and not launched


def test_malformed_and_hostile_comments_get_a_reply_that_does_not_echo_them(setup):
    github, client, handle, launched = setup
    number = github.open_pr("y")
    body = "/promote <img src=x onerror=alert(1)> $(id)"
    comment = github.store.create_comment(OWNER, REPO, number, body, user="maintainer")["id"]
    assert "unknown ring (a malformed name)" in handle(comment)
    [reply] = replies(client, number)
    assert "<img" not in reply and "$(id)" not in reply
    quoted = github.store.create_comment(OWNER, REPO, number, "> /promote dev\n```\n/promote dev\n```",
                                         user="maintainer")["id"]
    assert handle(quoted) == "no action" and not launched


def test_a_writers_promote_launches_once_with_the_comment_as_proof(setup):
    github, client, handle, launched = setup
    number = github.open_pr("z")
    comment = github.store.create_comment(OWNER, REPO, number, "/promote staging looks good", user="maintainer")["id"]
    assert handle(comment).startswith("promotion run run-1 of #")
    [request] = launched
    assert request.job_name == "promote_ring_staging" and request.partition == str(number)
    assert request.tags[COMMAND_COMMENT_TAG] == str(comment) and request.tags[REQUESTER_TAG] == "maintainer"
    assert request.tags[RING_TAG] == "staging"
    assert request.run_config["ops"]["ring_staging"]["config"]["reason"] == "looks good"
    # the sensor sees the same comment: the claim holds it for the receiver
    assert "being started by another claimant" in handle(comment, claimant="comment sensor")
    approve = github.store.create_comment(OWNER, REPO, number, "/approve staging", user="maintainer")["id"]
    assert handle(approve) == "/approve staging noted" and len(launched) == 1 and not replies(client, number)
