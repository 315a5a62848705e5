"""Seed the local GitHub server with the sample app and a set of PRs that exercise the pipeline.

Each seeded PR says what the pipeline should do with it (run, skip, fail a test),
so ``aither demo --once`` can check the outcome instead of just printing it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from aither_assets.devstack.localgithub.store import LocalGitHub

OWNER, REPO = "acme", "sample-app"
BOT, AUTHOR, MAINTAINER, OUTSIDER = "aither-bot", "alice", "maintainer", "mallory"
ADMIN = "release-admin"  # admin on the repository: the only one who may break glass during a freeze

HOSTILE_TITLE = (
    "<script>alert('pwned')</script> $(touch /tmp/aither-pwned); `id` && rm -rf / | "
    "**bold** [link](javascript:alert(1)) <img src=x onerror=alert(1)> " + "x" * 40
)
HOSTILE_BRANCH = "feature/<img_src=x_onerror=alert(1)>$(touch_/tmp/aither-pwned);echo'\"|&`id`-" + "y" * 60


def examples_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "examples"


@dataclass(frozen=True)
class SeededPR:
    number: int
    name: str
    base: str
    should_run: bool
    expect_failure: bool = False  # a stage is meant to fail (the broken-test PR)


@dataclass(frozen=True)
class Seeded:
    api_token: str  # the control plane's token (a collaborator with write permission)
    repository: str
    prs: list[SeededPR]


def _variant(name: str) -> dict[str, str]:
    """Files of a sample-app variant (an overlay), as {repo path: text}."""
    root = examples_dir() / "sample-app-variants" / name
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "VARIANT.md"
    }


def seed(store: LocalGitHub, sample_dir: Path | None = None) -> Seeded:
    sample_dir = sample_dir or examples_dir() / "sample-app"
    token = store.create_user(BOT, token="ghp_" + secrets.token_hex(18))
    for login in (AUTHOR, MAINTAINER, OUTSIDER, ADMIN):
        store.create_user(login)
    store.create_repo(OWNER, REPO, source_dir=sample_dir, default_branch="main")
    store.add_collaborator(OWNER, REPO, BOT, "write")
    store.add_collaborator(OWNER, REPO, AUTHOR, "write")
    store.add_collaborator(OWNER, REPO, MAINTAINER, "write")
    store.add_collaborator(OWNER, REPO, ADMIN, "admin")
    for branch in ("dev", "dev-staging", "ring-0-canary"):
        store.create_branch(OWNER, REPO, branch, "main")

    prs: list[SeededPR] = []

    def open_branch(name, base, files, title, *, should_run=True, expect_failure=False, draft=False, branch=None):
        branch = branch or f"feature/{name}"
        store.create_branch(OWNER, REPO, branch, base)
        store.commit_files(OWNER, REPO, branch, files, f"{name}: {title[:50]}", author=AUTHOR)
        number = store.open_pr(OWNER, REPO, head=branch, base=base, title=title, user=AUTHOR, draft=draft)
        prs.append(SeededPR(number, name, base, should_run, expect_failure))
        return number

    version_bump = {"app/VERSION": "1.1.0\n"}
    open_branch("items-pagination", "dev", {**version_bump, "app/__about__.py": 'PAGE_SIZE = 50\n'},
                "Paginate the items API")
    open_branch("health-detail", "dev-staging", {"app/VERSION": "1.2.0\n"}, "Report the version on /health")
    open_branch("canary-fix", "ring-0-canary", {"app/VERSION": "1.2.1\n"}, "Canary: tighten timeouts")
    open_branch("docs-readme", "main", _variant("docs-only"), "Docs: explain the items API")
    open_branch("broken-handler", "dev", _variant("broken-test"), "Refactor handlers (breaks a test)",
                expect_failure=True)
    open_branch("bad-workflows", "dev", _variant("bad-workflows"), "CI: split the deploy workflow (miswired)",
                expect_failure=True)
    # Passes its pipeline, fails its verification once promoted to a ring (the promotion scenario).
    open_branch("ring-flag", "dev", _variant("ring-flag"), "Landing page behind a flag the rings switch on")
    # The same flag on a canary PR (it enters at ring-0): fails ring-0's verification, rolled back and held.
    open_branch("canary-flag", "ring-0-canary", _variant("ring-flag"), "Canary: landing page behind the ring flag")
    open_branch("hostile", "dev", {"app/VERSION": "1.3.0\n"}, HOSTILE_TITLE, branch=HOSTILE_BRANCH)
    open_branch("wip", "dev", {"app/VERSION": "2.0.0-wip\n"}, "WIP: new storage backend", draft=True,
                should_run=False)

    # Fork PRs: untrusted code. One waits for approval; one was approved by a maintainer.
    store.fork_repo(OWNER, REPO, OUTSIDER)
    for name, approved in (("fork-unapproved", False), ("fork-approved", True)):
        branch = f"{name}-change"
        store.create_branch(OUTSIDER, REPO, branch, "main")
        store.commit_files(OUTSIDER, REPO, branch, {"app/VERSION": f"9.9.9-{name}\n"}, f"{name}", author=OUTSIDER)
        number = store.open_pr(OWNER, REPO, head=branch, base="dev", title=f"Outside contribution ({name})",
                               user=OUTSIDER, head_owner=OUTSIDER)
        if approved:
            store.add_labels(OWNER, REPO, number, ["ok-to-test"], actor=MAINTAINER)
        prs.append(SeededPR(number, name, "dev", should_run=approved))
    return Seeded(api_token=token, repository=f"{OWNER}/{REPO}", prs=prs)
