"""Loading a config file: YAML parsed with its node tree (for line numbers), checked by a pydantic
model, every failure turned into a one-line ConfigIssue (``errors.py``). Line numbers come from
the YAML node tree, not from re-scanning text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ValidationError

from aither_assets.config.errors import ConfigError, ConfigIssue


def field_path(loc: Iterable[Any]) -> str:
    """``("tests", "unit", 0, "paths")`` -> ``tests.unit[0].paths``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml_file(path: Path, label: str | None = None) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file, returning the data and its node tree (for line numbers)."""
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(label, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(label, "", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_yaml_text(text, label)


def parse_yaml_text(text: str, label: str) -> tuple[Any, yaml.Node | None]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigIssue(label, "", f"invalid YAML: {exc.problem or exc}", line=line)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(label, "", f"invalid YAML: {exc}")]) from None
    return data, node


def line_of(node: yaml.Node | None, loc: Iterable[Any]) -> int | None:
    """1-based line of the deepest node along ``loc`` that exists in the YAML."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            key = next((k for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                break
            node = match
            line = (key or match).start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def validate_model(model: type[BaseModel], data: Any, label: str, node: yaml.Node | None) -> Any:
    """Validate ``data`` against ``model``; raise ConfigError with every issue, each on one line."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(label, "", "must be a mapping of fields", value=data, has_value=True)])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(issues_from_validation(exc, label, node)) from None


def issues_from_validation(exc: ValidationError, label: str, node: yaml.Node | None) -> list[ConfigIssue]:
    errors = exc.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in errors]
    issues = []
    for err in errors:
        loc = tuple(err["loc"])
        # A list that failed only because its items failed adds nothing: report the items.
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs):
            continue
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        has_value = err["type"] not in ("missing",) and "input" in err
        issues.append(
            ConfigIssue(
                file=label,
                field=field_path(loc),
                message=message,
                line=line_of(node, loc),
                value=err.get("input"),
                has_value=has_value and not isinstance(err.get("input"), dict),
            )
        )
    return issues
