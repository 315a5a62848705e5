"""scripts/bootstrap: the set-up step `make demo`, `make test` and .ci/run share.

The script runs for real on this machine. Only apt-get and dockerd (the two things that must not
run when everything is in place) and, for the decision tests, dpkg-query, are replaced by small
recorders placed first on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "bootstrap"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AITHER_SKIP_BOOTSTRAP"}
    return {**env, **extra}


def run(*, path_first: Path | None = None, prefix: tuple[str, ...] = (), script: Path = SCRIPT,
        **env: str) -> subprocess.CompletedProcess:
    environ = _env(**env)
    if path_first is not None:
        environ["PATH"] = f"{path_first}:{environ['PATH']}"
    argv = [*prefix, "bash", str(script)]
    if prefix:  # setpriv resets nothing of the environment, but PATH must survive it
        argv = [*prefix, "env", f"PATH={environ['PATH']}", "bash", str(script)]
    return subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=600, check=False)


def recorders(folder: Path, log: Path, names: tuple[str, ...]) -> Path:
    """Executables that append their name and arguments to ``log`` and succeed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        tool = folder / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        tool.chmod(0o755)
    return folder


def missing_dpkg(folder: Path, package: str) -> None:
    """A dpkg-query that answers like the real one for every package but ``package`` (never installed)."""
    real = shutil.which("dpkg-query")
    tool = folder / "dpkg-query"
    tool.write_text(f'#!/bin/sh\n"{real}" "$@" | sed "s/installed:{package} //"\n')
    tool.chmod(0o755)


def set_up_machine() -> None:
    """The real bootstrap once: after it, this machine is what the other tests call 'already there'."""
    if shutil.which("dpkg-query") is None or shutil.which("apt-get") is None:
        pytest.skip("not a Debian-family machine")
    first = run()
    if first.returncode != 0:
        pytest.skip(f"scripts/bootstrap cannot set this machine up: {first.stderr.strip()}")


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder ``nobody`` can read, with a copy of the script (pytest's tmp_path, and a checkout
    under /root, sit in root-only folders)."""
    with tempfile.TemporaryDirectory(prefix="aither-bootstrap-test-") as folder:
        Path(folder).chmod(0o755)
        shutil.copy(SCRIPT, Path(folder) / "bootstrap")
        yield Path(folder)


def unprivileged() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run the script as nobody")
    return ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")


def test_already_set_up_runs_no_apt_and_starts_nothing(tmp_path: Path) -> None:
    set_up_machine()
    log = tmp_path / "calls.log"
    fake = recorders(tmp_path / "bin", log, ("apt-get", "dockerd"))
    second = run(path_first=fake)
    assert second.returncode == 0, second.stderr
    assert not log.exists(), log.read_text()
    assert second.stdout == "" and second.stderr == ""


def test_missing_package_as_root_is_installed_with_apt(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the install path runs as root")
    set_up_machine()
    log = tmp_path / "calls.log"
    fake = recorders(tmp_path / "bin", log, ("apt-get", "dockerd"))
    missing_dpkg(fake, "docker-registry")
    result = run(path_first=fake)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls == ["apt-get update -qq", "apt-get install -y -qq --no-install-recommends docker-registry"]
    assert "installing docker-registry" in result.stderr


def test_not_root_with_a_missing_package_prints_the_command_to_run(open_tmp: Path) -> None:
    prefix = unprivileged()
    log = open_tmp / "calls.log"
    fake = recorders(open_tmp / "bin", log, ("apt-get", "dockerd"))
    missing_dpkg(fake, "chromium")
    script = open_tmp / "bootstrap"
    result = run(path_first=fake, prefix=prefix, script=script)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"bootstrap: missing Debian packages: chromium: run `sudo {script}` (it needs root), "
                     "then try again"], result.stderr
    assert "Traceback" not in result.stderr and not log.exists()


def test_not_root_without_a_docker_engine_says_what_to_do(open_tmp: Path) -> None:
    set_up_machine()
    prefix = unprivileged()
    # No engine where the client looks: DOCKER_HOST names a socket nobody listens on.
    script = open_tmp / "bootstrap"
    result = run(prefix=prefix, script=script, DOCKER_HOST=f"unix://{open_tmp}/none.sock")
    assert result.returncode == 1
    assert result.stderr == f"bootstrap: no Docker engine answers: run `sudo {script}` (it needs root), then try again\n"


def test_not_root_and_not_allowed_on_the_engine_socket_names_the_docker_group(open_tmp: Path) -> None:
    set_up_machine()
    prefix = unprivileged()
    if not prefix:
        pytest.skip("this user may already use the engine")
    result = run(prefix=prefix, script=open_tmp / "bootstrap", DOCKER_HOST="unix:///var/run/docker.sock")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "sudo usermod -aG docker nobody" in result.stderr


def test_not_debian_names_the_packages_and_the_escape_hatch(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    bash = shutil.which("bash")
    result = subprocess.run([bash, str(SCRIPT)], capture_output=True, text=True, env={"PATH": str(empty)},
                            timeout=60, check=False)
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "\n" not in line and "not a Debian-family system" in line
    assert "docker.io" in line and "AITHER_SKIP_BOOTSTRAP=1" in line


def test_skip_variable_does_nothing(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    fake = recorders(tmp_path / "bin", log, ("apt-get", "dockerd", "dpkg-query", "docker"))
    result = run(path_first=fake, AITHER_SKIP_BOOTSTRAP="1")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not log.exists()


def test_make_test_and_demo_and_ci_run_the_bootstrap_first() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    for target in ("test", "demo"):
        # Under `make test` itself: no Entering-directory lines, no flags of the outer make.
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        plan = subprocess.run([make, "--no-print-directory", "-n", target], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=True, timeout=60).stdout.splitlines()
        assert plan[0] == "bash scripts/bootstrap", plan
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("bash scripts/bootstrap") < ci.index("make test")
