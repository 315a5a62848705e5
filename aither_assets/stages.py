"""The pipeline's stages, in one table (plain data, no Dagster).

A plan stage (what ``pr_context``'s plan decides: run or skip, and why) produces one or more
assets; each asset is reported on its own (a GitHub status context, a dashboard card) with
its blocking check, the Dagster steps that make it, the metadata fields it publishes and
the rule that turns its figures into a verdict when no check decided. The plan
(``prs/changes.py``), the skip records (``defs/skips.py``), the feedback
(``feedback/stages.py``) and the dashboard (``dashboard/model.py``) all read this table:
adding a stage means adding a row here (and its asset under ``defs/``).

Consumers call the functions below at use time (never copy the table at import), so a
test can add a stage and see every consumer pick it up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from aither_assets.reporting.values import json_int

CONTEXT_PREFIX = "aither/"


class Meta:
    """Metadata keys: written by the assets and read by the reports through these names only."""

    HEAD_SHA = "head_sha"
    # observations of a stage that did not run (state "skipped") and of a PR (closed, torn down)
    STATE, SKIPPED_REASON = "state", "skipped_reason"
    # pr_context
    TITLE, AUTHOR, PR_URL, BASE_REF, RING, FORK = "title", "author", "pr_url", "base_ref", "ring", "fork"
    PLAN, STAGES_TO_RUN, HEAD_REF = "plan", "stages_to_run", "head_ref"
    # validation_report, quality_report
    ERROR_COUNT, WARNING_COUNT, INFO_COUNT = "error_count", "warning_count", "info_count"
    FILES_CHECKED, FINDINGS_TOTAL, COMPLETE = "files_checked", "findings_total", "complete"
    # build_artifacts
    ITERATION, FILES_PACKAGED, BUILD_METADATA = "iteration", "files_packaged", "build_metadata"
    SHA256_ZIP, SHA256_TAR_GZ = "sha256_zip", "sha256_tar_gz"
    # test suites
    TESTS, PASSED, FAILED, ERRORS, SKIPPED = "tests", "passed", "failed", "errors", "skipped"
    SUITES, DURATION_SECONDS, SUITE_JSON = "suites", "duration_seconds", "suite_json"
    UNCOVERED_COUNT = "uncovered_count"
    # container_image
    DIGEST, REFERENCE, TAGS, PLATFORMS = "digest", "reference", "tags", "platforms"
    BUILD_SECONDS, PUSH_SECONDS = "build_seconds", "push_seconds"
    # pr_environment
    URL, PORT, CONTAINER, STARTED_AT, EXPIRES_AT = "url", "port", "container", "started_at", "expires_at"
    # smoke_report (PASSED and FAILED as above)
    CHECKS = "checks"


def sha256_key(archive_suffix: str) -> str:
    """The metadata key of an archive's SHA-256: ``zip`` -> ``sha256_zip``, ``tar.gz`` -> ``sha256_tar_gz``."""
    return "sha256_" + archive_suffix.replace(".", "_")


FieldKind = Literal["int", "num", "str", "url", "bool", "list", "names"]


@dataclass(frozen=True)
class Field:
    """One metadata field an asset publishes, as people read it (label) and as it is stored (key)."""

    label: str
    key: str
    kind: FieldKind = "int"

    def read(self, metadata: dict[str, Any]) -> Any:
        """The recorded value, or None when it is missing or of the wrong type (never a default)."""
        value = metadata.get(self.key)
        if self.kind == "int":
            return json_int(value)
        if self.kind == "num":
            return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if self.kind in ("str", "url"):
            if isinstance(value, str):
                return value
            return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if self.kind == "bool":
            return value if isinstance(value, bool) else None
        if self.kind == "list":  # text items joined
            return ", ".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else None
        # "names": the keys of a mapping or the items of a list, joined; None when empty
        return ", ".join(str(v) for v in value) if isinstance(value, (dict, list)) and value else None


