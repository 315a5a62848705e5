"""Reproducible runtime packages.

The same tree gives byte-identical archives: files in sorted order, every
timestamp set to the commit time, modes normalized to 0644/0755, owner 0:0,
and a gzip header without name or time. Then a digest names the content, and a
rebuild of the same SHA can be checked against the first one.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable

_EPOCH_1980 = 315532800  # zip cannot store times before 1980-01-01


def _matches(path: str, pattern: str) -> bool:
    """Glob match where ``**`` spans folders and ``*`` stays inside one (gitignore-like)."""
    parts, pats = PurePosixPath(path).parts, PurePosixPath(pattern).parts

    def match(i: int, j: int) -> bool:
        if j == len(pats):
            return i == len(parts)
        if pats[j] == "**":
            return any(match(k, j + 1) for k in range(i, len(parts) + 1))
        return i < len(parts) and PurePosixPath(parts[i]).match(pats[j]) and match(i + 1, j + 1)

    return match(0, 0)


def select_files(root: Path, include: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """Repo-relative paths of regular files matching ``include`` and not ``exclude``, sorted.

    Symbolic links are left out: a link could carry a file from outside the tree into the package.
    """
    include, exclude = list(include), list(exclude)
    selected = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink() or not full.is_file():
                continue
            if any(_matches(rel, p) for p in include) and not any(_matches(rel, p) for p in exclude):
                selected.append(rel)
    return sorted(selected)


def _mode(path: Path) -> int:
    return 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644


def write_zip(root: Path, files: list[str], dest: Path, mtime: int) -> None:
    stamp = time.gmtime(max(mtime, _EPOCH_1980))[:6]
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for rel in sorted(files):
            info = zipfile.ZipInfo(rel, date_time=stamp)
            info.external_attr = (stat.S_IFREG | _mode(root / rel)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the modes above mean what they say
            archive.writestr(info, (root / rel).read_bytes())


def write_targz(root: Path, files: list[str], dest: Path, mtime: int) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(files):
            data = (root / rel).read_bytes()
            info = tarfile.TarInfo(rel)
            info.size, info.mtime, info.mode = len(data), mtime, _mode(root / rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(dest, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buffer.getvalue())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Artifact:
    name: str
    path: Path
    size: int
    sha256: str

    def to_json(self) -> dict:
        return {"name": self.name, "path": str(self.path), "size": self.size, "sha256": self.sha256}


def build_archives(root: Path, files: list[str], out_dir: Path, basename: str, mtime: int) -> list[Artifact]:
    """``<basename>.zip`` and ``<basename>.tar.gz`` of ``files`` in ``out_dir``."""
    if not files:
        raise ValueError("the package is empty: package.include matched no file")
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = []
    for suffix, writer in ((".zip", write_zip), (".tar.gz", write_targz)):
        dest = out_dir / f"{basename}{suffix}"
        writer(root, files, dest, mtime)
        artifacts.append(Artifact(dest.name, dest, dest.stat().st_size, sha256_file(dest)))
    return artifacts


def next_iteration(previous: Iterable[tuple[str, int]], sha: str) -> int:
    """The per-PR iteration K for ``sha``: its earlier number if it was built before, else one more."""
    seen = dict(previous)
    if sha in seen:
        return seen[sha]
    return max(seen.values(), default=0) + 1
