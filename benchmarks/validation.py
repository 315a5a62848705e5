"""Validation of a repository with 30 workflows, without zizmor, hadolint or docker (our own checks only).

Generates, in a temporary folder, ten orchestrators each calling a build workflow (Windows,
PowerShell and bash steps, a composite action) and a test workflow (a matrix), with scripts
and a pipeline config, then times ``validate_repository`` on it: a fresh ``Repo`` each round,
so every file is read and parsed again. Target: under 2 s.

Usage: python benchmarks/validation.py [--workflows 30] [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ORCHESTRATOR = """\
name: orchestrator-{n}
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
concurrency:
  group: orchestrator-{n}-${{{{ github.event.pull_request.number || github.ref }}}}
  cancel-in-progress: true
jobs:
  changes:
    runs-on: ubuntu-latest
    outputs:
      docs-only: ${{{{ steps.filter.outputs.docs-only }}}}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - id: filter
        run: ./scripts/changes.sh >> "$GITHUB_OUTPUT"
  build:
    needs: [changes]
    if: needs.changes.outputs.docs-only != 'true'
    uses: ./.github/workflows/build-{n}.yml
    with:
      configuration: Release
  test:
    needs: [build]
    permissions:
      contents: read
      checks: write
    uses: ./.github/workflows/test-{n}.yml
    with:
      artifact: ${{{{ needs.build.outputs.artifact }}}}
    secrets:
      CODECOV_TOKEN: ${{{{ secrets.CODECOV_TOKEN }}}}
"""

BUILD = """\
name: build-{n}
on:
  workflow_call:
    inputs:
      configuration:
        type: string
        required: true
    outputs:
      artifact:
        value: ${{{{ jobs.build.outputs.artifact }}}}
jobs:
  build:
    runs-on: windows-latest
    outputs:
      artifact: ${{{{ steps.pack.outputs.name }}}}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: ./.github/actions/setup-tools
        with:
          version: "8.0"
      - name: Build
        env:
          CONFIGURATION: ${{{{ inputs.configuration }}}}
        run: |
          $dir = "reports-$env:CONFIGURATION"
          $src = Join-Path "./out/reports", $dir
          ./build/Build.ps1 -Configuration $env:CONFIGURATION -Output $src
      - name: Version
        shell: bash
        run: |
          echo "computing the version"
          ./scripts/version.sh > version.txt
          python tools/stamp.py version.txt
      - id: pack
        run: |
          Compress-Archive -Path ./out/* -DestinationPath ./package.zip
          "name=package.zip" >> $env:GITHUB_OUTPUT
"""

TEST = """\
name: test-{n}
on:
  workflow_call:
    inputs:
      artifact:
        type: string
        required: true
    secrets:
      CODECOV_TOKEN:
        required: false
permissions:
  contents: read
  checks: write
concurrency:
  group: test-{n}-${{{{ inputs.artifact }}}}-${{{{ github.ref }}}}
  cancel-in-progress: false
jobs:
  unit:
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, macos-latest]
        python: ["3.11", "3.12"]
    runs-on: ${{{{ matrix.os }}}}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - id: setup
        uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0
        with:
          python-version: ${{{{ matrix.python }}}}
      - name: Tests
        env:
          PYTHON: ${{{{ steps.setup.outputs.python-path }}}}
          ARTIFACT: ${{{{ inputs.artifact }}}}
          TOKEN: ${{{{ secrets.CODECOV_TOKEN }}}}
        run: |
          echo "testing ${{ARTIFACT}}"
          ./scripts/test.sh "$PYTHON"
          bash scripts/coverage.sh
"""

ACTION = """\
name: setup-tools
description: Install the build tools
inputs:
  version:
    description: Tool version
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      run: ./scripts/install-tools.sh "${{ inputs.version }}"
    - shell: pwsh
      run: New-Item -ItemType Directory -Force (Join-Path "./out/cache", "tools") | Out-Null
"""

CONFIG = "version: 1\napp:\n  name: bench\n  port: 8000\npackage:\n  include: [src/*.py]\n"


def generate(root: Path, workflows: int = 30) -> Path:
    """A repository with ``workflows`` workflow files (orchestrator, build, test per group of three)."""
    files = {".aither/pipeline.yaml": CONFIG, ".github/actions/setup-tools/action.yml": ACTION,
             "build/Build.ps1": "param($Configuration, $Output)\n", "tools/stamp.py": "print('stamp')\n"}
    for script in ("changes", "version", "test", "coverage", "install-tools"):
        files[f"scripts/{script}.sh"] = "#!/bin/sh\n"
    kinds = [(".github/workflows/orchestrator-{n}.yml", ORCHESTRATOR), (".github/workflows/build-{n}.yml", BUILD),
             (".github/workflows/test-{n}.yml", TEST)]
    for index in range(workflows):
        path, template = kinds[index % 3]
        files[path.format(n=index // 3)] = template.format(n=index // 3)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def measure(workflows: int = 30, rounds: int = 5) -> dict:
    from aither_assets.validation import validate_repository

    with tempfile.TemporaryDirectory(prefix="aither-bench-validation-") as tmp:
        root = generate(Path(tmp), workflows)
        seconds = []
        report = None
        for _ in range(rounds):
            started = time.perf_counter()
            report = validate_repository(root, hadolint=None, zizmor=None, docker=None)
            seconds.append(time.perf_counter() - started)
        assert report is not None
        found = [f for f in report.findings if f.severity != "info"]
        return {
            "workflows": len(list((root / ".github" / "workflows").glob("*.yml"))),
            "rounds": rounds,
            "seconds": {"median": round(statistics.median(seconds), 3), "min": round(min(seconds), 3),
                        "max": round(max(seconds), 3), "n": rounds},
            "first_round_seconds": round(seconds[0], 3),  # includes compiling our regular expressions
            "files_checked": report.files_checked,
            # the generated repository is wired correctly: any finding here is a false positive of ours
            "findings": [f"{f.file}:{f.line} {f.rule}: {f.message}" for f in found],
            "target_seconds": 2.0,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.workflows, args.rounds)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0 if not result["findings"] else 1


if __name__ == "__main__":
    sys.exit(main())
