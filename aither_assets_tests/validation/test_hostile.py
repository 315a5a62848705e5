"""Repository content written by an attacker: odd names, links out, huge, binary, bombs."""

import os
import sys

import pytest

from aither_assets.validation import markdown_table
from aither_assets_tests.validation.helpers import (
    MINIMAL_CONFIG,
    of_rule,
    repo,
    validate,
    where,
    write_files,
)

NAMES = [
    "it's \"quoted\".yml",
    "$(touch pwned-a).yml",
    "`touch pwned-b`.yaml",
    "<script>alert(1)<\\script>.yml",
    "ünïcödé 空白 ☃.yaml",
    " leading space.yml",
    "-rf.yml",
    "--help.yaml",
    "a;touch pwned-c;.yml",
]


def _markers(*folders):
    return [p for folder in folders for p in folder.glob("pwned*")]


def test_hostile_file_names_are_reported_and_nothing_is_executed(tmp_path):
    root = tmp_path / "repo"
    marker = tmp_path / "pwned-content"
    bad_yaml = "a: [\n"
    files = {name: bad_yaml for name in NAMES}
    # The same names as workflows: zizmor receives them as arguments (and needs: finds something).
    wf = ("on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    needs: ghost\n"
          f"    steps:\n      - run: echo $(touch {marker}) `touch {marker}`\n")
    files.update({f".github/workflows/{name}": wf for name in NAMES})
    files[".aither/pipeline.yaml"] = MINIMAL_CONFIG + "docker:\n  dockerfile: \"$(touch pwned-d).Dockerfile\"\n  compose: \"--help.yaml\"\n"
    files["$(touch pwned-d).Dockerfile"] = f"FROM python:3.11-slim\nRUN echo $(touch {marker})\n"
    write_files(root, files)

    report = validate(root, hadolint="hadolint", zizmor="zizmor")

    assert _markers(root, tmp_path, root / ".github" / "workflows") == [] and not marker.exists()
    assert not os.path.exists("pwned-a") and not os.path.exists("pwned-d")
    assert {f.file for f in of_rule(report, "yaml-syntax")} == set(NAMES)
    assert {f.file for f in of_rule(report, "needs-missing-job")} == {f".github/workflows/{n}" for n in NAMES}
    assert of_rule(report, "tool-error") == []
    assert any(f.tool == "hadolint" and f.file == "$(touch pwned-d).Dockerfile" for f in report.findings)
    table = markdown_table(report.findings)
    assert "<script>" not in table and "&lt;script&gt;" in table


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlinks_out_of_the_repository_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    write_files(outside, {"secret.yaml": "leak: [\n", "Dockerfile": "FROM secret:latest\n"})
    root = repo(tmp_path / "repo", {"app/.keep": ""}, config=False)
    (root / ".aither").mkdir()
    (root / ".aither" / "pipeline.yaml").symlink_to(outside / "secret.yaml")
    (root / "values.yaml").symlink_to(outside / "secret.yaml")
    (root / "Dockerfile").symlink_to(outside / "Dockerfile")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "evil.yml").symlink_to("/etc/passwd")
    (root / "inside.yaml").symlink_to(root / "app" / ".keep")  # links inside the repo are fine

    report = validate(root, hadolint="hadolint", zizmor="zizmor")

    assert where(of_rule(report, "symlink-skipped")) == {
        (".aither/pipeline.yaml", None, "symlink-skipped", "info"),
        ("values.yaml", None, "symlink-skipped", "info"),
        ("Dockerfile", None, "symlink-skipped", "info"),
        ("linked", None, "symlink-skipped", "info"),
        (".github/workflows/evil.yml", None, "symlink-skipped", "info"),
    }
    assert where(of_rule(report, "pipeline-config")) == {(".aither/pipeline.yaml", None, "pipeline-config", "error")}
    assert of_rule(report, "yaml-syntax") == []  # the outside file was never parsed
    assert not any(f.tool == "hadolint" for f in report.findings)
    assert "root:" not in repr(report.to_json())


