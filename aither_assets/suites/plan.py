"""Turn the repo's ``tests:`` config into concrete suites, and report test files no suite covers.

* unit: one suite per declared range, named by the range (``0100-0199``), holding the
  files under the unit paths whose name starts with a 4-digit prefix in that range
  (``0105_test_handlers.py``). A unit file is any file under the unit paths matched by
  a ``discover`` glob, plus any ``NNNN_*.py`` file there (so a prefixed file is never
  lost because the globs were narrowed).
* domain / integration: one suite per entry, holding the ``discover``-matched files
  under its paths.
* ``uncovered``: every ``discover``-matched file that no suite holds, including unit
  files whose prefix is in no declared range and unprefixed files under unit paths.
  (The pipeline this replaces silently skipped a whole range.)
* a suite with no files stays in the plan; the runner reports it as ``empty``.

All paths are repo-relative POSIX strings, sorted. Anything that resolves outside the
repository (a symlink pointing elsewhere) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from aither_assets.config.pipeline import NamedSuite, TestsConfig

SuiteKind = Literal["unit", "domain", "integration"]

_PREFIX = re.compile(r"([0-9]{4})(?![0-9])")
_PREFIXED_PY = re.compile(r"[0-9]{4}_.*\.py")


@dataclass(frozen=True)
class Suite:
    kind: SuiteKind
    name: str
    files: tuple[str, ...]
    argv_template: tuple[str, ...]
    timeout: float
    #: Where it runs: the repo's runner image (None: the operator's default) and sandbox network.
    image: str | None = None
    network: str = "none"

    @property
    def key(self) -> str:
        """``<kind>-<name>``: unique within a plan; also the stem of the suite's report files."""
        return f"{self.kind}-{self.name}"

    @property
    def is_empty(self) -> bool:
        return not self.files

    def to_json(self) -> dict:
        data = asdict(self)
        data["files"] = list(self.files)
        data["argv_template"] = list(self.argv_template)
        return data


@dataclass(frozen=True)
class SuitePlan:
    suites: tuple[Suite, ...]
    #: discover-matched files that no suite holds
    uncovered: tuple[str, ...]
    #: every discover-matched file
    discovered: tuple[str, ...] = ()

    @property
    def empty(self) -> tuple[Suite, ...]:
        """Suites that hold no file (reported, not run)."""
        return tuple(s for s in self.suites if s.is_empty)

    def suite(self, name: str, kind: SuiteKind | None = None) -> Suite:
        for s in self.suites:
            if s.name == name and (kind is None or s.kind == kind):
                return s
        raise KeyError(name)

    def to_json(self) -> dict:
        return {
            "suites": [s.to_json() for s in self.suites],
            "uncovered": list(self.uncovered),
            "empty": [s.key for s in self.empty],
            "discovered": len(self.discovered),
        }


def unit_prefix(filename: str) -> int | None:
    """The 4-digit numeric prefix of a file name (``0105_test_x.py`` -> 105), or None."""
    match = _PREFIX.match(PurePosixPath(filename).name)
    return int(match[1]) if match else None


def parse_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high)


class _Tree:
    """Files of one checkout, as repo-relative POSIX paths, never leaving the root."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.real_root = self.root.resolve()

    def _relative(self, path: Path) -> str | None:
        try:
            if not path.is_file():
                return None
            path.resolve().relative_to(self.real_root)  # raises when a symlink leads outside
            return path.relative_to(self.root).as_posix()
        except (OSError, ValueError, RuntimeError):  # RuntimeError: symlink loop on older Pythons
            return None

    def glob(self, pattern: str) -> set[str]:
        try:
            matches = list(self.root.glob(pattern))
        except (OSError, ValueError):
            return set()
        return {rel for rel in map(self._relative, matches) if rel is not None}

    def under(self, folder: str) -> set[str]:
        base = self.root / folder
        if not base.exists():
            return set()
        if base.is_file():
            rel = self._relative(base)
            return {rel} if rel else set()
        try:
            return {rel for rel in map(self._relative, base.rglob("*")) if rel is not None}
        except OSError:
            return set()


def _is_under(path: str, folder: str) -> bool:
    folder = PurePosixPath(folder).as_posix()
    return folder == "." or path == folder or path.startswith(folder.rstrip("/") + "/")


def plan_suites(config: TestsConfig, root: Path) -> SuitePlan:
    """Expand ``config`` into suites over the checkout at ``root``."""
    tree = _Tree(root)
    discovered: set[str] = set()
    for pattern in config.discover:
        discovered |= tree.glob(pattern)

    suites: list[Suite] = []
    unit = config.unit
    if unit is not None:
        unit_files: set[str] = set()
        for folder in unit.paths:
            under = tree.under(folder)
            unit_files |= {f for f in under if f in discovered or _PREFIXED_PY.fullmatch(PurePosixPath(f).name)}
        argv = tuple(unit.command or config.command)
        timeout = unit.timeout_seconds or config.timeout_seconds
        for span in unit.ranges:
            low, high = parse_range(span)
            files = sorted(f for f in unit_files if (p := unit_prefix(f)) is not None and low <= p <= high)
            suites.append(Suite("unit", span, tuple(files), argv, timeout, config.runner_image,
                                unit.network or config.network))

    def named(kind: SuiteKind, entry: NamedSuite) -> Suite:
        files = sorted(f for f in discovered if any(_is_under(f, folder) for folder in entry.paths))
        return Suite(kind, entry.name, tuple(files), tuple(entry.command or config.command),
                     entry.timeout_seconds or config.timeout_seconds, config.runner_image,
                     entry.network or config.network)

    suites += [named("domain", entry) for entry in config.domains]
    suites += [named("integration", entry) for entry in config.integration]

    held = {f for s in suites for f in s.files}
    return SuitePlan(
        suites=tuple(suites),
        uncovered=tuple(sorted(discovered - held)),
        discovered=tuple(sorted(discovered)),
    )
