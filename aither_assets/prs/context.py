"""The facts and plan for one PR head: what pr_context holds and every stage asset takes (plain data,
no Dagster). Stored by Dagster's IO manager as this dataclass; its JSON form (``to_json``) is what
the reports read."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aither_assets.config.operator import OperatorConfig
from aither_assets.github.models import ChangedFile, PullRequest
from aither_assets.prs.changes import StageDecision, group_files, plan_stages


@dataclass(frozen=True)
class PRContext:
    number: int
    title: str
    author: str
    url: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    is_fork: bool
    draft: bool
    labels: tuple[str, ...]
    ring: str | None
    file_groups: dict[str, list[str]]
    plan: dict[str, StageDecision]
    head_moved: bool  # GitHub's head is newer than the SHA this run was asked to build

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: the plan as ``{stage: {"run": bool, "reason": str}}``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PRContext":
        fields = dict(data)
        fields["labels"] = tuple(fields.get("labels") or ())
        fields["plan"] = {stage: StageDecision(bool(d["run"]), str(d["reason"])) for stage, d in data["plan"].items()}
        return cls(**fields)

    def __reduce__(self):
        # Stored (pickled by Dagster's IO manager) as its plain JSON form, rebuilt through from_json.
        return (PRContext.from_json, (self.to_json(),))

    def stage_runs(self, stage: str) -> bool:
        return self.plan[stage].run

    def decision(self, stage: str) -> StageDecision:
        return self.plan[stage]

    @property
    def stages_to_run(self) -> list[str]:
        return [stage for stage, decision in self.plan.items() if decision.run]


def build_context(pr: PullRequest, files: list[ChangedFile], config: OperatorConfig, run_sha: str | None,
                  has_docker: bool = True) -> PRContext:
    """``run_sha`` is the head the run was requested for; it wins over GitHub's newer head."""
    ring = config.rings.entry_ring(pr.base_ref)
    groups = group_files(f.filename for f in files)
    plan = plan_stages(groups, has_docker=has_docker, has_ring=ring is not None)
    return PRContext(
        number=pr.number,
        title=pr.title,
        author=pr.author,
        url=pr.html_url,
        head_ref=pr.head_ref,
        head_sha=run_sha or pr.head_sha,
        base_ref=pr.base_ref,
        base_sha=pr.base_sha,
        is_fork=pr.is_fork,
        draft=pr.draft,
        labels=pr.labels,
        ring=ring,
        file_groups=groups,
        plan=plan,
        head_moved=bool(run_sha and run_sha != pr.head_sha),
    )
