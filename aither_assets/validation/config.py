"""Check 1: the repository's own pipeline config, ``.aither/pipeline.yaml``.

The loader in :mod:`aither_assets.config.pipeline` already turns every problem into a
``ConfigIssue`` with a line; here each becomes a finding. The file is first read through
:class:`Repo` so that a symlink to ``/etc``, a huge file or a YAML bomb is stopped before
the loader (which would follow links and ``repr`` whatever value it rejects).
"""

from __future__ import annotations

from aither_assets.config.errors import ConfigError, ConfigIssue, short_repr
from aither_assets.config.loading import line_of
from aither_assets.config.pipeline import (
    PIPELINE_PATH,
    PipelineConfig,
    load_pipeline_config,
)
from aither_assets.validation.findings import Finding, make
from aither_assets.validation.repo import Repo

RULE = "pipeline-config"
#: The loader parses with pure-Python PyYAML (~20 s per MiB): a real config is a few KiB.
MAX_CONFIG_CHARS = 64 * 1024


def check_pipeline_config(repo: Repo) -> tuple[PipelineConfig | None, list[Finding]]:
    """The parsed config when it is valid, and a finding for each problem."""
    if not repo.exists(PIPELINE_PATH):
        return None, [make(PIPELINE_PATH, None, RULE, "error",
                           "pipeline config not found: the repository must have .aither/pipeline.yaml")]
    parsed = repo.yaml(PIPELINE_PATH)
    if isinstance(parsed, Finding):
        return None, [_as_config_error(parsed)]
    if len(parsed.text) > MAX_CONFIG_CHARS:
        return None, [make(PIPELINE_PATH, None, RULE, "error",
                           f"file too large to check ({len(parsed.text)} characters, limit {MAX_CONFIG_CHARS})")]
    try:
        return load_pipeline_config(repo.root), []
    except ConfigError as exc:
        return None, [_from_issue(issue) for issue in exc.issues]


def _as_config_error(problem: Finding) -> Finding:
    # Whatever stopped us from reading it (size, symlink, syntax), the config is unusable: an error.
    return make(PIPELINE_PATH, problem.line, RULE, "error", f"cannot use the pipeline config: {problem.message}")


def _from_issue(issue: ConfigIssue) -> Finding:
    message = f"{issue.field or '<top level>'}: {issue.message}"
    if issue.has_value:
        message += f" (got {short_repr(issue.value)})"
    return make(issue.file or PIPELINE_PATH, issue.line, RULE, "error", message)


def config_line(repo: Repo, *loc: str) -> int | None:
    """Line of a field of the pipeline config (for findings about what it names)."""
    parsed = repo.yaml(PIPELINE_PATH)
    return None if isinstance(parsed, Finding) else line_of(parsed.first, loc)


def referenced_file(repo: Repo, config: PipelineConfig | None, field: str,
                    defaults: tuple[str, ...]) -> tuple[str | None, list[Finding]]:
    """The file a check should read: ``docker.<field>`` from a valid config, else the first default present.

    A config that names a missing file gets an error finding on the config line naming it.
    """
    named = getattr(config.docker, field, None) if config is not None and config.docker is not None else None
    if named:
        if repo.exists(named):
            return named, []
        return None, [make(PIPELINE_PATH, config_line(repo, "docker", field), f"{field}-missing", "error",
                           f"docker.{field} names `{named}`, which does not exist in the repository")]
    return next((rel for rel in defaults if repo.exists(rel)), None), []
