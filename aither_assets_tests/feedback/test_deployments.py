"""A GitHub Deployment per PR environment: pr-<N>, transient, success with its URL, inactive at teardown."""

from __future__ import annotations

from aither_assets.feedback import deactivate_deployments, environment_name, record_deployment
from aither_assets_tests.conftest import OWNER, REPO


def statuses(github, deployment_id: int) -> list[dict]:
    return github.store.list_deployment_statuses(github.store.repo_row(OWNER, REPO), deployment_id)


def test_record_then_deactivate(github) -> None:
    number = github.open_pr("preview")
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    client = github.client()

    started = record_deployment(client, number, sha, "http://127.0.0.1:20913", "in_progress")
    done = record_deployment(client, number, sha, "http://127.0.0.1:20913", "success",
                             log_url="http://dagster.local:3000/runs/r-1")
    assert started == done, "one deployment per environment and head, with a status per step"
    [deployment] = client.deployments(environment_name(number))
    assert deployment["environment"] == f"pr-{number}" and deployment["sha"] == sha
    assert deployment["transient_environment"] is True and deployment["production_environment"] is False
    latest = statuses(github, done)[0]
    assert (latest["state"], latest["environment_url"]) == ("success", "http://127.0.0.1:20913")
    assert [s["state"] for s in statuses(github, done)] == ["success", "in_progress"]

    new_sha = github.push(number, {"app/more.py": "X = 1\n"})
    newer = record_deployment(client, number, new_sha, "http://127.0.0.1:20913", "success")
    assert newer != done

    assert deactivate_deployments(client, number) == 2
    assert github.store.deployment_state(done) == github.store.deployment_state(newer) == "inactive"
    assert deactivate_deployments(client, 999) == 0


def test_failures_are_logged_not_raised(github, caplog) -> None:
    number = github.open_pr("flaky")
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    client = github.client()
    assert record_deployment(client, number, sha, "javascript:alert(1)", "failure") is not None
    assert statuses(github, client.deployments(f"pr-{number}")[0]["id"])[0]["environment_url"] == ""

    github.store.set_faults(server_errors=100)
    assert record_deployment(client, number, sha, "http://127.0.0.1:1", "success") is None
    assert deactivate_deployments(client, number) == 0
    assert "not recorded" in caplog.text and "not listed for teardown" in caplog.text
    github.store.clear_faults()