@dataclass(frozen=True)
class VerdictRule:
    """How an asset's own figures decide passed / failed / missing when no check result decides.

    ``empty``: a count that, at 0, means there was nothing to check (passed). ``fails_on``: counts
    any of which above 0 fails the stage. ``needs``: fields that must all be recorded, ``needs_any``:
    at least one of them, for any verdict (else missing).
    """

    empty: str | None = None
    fails_on: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    needs_any: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageAsset:
    """One reported result of a stage: an asset, its GitHub status context and its dashboard card."""

    key: str  # status context suffix, e.g. "unit-tests"
    title: str  # for people (dashboard card name), e.g. "unit tests"
    asset: str  # the Dagster asset that holds the result, e.g. "unit_tests"
    check: str | None = None  # its blocking asset check, e.g. "all_tests_passed"
    steps: tuple[str, ...] = ()  # Dagster step keys that produce the asset
    fields: tuple[Field, ...] = ()  # the metadata it publishes, in the order a card shows it
    verdict: VerdictRule = VerdictRule()
    suite_kind: str | None = None  # test assets: the suite kind of the repo config they run

    @property
    def context(self) -> str:
        return CONTEXT_PREFIX + self.key

    @property
    def check_key(self) -> str | None:
        """``asset:check``, as the run's records name check results."""
        return f"{self.asset}:{self.check}" if self.check else None


@dataclass(frozen=True)
class PlanRule:
    """How the plan decides whether a head needs a stage, and the reason a person reads.

    ``always``: the stage runs on every head, for this reason. Otherwise it runs when a changed-file
    group in ``groups`` changed (``runs`` may name them as ``{groups}``), and only when the plan stage
    ``after`` runs too. ``needs_image_config``: the repo config has a docker section and the base
    branch maps to a ring.
    """

    always: str | None = None
    groups: frozenset[str] = frozenset()
    runs: str = "changed: {groups}"
    skips: str = ""
    after: str | None = None
    needs_image_config: bool = False


@dataclass(frozen=True)
class Stage:
    """A plan stage and the assets it produces, in pipeline order."""

    name: str  # the name in pr_context's plan, e.g. "tests"
    plan: PlanRule
    assets: tuple[StageAsset, ...] = field(default_factory=tuple)


_COUNTS = (Field("errors", Meta.ERROR_COUNT), Field("warnings", Meta.WARNING_COUNT), Field("info", Meta.INFO_COUNT))
_CODE_LIKE = frozenset({"workflows", "docker", "tests", "config", "source"})  # anything but docs


def _tests(kind: str, extra: tuple[Field, ...] = ()) -> StageAsset:
    return StageAsset(
        key=f"{kind}-tests", title=f"{kind} tests", asset=f"{kind}_tests", check="all_tests_passed",
        steps=("test_suites", f"{kind}_tests"),
        fields=(Field("tests", Meta.TESTS), Field("passed", Meta.PASSED), Field("failed", Meta.FAILED),
                Field("errors", Meta.ERRORS), Field("skipped", Meta.SKIPPED),
                Field("duration (s)", Meta.DURATION_SECONDS, "num"), *extra),
        verdict=VerdictRule(empty=Meta.SUITES, fails_on=(Meta.FAILED, Meta.ERRORS),
                            needs=(Meta.PASSED, Meta.FAILED, Meta.ERRORS)),
        suite_kind=kind,
    )


