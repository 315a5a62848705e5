from aither_assets.config.operator import PRFilters
from aither_assets.github.models import LabelEvent
from aither_assets.prs.filters import approval_spent, fork_approved, skip_reason
from aither_assets_tests.prs.factories import pr

DEFAULT = PRFilters()


def test_open_same_repo_pr_runs():
    assert skip_reason(pr(), DEFAULT) is None


def test_closed_merged_and_draft_are_skipped_with_reasons():
    assert skip_reason(pr(state="closed"), DEFAULT) == "PR is closed"
    assert skip_reason(pr(state="closed", merged=True), DEFAULT) == "PR is merged"
    assert skip_reason(pr(draft=True), DEFAULT).startswith("draft PR")
    assert skip_reason(pr(draft=True), PRFilters(skip_drafts=False)) is None


def test_label_and_branch_filters():
    assert "excluded label" in skip_reason(pr(labels=("skip-ci",)), PRFilters(exclude_labels=("skip-ci",)))
    assert "required labels" in skip_reason(pr(labels=()), PRFilters(include_labels=("ci",)))
    assert skip_reason(pr(labels=("ci",)), PRFilters(include_labels=("ci",))) is None
    assert "base branch" in skip_reason(pr(base_ref="feature"), PRFilters(target_branches=("main", "ring-*")))
    assert skip_reason(pr(base_ref="ring-0-eu"), PRFilters(target_branches=("main", "ring-*"))) is None


def test_fork_waits_for_label():
    fork = pr(head_repo="mallory/web")
    assert "ok-to-test" in skip_reason(fork, DEFAULT)
    assert skip_reason(pr(head_repo="mallory/web", labels=("ok-to-test",)), DEFAULT) is None


def labeled(actor, event="labeled", label="ok-to-test"):
    return LabelEvent(event=event, label=label, actor=actor, created_at="2026-11-01T10:00:00Z")


PERMS = {"maintainer": "write", "owner": "admin", "mallory": "read"}


def test_fork_label_counts_only_from_a_writer():
    assert fork_approved("ok-to-test", [labeled("maintainer")], PERMS.get) == (
        True, "approved by maintainer (write)", "2026-11-01T10:00:00Z")
    ok, why, _ = fork_approved("ok-to-test", [labeled("mallory")], PERMS.get)
    assert not ok and "'mallory', who has 'read' permission" in why


def test_latest_labeling_counts():
    events = [labeled("owner"), labeled("owner", "unlabeled"), labeled("mallory")]
    assert not fork_approved("ok-to-test", events, PERMS.get)[0]
    assert not fork_approved("ok-to-test", [labeled("owner"), labeled("owner", "unlabeled")], PERMS.get)[0]
    assert fork_approved("ok-to-test", [labeled("mallory", label="other"), labeled("owner")], PERMS.get)[0]


def test_an_approval_covers_the_head_it_ran_and_no_later_one():
    approval = fork_approved("ok-to-test", [labeled("maintainer")], PERMS.get)
    assert approval_spent("ok-to-test", approval, used_by=None) is None
    why = approval_spent("ok-to-test", approval, used_by="a" * 40)
    assert why.startswith("new commits since the 'ok-to-test' label was set (approved by maintainer (write)")
    assert "aaaaaaaa" in why and "sets the label again" in why
    refused = fork_approved("ok-to-test", [labeled("mallory")], PERMS.get)
    assert approval_spent("ok-to-test", refused, used_by="a" * 40) is None  # refused already, for its own reason
