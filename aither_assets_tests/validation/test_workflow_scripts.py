"""Shell-aware `run:` parsing: only bash/sh text is split, and findings point inside the block."""

import pytest

from aither_assets.validation.workflow_scripts import step_shell
from aither_assets.validation.yamlnodes import compose_documents, get
from aither_assets_tests.validation.helpers import fixture_repo, line_of, of_rule, repo, validate, where

BUILD = ".github/workflows/build.yml"
TEST = ".github/workflows/test.yml"
ACTION = ".github/actions/setup-tools/action.yml"
RULE = "missing-script"


def test_pwsh_python_and_windows_defaults_are_not_split_as_shell(tmp_path):
    # build.yml runs on windows-latest (pwsh by default): `$src = Join-Path "./out/reports", $dir` is no script
    # call; test.yml's windows job sets `defaults.run.shell: pwsh`; a `shell: python` step is Python.
    report = validate(fixture_repo(tmp_path, "orchestrator"))
    assert of_rule(report, RULE) == []


def test_the_same_pwsh_text_under_bash_is_read_as_commands(tmp_path):
    # What the pwsh array line `"./artifacts/reports",` looks like to a shell: a command `./artifacts/reports,`.
    root = fixture_repo(tmp_path, "orchestrator", {BUILD: [
        ("      - name: Collect reports\n", "      - name: Collect reports\n        shell: bash\n")]})
    found = of_rule(validate(root), RULE)
    assert where(found) == {(BUILD, line_of(root, BUILD, '"./artifacts/reports",'), RULE, "error")}
    assert "`./artifacts/reports,`" in found[0].message


def test_missing_script_in_a_bash_step_of_a_windows_job_points_inside_the_block(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", remove=("scripts/version.sh",))
    found = of_rule(validate(root), RULE)
    # the `echo "computing the version"` line before it does not fool the line
    assert where(found) == {(BUILD, line_of(root, BUILD, "./scripts/version.sh"), RULE, "error")}
    assert line_of(root, BUILD, "./scripts/version.sh") != line_of(root, BUILD, "run: |", occurrence=2)


def test_matrix_of_linux_and_macos_runs_bash(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", remove=("scripts/test.sh",))
    assert where(of_rule(validate(root), RULE)) == {(TEST, line_of(root, TEST, "./scripts/test.sh"), RULE, "error")}


def test_matrix_with_a_windows_runner_is_not_checked(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {TEST: [("os: [ubuntu-latest, macos-latest]",
                                                            "os: [ubuntu-latest, windows-latest]")]},
                        remove=("scripts/test.sh",))
    assert of_rule(validate(root), RULE) == []


def test_composite_action_steps_are_checked_by_their_shell(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", remove=("scripts/install-tools.sh",))
    assert where(of_rule(validate(root), RULE)) == {(ACTION, line_of(root, ACTION, "install-tools.sh"), RULE, "error")}


@pytest.mark.parametrize("style", ["|", "|-", "|+", ">", ">-"])
def test_every_block_scalar_style_gives_the_line_of_the_word(tmp_path, style):
    repo(tmp_path, {".github/workflows/ci.yml": f"""\
        on: push
        jobs:
          j:
            runs-on: ubuntu-latest
            steps:
              - run: {style}
                  echo "./scripts/gone.sh is called next"

                  ./scripts/gone.sh --fast
                  ./scripts/gone.sh --again
        """})
    assert where(of_rule(validate(tmp_path), RULE)) == {(".github/workflows/ci.yml", 9, RULE, "error")}


def test_continuation_lines_keep_their_place(tmp_path):
    repo(tmp_path, {".github/workflows/ci.yml": """\
        on: push
        jobs:
          j:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  docker build \\
                    --tag x .
                  python tools/gone.py \\
                    --flag
        """})
    assert where(of_rule(validate(tmp_path), RULE)) == {(".github/workflows/ci.yml", 9, RULE, "error")}


@pytest.mark.parametrize(("text", "shell"), [
    ("jobs: {j: {runs-on: ubuntu-latest, steps: [{run: x}]}}", "bash"),
    ("jobs: {j: {runs-on: windows-2022, steps: [{run: x}]}}", "pwsh"),
    ("jobs: {j: {runs-on: [self-hosted, Windows, x64], steps: [{run: x}]}}", "pwsh"),
    ("jobs: {j: {runs-on: windows-latest, steps: [{run: x, shell: bash}]}}", "bash"),
    ("jobs: {j: {runs-on: ubuntu-latest, steps: [{run: x, shell: 'bash --noprofile --norc -eo pipefail {0}'}]}}",
     "bash"),
    ("jobs: {j: {runs-on: ubuntu-latest, steps: [{run: x, shell: 'C:\\tools\\pwsh.EXE {0}'}]}}", "pwsh"),
    ("jobs: {j: {runs-on: ubuntu-latest, steps: [{run: x, shell: cmd}]}}", "cmd"),
    ("defaults: {run: {shell: sh}}\njobs: {j: {runs-on: windows-latest, steps: [{run: x}]}}", "sh"),
    ("jobs: {j: {runs-on: macos-14, defaults: {run: {shell: python}}, steps: [{run: x}]}}", "python"),
    ("jobs: {j: {runs-on: '${{ inputs.runner }}', steps: [{run: x}]}}", None),
    ("jobs: {j: {runs-on: '${{ matrix.os }}', strategy: {matrix: {os: [ubuntu-latest], include: [{os: macos-13}]}},"
     " steps: [{run: x}]}}", "bash"),
])
def test_step_shell(text, shell):
    top = compose_documents(text)[0]
    job = get(get(top, "jobs"), "j")
    assert step_shell(top, job, get(job, "steps").value[0]) == shell


def test_folders_earlier_steps_fill_are_not_reported(tmp_path):
    repo(tmp_path, {".github/workflows/ci.yml": """\
        on: push
        jobs:
          other-repo:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with: {repository: acme/docs, path: docs-site}
              - uses: actions/download-artifact@v4
                with: {name: binary, path: dist-bin}
              - run: |
                  ./docs-site/build.sh
                  ./dist-bin/uv --version
                  git clone --depth 1 https://github.com/acme/tools.git
                  mkdir -p generated/scripts
              - run: ./tools/run.sh && bash generated/scripts/x.sh
              - working-directory: docs-site
                run: ./deploy.sh
              - run: ./really-missing.sh
          replaced-workspace:
            runs-on: ubuntu-latest
            steps:
              - run: git clone --depth=1 https://github.com/acme/other.git .
              - run: bash mongodb-cluster/run.sh
          after-cd:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  ./gone-before-cd.sh
                  cd sub && ./elsewhere.sh
                  ./also-elsewhere.sh
        """})
    report = validate(tmp_path)
    assert where(of_rule(report, RULE)) == {(".github/workflows/ci.yml", 18, RULE, "error"),
                                            (".github/workflows/ci.yml", 28, RULE, "error")}
    assert of_rule(report, "missing-working-directory") == []
