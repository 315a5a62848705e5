"""What a run produced, typed, and the one set of pass/fail rules (plain data, no Dagster).

``reporting/summary.py`` reads a run's records from the Dagster instance into a ``RunSummary``;
the dashboard, the GitHub feedback and the promotion gates read it through ``StageResult``s.
A ``RunSummary`` has a JSON form (``to_json`` / ``from_json``): the demo's summary file and the
dashboard's data files keep it, and a hand-made one (a test fixture) reads back the same way.

The rules: a stage's checks decide (any failed check fails it; its blocking check passing passes
it); without a check result, its own figures decide as its registry row says
(``stages.VerdictRule``); a figure that was not recorded is missing, never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aither_assets import stages as registry
from aither_assets.stages import Field, Meta, StageAsset

Verdict = Literal["passed", "failed", "missing"]
AssetStatus = Literal["MATERIALIZED", "NOT_MATERIALIZED", "SKIPPED"]
CheckState = Literal["PASSED", "FAILED"]


@dataclass(frozen=True)
class AssetRecord:
    """What a run recorded for one asset: materialized (with its metadata), planned but not produced,
    or skipped (with the reason)."""

    status: AssetStatus
    metadata: dict[str, Any] = field(default_factory=dict)
    skipped_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "metadata": self.metadata}
        if self.status == "SKIPPED":
            data["skipped_reason"] = self.skipped_reason
        return data

    @classmethod
    def from_json(cls, data: Any) -> AssetRecord | None:
        if not isinstance(data, Mapping) or data.get("status") not in ("MATERIALIZED", "NOT_MATERIALIZED", "SKIPPED"):
            return None
        metadata = data.get("metadata")
        reason = data.get("skipped_reason")
        return cls(data["status"], dict(metadata) if isinstance(metadata, Mapping) else {},
                   reason if isinstance(reason, str) else None)


@dataclass(frozen=True)
class StageResult:
    """One reported stage of one run: its registry row, what was recorded for this head, its checks."""

    stage: StageAsset
    record: AssetRecord | None  # None: nothing recorded (a materialization of another head counts as nothing)
    checks: dict[str, CheckState]  # check name -> state, for this asset
    check_details: dict[str, dict[str, Any]]  # check name -> its description and metadata

    @property
    def status(self) -> AssetStatus | None:
        return self.record.status if self.record else None

    @property
    def metadata(self) -> dict[str, Any]:
        return self.record.metadata if self.record and self.record.status == "MATERIALIZED" else {}

    @property
    def blocking_check(self) -> CheckState | None:
        return self.checks.get(self.stage.check) if self.stage.check else None

    @property
    def blocking_details(self) -> dict[str, Any]:
        return self.check_details.get(self.stage.check, {}) if self.stage.check else {}

    def value(self, key: str) -> Any:
        """A recorded figure read as the registry's field for ``key`` says (None when missing)."""
        return _field(self.stage, key).read(self.metadata)

    def verdict(self) -> Verdict | None:
        """passed / failed / missing for a materialized result; None when there is no result."""
        if self.status != "MATERIALIZED":
            return None
        return check_verdict(self.checks, self.stage) or figures_verdict(self.stage, self.metadata)

    def missing_figures(self) -> list[str]:
        """Labels of the figures the verdict needs that were not recorded."""
        rule = self.stage.verdict
        missing = [key for key in rule.needs if not _present(self.value(key))]
        if rule.needs_any and not any(_present(self.value(key)) for key in rule.needs_any):
            missing += list(rule.needs_any)
        return [_field(self.stage, key).label for key in missing]


def check_verdict(checks: Mapping[str, str], stage: StageAsset) -> Verdict | None:
    """What the stage's checks say: any failed check fails it, its blocking check passing passes it."""
    if any(state == "FAILED" for state in checks.values()):
        return "failed"
    if stage.check and checks.get(stage.check) == "PASSED":
        return "passed"
    return None