STAGES: tuple[Stage, ...] = (
    Stage("validation", PlanRule(always="always: config, workflows and Dockerfile are checked on every head"), (
        StageAsset("validation", "validation", "validation_report", "no_error_findings", ("validation_report",),
                   (*_COUNTS, Field("files checked", Meta.FILES_CHECKED)),
                   VerdictRule(fails_on=(Meta.ERROR_COUNT,), needs=(Meta.ERROR_COUNT,))),
    )),
    Stage("build", PlanRule(groups=_CODE_LIKE, skips="docs-only change"), (
        StageAsset("build", "build", "build_artifacts", None, ("build_artifacts",),
                   (Field("iteration", Meta.ITERATION), Field("files packaged", Meta.FILES_PACKAGED),
                    Field("sha256 .zip", Meta.SHA256_ZIP, "str"), Field("sha256 .tar.gz", Meta.SHA256_TAR_GZ, "str")),
                   VerdictRule(needs_any=(Meta.ITERATION, Meta.FILES_PACKAGED, Meta.SHA256_ZIP, Meta.SHA256_TAR_GZ))),
    )),
    Stage("quality", PlanRule(groups=frozenset({"source", "tests", "config"}), runs="source, tests or config changed",
                              skips="no source, test or config change"), (
        StageAsset("quality", "quality", "quality_report", None, ("quality_report",),
                   (Field("findings", Meta.FINDINGS_TOTAL), *_COUNTS, Field("all linters ran", Meta.COMPLETE, "bool")),
                   VerdictRule(fails_on=(Meta.ERROR_COUNT,), needs=(Meta.ERROR_COUNT,))),
    )),
    Stage("tests", PlanRule(groups=_CODE_LIKE, skips="docs-only change"), (
        _tests("unit", (Field("tests in no suite", Meta.UNCOVERED_COUNT),)),
        _tests("domain"),
        _tests("integration"),
    )),
    Stage("image", PlanRule(groups=frozenset({"source", "docker", "config"}),
                            skips="no source, docker or config change", needs_image_config=True), (
        StageAsset("image", "image", "container_image", None, ("container_image",),
                   (Field("digest", Meta.DIGEST, "str"), Field("reference", Meta.REFERENCE, "str"),
                    Field("tags", Meta.TAGS, "list"), Field("platforms", Meta.PLATFORMS, "names"),
                    Field("build (s)", Meta.BUILD_SECONDS, "num"), Field("push (s)", Meta.PUSH_SECONDS, "num")),
                   VerdictRule(needs=(Meta.DIGEST,))),
    )),
    Stage("environment", PlanRule(after="image", runs="a new image to preview", skips="no image for this head"), (
        StageAsset("environment", "environment", "pr_environment", None, ("pr_environment",),
                   (Field("URL", Meta.URL, "url"), Field("port", Meta.PORT), Field("container", Meta.CONTAINER, "str"),
                    Field("digest running", Meta.DIGEST, "str"), Field("started", Meta.STARTED_AT, "str"),
                    Field("expires", Meta.EXPIRES_AT, "str")),
                   VerdictRule(needs=(Meta.URL,))),
    )),
    Stage("smoke", PlanRule(after="environment", runs="a new environment to check",
                            skips="no environment for this head"), (
        StageAsset("smoke", "smoke", "smoke_report", "smoke_passed", ("smoke_report",),
                   (Field("checks", Meta.CHECKS), Field("passed", Meta.PASSED), Field("failed", Meta.FAILED)),
                   VerdictRule(empty=Meta.CHECKS, fails_on=(Meta.FAILED,), needs=(Meta.CHECKS, Meta.FAILED))),
    )),
    # The report itself: always planned, reported by no status of its own.
    Stage("dashboard", PlanRule(always="always: the PR page shows every stage, run or not")),
)


def stages() -> tuple[Stage, ...]:
    return STAGES


def plan_stage_names() -> tuple[str, ...]:
    return tuple(stage.name for stage in STAGES)


def stage_assets() -> tuple[StageAsset, ...]:
    """Every reported result, in pipeline order (one GitHub status context and one card each)."""
    return tuple(asset for stage in STAGES for asset in stage.assets)


def plan_stage_of(asset: str) -> str | None:
    """The plan stage that produces ``asset`` (None for assets no stage reports)."""
    return next((stage.name for stage in STAGES for a in stage.assets if a.asset == asset), None)


def assets_of(plan_stage: str) -> tuple[str, ...]:
    """The asset names a plan stage produces."""
    return next((tuple(a.asset for a in stage.assets) for stage in STAGES if stage.name == plan_stage), ())


def stage_asset(asset: str) -> StageAsset:
    for candidate in stage_assets():
        if candidate.asset == asset:
            return candidate
    raise KeyError(asset)


def test_assets() -> dict[str, str]:
    """Test asset name -> the suite kind it runs (``unit_tests`` -> ``unit``)."""
    return {a.asset: a.suite_kind for a in stage_assets() if a.suite_kind}


test_assets.__test__ = False  # not a pytest test, despite its name

# The test assets are one Dagster multi-asset: defined once, at import, from the table above.
TEST_ASSETS = test_assets()
TEST_ASSET_NAMES = tuple(TEST_ASSETS)
