"""Safe access to a checked-out repository whose content is hostile.

Everything under ``root`` was written by the PR author: names may hold quotes, ``$(...)``
or markup, files may be huge, binary, FIFOs or symlinks to ``/etc``. This module is the only
place that touches the file system for the checks, so the rules live in one spot:

* paths are repo-relative POSIX strings, and a path that leaves ``root`` is never opened;
* symlinks are not followed out of the repository (an info finding says what was skipped);
* only regular files of at most :data:`MAX_FILE_BYTES` are read (FIFOs would block forever);
* YAML is parsed once per file and cached, so every check sees the same result.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aither_assets.validation.findings import Finding, make
from aither_assets.validation.yamlnodes import ParsedYaml, parse_yaml

MAX_FILE_BYTES = 1024 * 1024
#: Folders that hold other people's code or generated files: not the PR author's YAML.
SKIP_DIRS = frozenset({".git", "node_modules", "vendor", "third_party", ".venv", "venv", "__pycache__", ".tox"})


@dataclass(frozen=True)
class FileText:
    rel: str
    text: str


class Repo:
    """A checkout on disk, plus what the checks have read from it so far."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.checked: set[str] = set()
        self._yaml: dict[str, ParsedYaml | Finding] = {}

    # -- paths -----------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def normalize(self, rel: str) -> str | None:
        """``rel`` as a clean repo-relative path, or None when it is absolute or climbs out."""
        if not rel or "\x00" in rel or rel.startswith("/"):
            return None
        norm = posixpath.normpath(rel)
        if norm == ".." or norm.startswith("../"):
            return None
        return norm

    def inside(self, path: Path) -> bool:
        """Whether ``path``, with every symlink resolved, is still in the repository."""
        try:
            path.resolve(strict=True).relative_to(self.root)
        except (OSError, ValueError, RuntimeError):  # missing, outside, or a symlink loop
            return False
        return True

    def exists(self, rel: str) -> bool:
        """Whether a repo-relative path exists (a file or folder; a symlink counts as itself)."""
        norm = self.normalize(rel)
        return norm is not None and os.path.lexists(self.root / norm)

    def is_dir(self, rel: str) -> bool:
        norm = self.normalize(rel)
        return norm is not None and self.inside(self.root / norm) and (self.root / norm).is_dir()

    # -- reading ---------------------------------------------------------------------
    def open_problem(self, rel: str, rule: str = "file-skipped") -> Finding | None:
        """Why ``rel`` must not be read (a finding), or None when it is safe to read."""
        norm = self.normalize(rel)
        if norm is None:
            return make(rel, None, rule, "error", "path is outside the repository")
        path = self.root / norm
        if not os.path.lexists(path):
            return make(norm, None, rule, "error", "file does not exist")
        if path.is_symlink() and not self.inside(path):
            return make(norm, None, "symlink-skipped", "info",
                        "symlink pointing outside the repository (or broken): not followed")
        if not self.inside(path):  # a parent folder is a symlink out of the repository
            return make(norm, None, "symlink-skipped", "info", "path leads outside the repository: not followed")
        try:
            info = path.stat()
        except OSError as exc:
            return make(norm, None, rule, "warning", f"cannot read: {exc.strerror}")
        if not stat.S_ISREG(info.st_mode):
            return make(norm, None, rule, "warning", "not a regular file: not checked")
        if info.st_size > MAX_FILE_BYTES:
            return make(norm, None, "file-too-large", "warning",
                        f"file too large to check ({info.st_size} bytes, limit {MAX_FILE_BYTES})")
        return None

    def read_text(self, rel: str) -> FileText | Finding:
        """The UTF-8 text of a small regular file inside the repository, or why it cannot be read."""
        problem = self.open_problem(rel)
        if problem is not None:
            return problem
        norm = self.normalize(rel)
        assert norm is not None
        try:
            # O_NOFOLLOW: the last component cannot have been swapped for a symlink meanwhile.
            fd = os.open(self.root / norm, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return make(norm, None, "file-skipped", "warning", f"cannot read: {exc.strerror}")
        if len(data) > MAX_FILE_BYTES:
            return make(norm, None, "file-too-large", "warning",
                        f"file too large to check (limit {MAX_FILE_BYTES} bytes)")
        self.checked.add(norm)
        try:
            return FileText(norm, data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return make(norm, None, "file-encoding", "warning", f"not UTF-8 text (byte {exc.start}): not checked")

    def yaml(self, rel: str) -> ParsedYaml | Finding:
        """The parsed YAML documents of a file (cached), or the finding that explains why not."""
        norm = self.normalize(rel) or rel
        if norm not in self._yaml:
            text = self.read_text(norm)
            self._yaml[norm] = text if isinstance(text, Finding) else parse_yaml(text.text, text.rel)
        return self._yaml[norm]

    # -- listing ---------------------------------------------------------------------
    def walk(self, skipped: list[Finding] | None = None) -> Iterator[str]:
        """Repo-relative paths of every file, sorted, outside :data:`SKIP_DIRS`.

        Symlinked folders are never entered. Symlinks that lead out of the repository are
        reported into ``skipped`` (when given) instead of being returned.
        """
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False, onerror=None):
            base = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not self._escaping(base / d, skipped))
            for name in sorted(filenames):
                path = base / name
                if self._escaping(path, skipped):
                    continue
                yield self.rel(path)

    def _escaping(self, path: Path, skipped: list[Finding] | None) -> bool:
        if not path.is_symlink() or self.inside(path):
            return False
        if skipped is not None:
            skipped.append(make(self.rel(path), None, "symlink-skipped", "info",
                                "symlink pointing outside the repository (or broken): not followed"))
        return True

    def list_dir(self, rel: str) -> list[str]:
        """Repo-relative paths of the entries of one folder (not recursive), sorted."""
        norm = self.normalize(rel)
        if norm is None or not self.is_dir(norm):
            return []
        try:
            names = sorted(os.listdir(self.root / norm))
        except OSError:
            return []
        return [posixpath.join(norm, name) if norm != "." else name for name in names]