def test_huge_binary_and_special_files(tmp_path):
    root = repo(tmp_path, {
        "big.yaml": "a: " + "x" * (1024 * 1024) + "\n",
        "logo.yml": b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00",
        "nul.yaml": "a: b\x00c\n",
    })
    os.mkfifo(root / "pipe.yaml")  # reading it would block forever
    report = validate(root)
    assert where([f for f in report.findings if f.file != ".aither/pipeline.yaml"]) == {
        ("big.yaml", None, "file-too-large", "warning"),
        ("logo.yml", None, "file-encoding", "warning"),
        ("nul.yaml", 1, "yaml-syntax", "error"),
        ("pipe.yaml", None, "file-skipped", "warning"),
    }
    assert "file too large to check" in of_rule(report, "file-too-large")[0].message


def test_yaml_bombs_and_deep_nesting_are_stopped_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    root = repo(tmp_path, {
        "bomb.yaml": "\n".join(lines) + "\n",
        "loop.yaml": "a: &x [*x]\n",
        "deep.yaml": "[" * 300_000 + "]" * 300_000,
        "deep-block.yaml": "- " * 100_000 + "x\n",
        ".github/workflows/bomb.yml": "on: push\njobs: &j\n  a: {runs-on: x, needs: *j}\n",
    })
    report = validate(root)
    assert where([f for f in report.findings if f.rule.startswith("yaml")]) == {
        ("bomb.yaml", None, "yaml-bomb", "error"),
        ("loop.yaml", None, "yaml-bomb", "error"),
        ("deep.yaml", 1, "yaml-syntax", "error"),
        ("deep-block.yaml", 1, "yaml-syntax", "error"),
        (".github/workflows/bomb.yml", None, "yaml-bomb", "error"),
    }


def test_call_fan_out_and_cycles_stay_fast_and_finite(tmp_path):
    # Each level has 40 jobs calling the next: 40**4 call paths if walked naively; a and b call each other.
    files = {}
    for level in range(5):
        jobs = "".join(f"  j{i}:\n    uses: ./.github/workflows/l{level + 1}.yml\n" for i in range(40)) if level < 4 \
            else "  leaf: {runs-on: ubuntu-latest, permissions: {packages: write}, steps: [{run: echo}]}\n"
        on = "push" if level == 0 else "workflow_call"
        files[f".github/workflows/l{level}.yml"] = (f"on: {on}\npermissions: {{contents: read}}\n"
                                                    f"concurrency: g-${{{{ github.run_id }}}}\njobs:\n{jobs}")
    files[".github/workflows/a.yml"] = "on: [push, workflow_call]\njobs:\n  b: {uses: ./.github/workflows/b.yml}\n"
    files[".github/workflows/b.yml"] = "on: workflow_call\njobs:\n  a: {uses: ./.github/workflows/a.yml}\n"
    files[".github/workflows/self.yml"] = "on: [push, workflow_call]\njobs:\n  me: {uses: ./.github/workflows/self.yml}\n"
    repo(tmp_path, files)
    report = validate(tmp_path)  # finishing at all is the point; a naive walk would not
    assert of_rule(report, "internal-error") == []
    # packages: write at the leaf, once per calling job of l3.yml (each names its caller), not once per path
    found = of_rule(report, "reusable-permissions")
    assert {(f.file, f.line) for f in found} == {(".github/workflows/l4.yml", 5)} and len(found) == 40
    assert of_rule(report, "shared-concurrency-group")  # one run: every level shares g-<run_id>


@pytest.mark.parametrize("text", [
    "on: push\npermissions: [contents]\njobs:\n  j: {uses: ./.github/workflows/c.yml, permissions: 5}\n",
    "on: push\nconcurrency: {group: [1, 2]}\njobs:\n  j: {runs-on: [], steps: [5, {run: [x]}, {shell: {a: 1}, run: x}]}\n",
    "on: issue_comment\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        with: [ref]\n",
    "on: push\nconcurrency: ${{ ((((( github.ref }}\njobs:\n  j: {runs-on: x, if: '${{ needs. }}', steps: []}\n",
    "on: push\nrun-name: ${{ inputs[ }}\njobs:\n  j: {runs-on: '${{ matrix.os }}', strategy: {matrix: 5}, steps: []}\n",
])
def test_odd_shapes_in_the_new_rules_do_not_crash(tmp_path, text):
    repo(tmp_path, {".github/workflows/w.yml": text,
                    ".github/workflows/c.yml": "on: workflow_call\npermissions: write-all\njobs:\n  j: {runs-on: x}\n"})
    assert of_rule(validate(tmp_path), "internal-error") == []
