"""Repo pipeline configuration: read from the PR's own head at ``.aither/pipeline.yaml``.

The PR author controls this file, so it is validated strictly: names that later
become asset-check names, container names or paths match tight patterns, paths
stay inside the repository, and commands are argv lists (never shell strings)
whose only substitutions are the placeholders listed in ``PLACEHOLDERS``.
"""

from __future__ import annotations

import re
import string
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from aither_assets.config.errors import ConfigError
from aither_assets.config.fields import matching
from aither_assets.config.loading import load_yaml_file, parse_yaml_text, validate_model
from aither_assets.config.validation import RepoValidationConfig

PIPELINE_PATH = ".aither/pipeline.yaml"

#: What a command may ask us to fill in. ``{files}`` expands to one argument per test file.
PLACEHOLDERS = {
    "junit": "path of the JUnit/NUnit XML report the command must write",
    "coverage": "path where the command may write a Cobertura coverage XML",
    "files": "the suite's test files, one argument each",
    "workspace": "the checkout of the PR head",
}

_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"
_RANGE = re.compile(r"^(\d{4})-(\d{4})$")


def _repo_relative(value: str) -> str:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value or "\x00" in value:
        raise ValueError("must be a path relative to the repository root, without '..'")
    return value


def _argv(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("must be a non-empty list of arguments (no shell string)")
    for arg in value:
        for _, field, _, _ in string.Formatter().parse(arg):
            if field is not None and field not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{field}}}; allowed: {sorted(PLACEHOLDERS)}")
    return value


RepoPath = Annotated[str, AfterValidator(_repo_relative)]
Argv = Annotated[list[str], AfterValidator(_argv)]
SuiteName = Annotated[str, matching(_NAME,
                                    "must be 1-40 of a-z 0-9 _ - starting with a letter or digit, e.g. security")]
AppName = Annotated[str, matching(r"^[a-z0-9][a-z0-9-]{0,30}$",
                                  "must be 1-31 of a-z 0-9 - starting with a letter or digit, e.g. web-api")]
URLPath = Annotated[str, matching(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$",
                                  "must be a URL path starting with /, e.g. /health")]


#: A container image reference; which ones may run is the operator's call (sandbox.runner_images).
RunnerImage = Annotated[str, matching(r"^[a-z0-9][a-z0-9._/:@-]{0,254}$",
                                      "must be an image reference such as aither/sandbox-runner:3.11-bookworm")]
#: ``none``: loopback only (the default). ``isolated``: a network interface that reaches nothing.
SandboxNetwork = Literal["none", "isolated"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppConfig(_Strict):
    name: AppName = Field(description="becomes <name>-pr-<N>")
    port: int = Field(ge=1, le=65535, description="port the service listens on inside the container")


class PackageConfig(_Strict):
    include: tuple[RepoPath, ...] = Field(min_length=1, description="globs of files in the runtime package")
    exclude: tuple[RepoPath, ...] = ("**/__pycache__/**", "**/*.pyc")


class SuiteOverrides(_Strict):
    command: Argv | None = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=3600)
    network: SandboxNetwork | None = Field(default=None, description="the sandbox network for this suite")


class UnitTests(SuiteOverrides):
    """Unit tests split into suites by the numeric prefix of the file name (0105_x.py -> 0100-0199)."""

    paths: tuple[RepoPath, ...] = Field(min_length=1)
    ranges: tuple[str, ...] = Field(min_length=1)

    @field_validator("ranges")
    @classmethod
    def _ranges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        spans = []
        for text in value:
            match = _RANGE.match(text)
            if not match:
                raise ValueError(f"range {text!r} must look like 0000-0099")
            low, high = int(match[1]), int(match[2])
            if low > high:
                raise ValueError(f"range {text!r} starts after it ends")
            spans.append((low, high, text))
        spans.sort()
        for (_, high, first), (low, _, second) in zip(spans, spans[1:], strict=False):
            if low <= high:
                raise ValueError(f"ranges {first} and {second} overlap")
        return value


class NamedSuite(SuiteOverrides):
    name: SuiteName
    paths: tuple[RepoPath, ...] = Field(min_length=1)


class TestsConfig(_Strict):
    command: Argv = ["python", "-m", "pytest", "-q", "--junitxml={junit}", "{files}"]
    timeout_seconds: float = Field(default=600, gt=0, le=3600)
    runner_image: RunnerImage | None = Field(default=None, description="image the suites run in; "
                                             "default: the operator's sandbox.default_runner_image")
    network: SandboxNetwork = "none"
    discover: tuple[RepoPath, ...] = Field(
        default=("tests/**/test_*.py", "tests/**/[0-9][0-9][0-9][0-9]_*.py"),
        description="globs of every test file, to report those no suite covers",
    )
    unit: UnitTests | None = None
    domains: tuple[NamedSuite, ...] = ()
    integration: tuple[NamedSuite, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> "TestsConfig":
        names = [s.name for s in (*self.domains, *self.integration)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"suite names must be unique across domains and integration: {dupes}")
        return self


class LinterConfig(_Strict):
    name: SuiteName
    command: Argv
    format: Literal["ruff-json", "sarif", "junit"] = Field(description="how the command reports findings")
    timeout_seconds: float = Field(default=300, gt=0, le=3600)
    runner_image: RunnerImage | None = None


class DockerConfig(_Strict):
    dockerfile: RepoPath = "Dockerfile"
    context: RepoPath = "."
    compose: RepoPath | None = None
    platforms: tuple[Literal["linux/amd64", "linux/arm64"], ...] = ("linux/amd64",)
    build_args: dict[str, str] = {}

    @field_validator("build_args")
    @classmethod
    def _arg_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise ValueError(f"build arg name {key!r} must be an identifier")
        return value


class SmokeCheck(_Strict):
    path: URLPath = Field(description="URL path on the preview")
    status: int = Field(default=200, ge=100, le=599)
    contains: str | None = None
    max_latency_ms: float = Field(default=2000, gt=0)


class PipelineConfig(_Strict):
    version: Literal[1] = 1
    app: AppConfig
    package: PackageConfig
    tests: TestsConfig = TestsConfig()
    linters: tuple[LinterConfig, ...] = ()
    docker: DockerConfig | None = None
    smoke: tuple[SmokeCheck, ...] = ()
    validation: RepoValidationConfig = RepoValidationConfig()

    @model_validator(mode="after")
    def _smoke_needs_image(self) -> "PipelineConfig":
        if self.smoke and self.docker is None:
            raise ValueError("smoke checks need a docker section: there is no environment to check")
        return self


def parse_pipeline_config(text: str, label: str = PIPELINE_PATH) -> PipelineConfig:
    data, node = parse_yaml_text(text, label)
    return validate_model(PipelineConfig, data, label, node)


def load_pipeline_config(repo_root: Path) -> PipelineConfig:
    """Load ``.aither/pipeline.yaml`` from a checkout; errors name this path relative to the repo."""
    data, node = load_yaml_file(repo_root / PIPELINE_PATH, label=PIPELINE_PATH)
    return validate_model(PipelineConfig, data, PIPELINE_PATH, node)


def validate_repo(repo_root: Path) -> list[str]:
    """Every config problem in a checkout, one line each (empty when the config is valid)."""
    try:
        load_pipeline_config(repo_root)
    except ConfigError as exc:
        return [str(issue) for issue in exc.issues]
    return []
