"""PRContext: the typed value every stage asset takes; stored as its plain JSON form."""

import pickle

from aither_assets.prs.changes import StageDecision, group_files, plan_stages
from aither_assets.prs.context import PRContext


def context() -> PRContext:
    groups = group_files(["README.md"])
    return PRContext(number=7, title="Docs", author="dev", url="http://gh/pr/7", head_ref="docs", head_sha="a" * 40,
                     base_ref="dev", base_sha="b" * 40, is_fork=False, draft=False, labels=("docs",), ring="dev",
                     file_groups=groups, plan=plan_stages(groups), head_moved=False)


def test_json_round_trip_and_the_plan_as_decisions():
    ctx = context()
    data = ctx.to_json()
    assert data["plan"]["build"] == {"run": False, "reason": "docs-only change"}
    assert PRContext.from_json(data) == ctx
    assert ctx.decision("build") == StageDecision(False, "docs-only change") and not ctx.stage_runs("image")
    assert ctx.stages_to_run == ["validation", "dashboard"]


def test_what_the_io_manager_stores_is_the_plain_json_form():
    stored = pickle.dumps(context())
    assert b"StageDecision" not in stored  # plain dicts and lists inside, rebuilt through from_json
    assert pickle.loads(stored) == context()
