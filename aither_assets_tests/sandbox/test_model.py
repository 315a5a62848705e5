"""The sandbox's pure parts: stop reasons, the launcher's report as hostile input, secret masking, policy, sweep."""

from __future__ import annotations

import base64
import io
import json
import tarfile

import pytest

from aither_assets.config.errors import ConfigError
from aither_assets.config.operator import DEFAULT_RUNNER_IMAGE, OperatorConfig, SandboxConfig, load_operator_config
from aither_assets.config.pipeline import parse_pipeline_config
from aither_assets.sandbox import protocol
from aither_assets.sandbox.launcher import BEGIN, END
from aither_assets.sandbox.model import Limits, SandboxConfigError, SandboxRequest, stop_reason
from aither_assets.sandbox.runner import Sandbox
from aither_assets.sandbox.sweep import Leftover, stale

LIMITS = Limits(memory_mb=512, cpus=1, pids=64, disk_mb=100, tmp_mb=10)


def test_stop_reason_names_every_limit_reached_most_specific_first():
    assert stop_reason(LIMITS, set(), 5) == (None, None)
    reason, message = stop_reason(LIMITS, {"timeout", "pids"}, 5)
    assert reason == "pids"
    assert message == ("stopped by the sandbox: process limit of 64 reached: fork() failed; "
                       "time limit of 5 s reached")
    assert stop_reason(LIMITS, {"disk", "oom"}, 5)[0] == "oom"


def test_the_environment_is_built_from_scratch():
    request = SandboxRequest(("true",), "img", 1, "x", env=(("EXTRA", "1"),))
    assert request.environment() == {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
                                     "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                                     "EXTRA": "1"}


def _block(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return f"{BEGIN}\n{base64.encodebytes(buffer.getvalue()).decode()}{END}\n".encode()


def test_the_report_is_read_as_hostile_input():
    status = json.dumps({"exit_code": 0}).encode()
    forged = _block({"status.json": b'{"exit_code": 5}'})
    logs = forged + b"noise\n" + _block(
        {"status.json": status, "stdout": b"out", "results/r.xml": b"<x/>", "results/other.xml": b"nope",
         "../../etc/passwd": b"evil", "results/big.xml": b"x" * 100},
        symlinks={"results/link.xml": "/etc/shadow"})
    outcome = protocol.read_outcome(logs, ["r.xml", "link.xml", "big.xml", "../../etc/passwd"], max_bytes=50)
    assert outcome.problem is None
    assert outcome.status == {"exit_code": 0}  # the last block counts
    assert outcome.stdout == b"out"
    assert outcome.files == {"r.xml": b"<x/>"}  # not asked for, a link, too big, or a path: ignored


@pytest.mark.parametrize("logs, problem", [
    (b"", "returned no result"),
    (f"{BEGIN}\n!!!\n{END}\n".encode(), "not valid base64"),
    (f"{BEGIN}\n{base64.b64encode(b'not a tar').decode()}\n{END}\n".encode(), "cannot be read"),
])
def test_a_missing_or_broken_report_is_a_problem_not_a_result(logs, problem):
    assert problem in protocol.read_outcome(logs, [], 100).problem


def test_secrets_are_masked_and_reported():
    assert protocol.scrub(b"a tok-123456789 b tok-123456789", ["tok-123456789", ""]) == (b"a *** b ***", True)
    assert protocol.scrub(b"clean", ["tok-123456789"]) == (b"clean", False)


def test_operator_lists_the_runner_images_and_an_unlisted_one_is_a_clear_error():
    box = Sandbox(SandboxConfig(runner_images=(DEFAULT_RUNNER_IMAGE, "acme/runner:2")), "r")
    try:
        assert box.image_for(None, "tests.runner_image") == DEFAULT_RUNNER_IMAGE
        assert box.image_for("acme/runner:2", "tests.runner_image") == "acme/runner:2"
        with pytest.raises(SandboxConfigError) as caught:
            box.image_for("evil/image:latest", "tests.runner_image")
        assert str(caught.value) == (
            ".aither/pipeline.yaml: tests.runner_image: runner image is not allowed by the operator config "
            "(sandbox.runner_images: ['aither/sandbox-runner:3.11-bookworm', 'acme/runner:2']) "
            "(got 'evil/image:latest')")
    finally:
        box.close()
    closed = Sandbox(SandboxConfig(allow_network=False), "r")
    with pytest.raises(SandboxConfigError, match=r"sandbox.allow_network: false\) \(got 'isolated'\)"):
        closed.network_for("isolated", "tests.integration.network")
    closed.close()


def test_operator_config_checks_the_default_image_is_listed(tmp_path):
    path = tmp_path / "operator.yaml"
    path.write_text("repository: acme/web\nsandbox:\n  runner_images: [a/b:1]\n")
    with pytest.raises(ConfigError) as caught:
        load_operator_config(path)
    [line] = str(caught.value).splitlines()
    assert "sandbox" in line and "default_runner_image 'aither/sandbox-runner:3.11-bookworm' is not in" in line


def test_repo_config_names_image_and_network():
    base = "version: 1\napp: {name: web, port: 80}\npackage: {include: [app/*.py]}\n"
    config = parse_pipeline_config(base + "tests:\n  runner_image: acme/runner:2\n  integration:\n"
                                   "    - {name: service, paths: [tests], network: isolated}\n")
    assert config.tests.runner_image == "acme/runner:2" and config.tests.integration[0].network == "isolated"
    with pytest.raises(ConfigError, match="network"):
        parse_pipeline_config(base + "tests:\n  network: host\n")
    with pytest.raises(ConfigError, match="runner_image"):
        parse_pipeline_config(base + "tests:\n  runner_image: 'x; rm -rf /'\n")


def test_secret_values_come_from_the_variables_the_config_names():
    config = OperatorConfig(repository="acme/web")
    env = {"GITHUB_TOKEN": "ghs_abcdefgh123", "AITHER_WEBHOOK_SECRET": "whsec-xyz12345", "OTHER": "not-a-secret"}
    assert config.secret_values(env) == ("ghs_abcdefgh123", "whsec-xyz12345")


def test_sweep_removes_what_runs_that_are_over_left_and_anything_too_old():
    now = 10_000.0
    items = [Leftover("a", "live", now - 5), Leftover("b", "over", now - 5), Leftover("c", "live", now - 9_000)]
    assert [c.id for c in stale(items, now, lambda run: run == "live")] == ["b", "c"]
    assert [c.id for c in stale(items, now)] == ["c"]
