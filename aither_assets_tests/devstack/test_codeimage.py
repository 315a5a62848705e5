"""The production code image: built here from the local Debian base and the locked wheels, reused when unchanged."""

import subprocess

import pytest

from aither_assets.devstack import codeimage


def test_lock_pins_every_requirement_exactly():
    lines = [line for line in codeimage.LOCK_FILE.read_text().splitlines() if line and not line.startswith("#")]
    assert lines and all("==" in line for line in lines), [line for line in lines if "==" not in line]
    names = {line.split("==")[0].lower() for line in lines}
    assert {"dagster", "dagster-postgres", "dagster-docker", "psycopg2-binary"} <= names
    assert "aither-assets" not in names  # the project's own wheel is built from the tree


def test_the_tag_follows_every_input(tmp_path):
    lock = tmp_path / "production.txt"
    lock.write_text("dagster==1.13.27\n")
    first = codeimage.inputs_digest("sha256:base", ["git_1_amd64.deb"], lock)
    assert first == codeimage.inputs_digest("sha256:base", ["git_1_amd64.deb"], lock)
    assert first != codeimage.inputs_digest("sha256:other", ["git_1_amd64.deb"], lock)
    assert first != codeimage.inputs_digest("sha256:base", ["git_2_amd64.deb"], lock)
    lock.write_text("dagster==1.13.28\n")
    assert first != codeimage.inputs_digest("sha256:base", ["git_1_amd64.deb"], lock)


def _run(tag: str, *argv: str) -> str:
    proc = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, *argv], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.docker
def test_code_image_runs_the_control_plane(docker_engine):
    image = codeimage.ensure_code_image(log=lambda _: None)
    assert image.tag.startswith(f"{codeimage.REPOSITORY}:{codeimage.project_version()}-")
    assert _run(image.tag, "python", "-c", "import aither_assets, dagster_postgres, dagster_docker, grpc, psycopg2, sqlite3; "
                "print(aither_assets.__file__)").strip().startswith(codeimage.VENV)
    assert _run(image.tag, "dagster", "--version").strip() == "dagster, version 1.13.27"
    assert _run(image.tag, "git", "--version").startswith("git version")
    # The code location loads from the installed wheel (no pyproject.toml above it; a stale module in the
    # wheel would define an asset twice).
    assert int(_run(image.tag, "python", "-c", "from aither_assets.definitions import defs; "
                    "print(len(list(defs().resolve_all_asset_keys())))").strip().splitlines()[-1]) > 5
    # Unchanged inputs: the same image, nothing rebuilt.
    again = codeimage.ensure_code_image(log=lambda _: None)
    assert (again.tag, again.image_id, again.built) == (image.tag, image.image_id, False)