def figures_verdict(stage: StageAsset, metadata: Mapping[str, Any]) -> Verdict:
    """What the stage's own figures say when no check decided (``stages.VerdictRule``)."""
    rule = stage.verdict

    def read(key: str) -> Any:
        return _field(stage, key).read(dict(metadata))

    if rule.empty and read(rule.empty) == 0:
        return "passed"  # nothing to check (no suite of this kind, no smoke check declared)
    if any(isinstance(read(key), int) and read(key) > 0 for key in rule.fails_on):
        return "failed"
    if any(not _present(read(key)) for key in rule.needs):
        return "missing"
    if rule.needs_any and not any(_present(read(key)) for key in rule.needs_any):
        return "missing"
    return "passed"


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _field(stage: StageAsset, key: str) -> Field:
    """The registry's field for ``key``, or a count field when the stage lists none."""
    return next((f for f in stage.fields if f.key == key), Field(key, key))


@dataclass(frozen=True)
class RunSummary:
    """One PR head's run as the instance recorded it (``run_id`` None: the head has no run)."""

    number: int
    head_sha: str | None
    run_id: str | None = None
    run_status: str | None = None
    title: str | None = None
    author: str | None = None
    url: str | None = None
    base: str | None = None
    ring: str | None = None
    assets: dict[str, AssetRecord] = field(default_factory=dict)
    checks: dict[str, CheckState] = field(default_factory=dict)  # "asset:check" -> state
    check_details: dict[str, dict[str, Any]] = field(default_factory=dict)  # "asset:check" -> details
    failures: list[str] = field(default_factory=list)  # "step: message" of failed steps
    extra: dict[str, Any] = field(default_factory=dict)  # other recorded facts (skipped_reason, triggered_by...)

    def stage(self, asset: str | StageAsset) -> StageResult:
        """The result of one reported stage for this head."""
        row = asset if isinstance(asset, StageAsset) else registry.stage_asset(asset)
        record = self.assets.get(row.asset)
        if record is not None and record.status == "MATERIALIZED" and self.head_sha:
            recorded = record.metadata.get(Meta.HEAD_SHA)
            if recorded not in (None, self.head_sha):
                record = None  # another head's result is not this head's
        prefix = f"{row.asset}:"
        checks = {k[len(prefix):]: v for k, v in self.checks.items() if k.startswith(prefix)}
        details = {k[len(prefix):]: v for k, v in self.check_details.items() if k.startswith(prefix)}
        return StageResult(row, record, checks, details)

    def stages(self) -> list[StageResult]:
        """Every reported stage, in pipeline order (the registry's)."""
        return [self.stage(row) for row in registry.stage_assets()]

    def metadata(self, asset: str) -> dict[str, Any] | None:
        """The metadata of a materialized asset (any head), or None."""
        record = self.assets.get(asset)
        return record.metadata if record is not None and record.status == "MATERIALIZED" else None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number, "title": self.title, "author": self.author, "url": self.url,
            "head_sha": self.head_sha, "base": self.base, "ring": self.ring, **self.extra,
            "run_id": self.run_id, "run_status": self.run_status,
            "assets": {name: record.to_json() for name, record in self.assets.items()},
            "checks": dict(self.checks), "check_details": dict(self.check_details), "failures": list(self.failures),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | RunSummary) -> RunSummary:
        """Read a summary entry back; anything of the wrong type is left out (missing, not invented)."""
        if isinstance(data, RunSummary):
            return data
        known = {"number", "title", "author", "url", "head_sha", "base", "ring", "run_id", "run_status", "assets",
                 "checks", "check_details", "failures"}
        assets = data.get("assets") if isinstance(data.get("assets"), Mapping) else {}
        checks = data.get("checks") if isinstance(data.get("checks"), Mapping) else {}
        details = data.get("check_details") if isinstance(data.get("check_details"), Mapping) else {}
        failures = data.get("failures") if isinstance(data.get("failures"), list) else []
        return cls(
            number=int(data["number"]),
            head_sha=_text(data.get("head_sha")),
            run_id=_text(data.get("run_id")),
            run_status=_text(data.get("run_status")),
            title=_text(data.get("title")),
            author=_text(data.get("author")),
            url=_text(data.get("url")),
            base=_text(data.get("base")),
            ring=_text(data.get("ring")),
            assets={str(k): r for k, v in assets.items() if (r := AssetRecord.from_json(v)) is not None},
            checks={str(k): v for k, v in checks.items() if v in ("PASSED", "FAILED")},
            check_details={str(k): dict(v) for k, v in details.items() if isinstance(v, Mapping)},
            failures=[str(f) for f in failures],
            extra={k: v for k, v in data.items() if k not in known},
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
