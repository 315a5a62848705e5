"""The `git` CLI, driven with argument lists only (never a shell).

Branch names, titles and file names come from pull requests and are hostile,
so every user-supplied ref is validated with `git check-ref-format` and
passed as a full `refs/heads/...` name, which can never be read as an option.
Commits are built with plumbing (`hash-object`, `update-index`, `commit-tree`)
against a temporary index, so no worktree is ever checked out.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

DEFAULT_AUTHOR = ("aither", "aither@localhost")
ZERO_SHA = "0" * 40
_HEX = re.compile(r"[0-9a-fA-F]{4,40}")
_FILE_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


class GitError(RuntimeError):
    pass


def _clean_env() -> dict[str, str]:
    # Inherited GIT_DIR & co. (e.g. when run from a git hook) must not leak in,
    # and the user's global config must not change commit identities or hooks.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


def run_git(*args: str, cwd: Path | None = None, input: bytes | None = None,
            env: Mapping[str, str] | None = None, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    full_env = _clean_env()
    full_env.update(env or {})
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, env=full_env, capture_output=True, check=False)
    if proc.returncode not in ok_codes:
        raise GitError(f"git {args[0]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")
    return proc


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def valid_branch_name(name: str) -> bool:
    """`git check-ref-format refs/heads/<name>` in Python (it runs on every
    request that names a branch; a subprocess each time would dominate).
    Leading dashes are refused too, so a name can never read as an option."""
    if not isinstance(name, str) or not name or len(name) > 255 or name.startswith(("-", "/")):
        return False
    if name == "@" or name.endswith(("/", ".")) or _REF_FORBIDDEN.search(name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def check_file_path(path: str) -> None:
    """Repository-relative, no escaping the tree, nothing git would mangle."""
    parts = path.split("/") if isinstance(path, str) else []
    if not parts or path.startswith("/") or "\0" in path or any(p in ("", ".", "..", ".git") for p in parts):
        raise ValueError(f"invalid file path: {path!r}")


def parse_author(author: str | tuple[str, str] | None) -> tuple[str, str]:
    """`"Name <email>"`, `(name, email)` or None (the deterministic default)."""
    if author is None:
        return DEFAULT_AUTHOR
    if isinstance(author, tuple):
        return author
    match = re.fullmatch(r"\s*(.*?)\s*<([^<>]*)>\s*", author)
    return (match.group(1), match.group(2)) if match else (author, f"{author}@localhost")


def identity_env(author: str | tuple[str, str] | None, epoch: float) -> dict[str, str]:
    name, email = parse_author(author)
    date = f"@{int(epoch)} +0000"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date}


class BareRepo:
    """One bare repository on disk."""

    def __init__(self, path: Path):
        self.path = path

    @property
    def url(self) -> str:
        return self.path.resolve().as_uri()

    def git(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return run_git(f"--git-dir={self.path}", *args, **kwargs)

    def out(self, *args: str, **kwargs) -> str:
        return self.git(*args, **kwargs).stdout.decode().strip()

    # -- creation -------------------------------------------------------------

    def init(self, default_branch: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        run_git("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(self.path))

    def clone_from(self, source: BareRepo) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        run_git("clone", "--quiet", "--bare", "--no-local", source.url, str(self.path))
        # A fork is independent of its parent once created.
        self.git("remote", "remove", "origin")

    # -- refs -----------------------------------------------------------------

    def branch_sha(self, branch: str) -> str | None:
        return self.ref_sha(f"refs/heads/{branch}")

    def ref_sha(self, ref: str) -> str | None:
        proc = self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok_codes=(0, 1, 128))
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def resolve(self, ref: str) -> str | None:
        """A branch, tag or (abbreviated) commit SHA, never a rev expression."""
        if not isinstance(ref, str) or not ref or ref.startswith("-"):
            return None
        if valid_branch_name(ref):
            for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}"):
                if sha := self.ref_sha(candidate):
                    return sha
        if _HEX.fullmatch(ref):
            return self.ref_sha(ref)
        return None

    def refs(self, prefix: str = "refs/heads/") -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(objectname) %(refname)", prefix).stdout.decode()
        pairs = (line.split(" ", 1) for line in out.splitlines() if line)
        return {name[len(prefix):]: sha for sha, name in pairs}

    def update_ref(self, ref: str, sha: str, old: str | None = None) -> None:
        args = ["update-ref", "-m", "localgithub", ref, sha]
        if old is not None:
            args.append(old)
        self.git(*args)

    def fetch(self, source: BareRepo, src_ref: str, dst_ref: str) -> None:
        self.git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", source.url, f"+{src_ref}:{dst_ref}")

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        proc = self.git("merge-base", "--is-ancestor", ancestor, descendant, ok_codes=(0, 1))
        return proc.returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self.git("merge-base", a, b, ok_codes=(0, 1))
        return proc.stdout.decode().strip() or None

    # -- writing commits --------------------------------------------------------

    def commit_directory(self, source_dir: Path, branch: str, message: str, env: dict[str, str]) -> str:
        """Commit the files of `source_dir` as the new tip of `branch`."""
        with self._temp_index() as index_env:
            run_git(f"--git-dir={self.path}", f"--work-tree={source_dir}", "add", "--all", "--", ".",
                    cwd=source_dir, env=index_env)
            tree = self.out("write-tree", env=index_env)
        return self._commit_and_update(branch, tree, message, env)

    def commit_files(self, branch: str, files: Mapping[str, str | bytes | None], message: str,
                     env: dict[str, str], start_branch: str | None = None) -> str:
        """Write/delete files on top of `branch` and advance it.

        A missing branch is created from `start_branch` (or as a root commit).
        """
        for path in files:
            check_file_path(path)
        tips = self.refs()
        old = tips.get(branch)
        parent = old or tips.get(start_branch or "")
        with self._temp_index() as index_env:
            if parent:
                self.git("read-tree", parent, env=index_env)
            entries = self._index_entries(files)
            self.git("update-index", "-z", "--index-info", input=entries, env=index_env)
            tree = self.out("write-tree", env=index_env)
        sha = self.commit_tree(tree, (parent,) if parent else (), message, env)
        self.update_ref(f"refs/heads/{branch}", sha, old or ZERO_SHA)
        return sha

    def _index_entries(self, files: Mapping[str, str | bytes | None]) -> bytes:
        """`update-index --index-info` input; all blobs are written by one `hash-object`."""
        written = [(path, content) for path, content in files.items() if content is not None]
        blobs = self._hash_blobs([c.encode() if isinstance(c, str) else c for _, c in written])
        entries = [f"100644 {blob}\t".encode() + path.encode() + b"\0"
                   for (path, _), blob in zip(written, blobs, strict=True)]
        entries += [f"0 {ZERO_SHA}\t".encode() + path.encode() + b"\0" for path, c in files.items() if c is None]
        return b"".join(entries)

    def _hash_blobs(self, contents: list[bytes]) -> list[str]:
        if not contents:
            return []
        with tempfile.TemporaryDirectory(prefix="localgithub-blobs-") as tmp:
            paths = []
            for index, data in enumerate(contents):
                path = Path(tmp) / str(index)
                path.write_bytes(data)
                paths.append(str(path))
            out = self.out("hash-object", "-w", "--no-filters", "--stdin-paths", input="\n".join(paths).encode())
        return out.split()

    def _commit_and_update(self, branch: str, tree: str, message: str, env: dict[str, str],
                           parents: tuple[str, ...] | None = None) -> str:
        ref = f"refs/heads/{branch}"
        old = self.ref_sha(ref)
        if parents is None:
            parents = (old,) if old else ()
        sha = self.commit_tree(tree, parents, message, env)
        self.update_ref(ref, sha, old or ZERO_SHA)
        return sha

    def commit_tree(self, tree: str, parents: tuple[str, ...], message: str, env: dict[str, str]) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        # The message goes through stdin: it is arbitrary PR-controlled text.
        return self.out(*args, input=message.encode(), env=env)

    @contextmanager
    def _temp_index(self) -> Iterator[dict[str, str]]:
        with tempfile.TemporaryDirectory(prefix="localgithub-index-") as tmp:
            yield {"GIT_INDEX_FILE": str(Path(tmp) / "index")}

    def bulk_branches(self, base_sha: str, commits: list[tuple[str, str, str, str]],
                      env: dict[str, str]) -> dict[str, str]:
        """Create many one-commit branches off `base_sha` in a single `git fast-import`.

        `commits` holds (branch, file path, file content, message); returns
        {branch: sha}.  Spawning git per branch would take minutes for 1000.
        """
        who = f"{env['GIT_AUTHOR_NAME']} <{env['GIT_AUTHOR_EMAIL']}> {env['GIT_AUTHOR_DATE'].lstrip('@')}"
        stream = bytearray()
        for branch, path, content, message in commits:
            data, text = content.encode(), message.encode()
            stream += (f"commit refs/heads/{branch}\nauthor {who}\ncommitter {who}\n"
                       f"data {len(text)}\n").encode() + text + f"\nfrom {base_sha}\n".encode()
            stream += f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n\n"
        self.git("fast-import", "--quiet", input=bytes(stream))
        tips = self.refs()
        return {branch: tips[branch] for branch, *_ in commits}

    def update_refs(self, updates: dict[str, str]) -> None:
        """Point many refs at once (one `update-ref --stdin` transaction)."""
        lines = "".join(f"update {ref} {sha}\n" for ref, sha in updates.items())
        self.git("update-ref", "--stdin", input=lines.encode())

    # -- merging ------------------------------------------------------------------

    def merge_tree(self, base_sha: str, head_sha: str) -> str | None:
        """The merged tree, or None when the two commits conflict."""
        proc = self.git("merge-tree", "--write-tree", "--no-messages", base_sha, head_sha, ok_codes=(0, 1))
        return proc.stdout.decode().split("\n", 1)[0].strip() if proc.returncode == 0 else None

    def merge_into(self, branch: str, head_sha: str, method: str, message: str, env: dict[str, str]) -> str | None:
        """Merge `head_sha` into `branch` (merge commit, squash or fast-forward).

        Returns the new branch tip, or None on a conflict / impossible ff.
        """
        base_sha = self.branch_sha(branch)
        if base_sha is None:
            return None
        if method == "fast-forward":
            if not self.is_ancestor(base_sha, head_sha):
                return None
            self.update_ref(f"refs/heads/{branch}", head_sha, base_sha)
            return head_sha
        tree = self.merge_tree(base_sha, head_sha)
        if tree is None:
            return None
        parents = (base_sha,) if method == "squash" else (base_sha, head_sha)
        return self._commit_and_update(branch, tree, message, env, parents)

    # -- reading ------------------------------------------------------------------

    def diff_files(self, old: str, new: str) -> list[dict]:
        """Changed files between two commits, shaped like GitHub's PR files."""
        output = self.git("diff", "--raw", "--numstat", "-z", "-M", "--no-abbrev", old, new).stdout
        entries, counts = _parse_diff(output)
        for entry in entries:
            added, deleted = counts.get(entry["filename"], (0, 0))
            entry.update(additions=added, deletions=deleted, changes=added + deleted)
        return entries

    def count_commits(self, old: str | None, new: str) -> int:
        spec = [new] if old is None else [f"^{old}", new]
        return int(self.out("rev-list", "--count", *spec))

    def commits_between(self, old: str | None, new: str) -> list[dict]:
        """Commits reachable from `new` but not `old`, oldest first."""
        spec = [new] if old is None else [f"^{old}", new]
        shas = self.out("rev-list", "--reverse", *spec).split()
        return self.read_commits(shas)

    def read_commits(self, shas: list[str]) -> list[dict]:
        if not shas:
            return []
        data = self.git("cat-file", "--batch", input="\n".join(shas).encode() + b"\n").stdout
        return list(_parse_batch(data))

    def read_commit(self, sha: str) -> dict:
        return self.read_commits([sha])[0]


def _parse_diff(data: bytes) -> tuple[list[dict], dict[str, tuple[int, int]]]:
    """Parse `git diff --raw --numstat -z`: raw records (":<modes> <shas> <status>"
    followed by one path, two for renames/copies) come first, then numstat
    records ("<added>\t<deleted>\t<path>", or an empty path then old and new)."""
    parts = data.split(b"\0")
    entries: list[dict] = []
    counts: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(parts) and parts[i]:
        token = parts[i]
        if token.startswith(b":"):
            _modes_old, _mode_new, old_sha, new_sha, status = token[1:].decode().split()
            paths = 2 if status[0] in "RC" else 1
            names = [_path(p) for p in parts[i + 1: i + 1 + paths]]
            entry = {"sha": new_sha if new_sha != ZERO_SHA else old_sha, "filename": names[-1],
                     "status": _FILE_STATUS.get(status[0], "modified")}
            if paths == 2:
                entry["previous_filename"] = names[0]
            entries.append(entry)
            i += 1 + paths
            continue
        added, deleted, path = token.split(b"\t", 2)
        if path == b"":  # a rename: old and new path follow as separate fields
            path = parts[i + 2]
            i += 3
        else:
            i += 1
        # Binary files show "-": GitHub reports 0 changed lines for them.
        counts[_path(path)] = (int(added) if added != b"-" else 0, int(deleted) if deleted != b"-" else 0)
    return entries, counts


def _path(raw: bytes) -> str:
    return raw.decode(errors="surrogateescape")


def _parse_batch(data: bytes) -> Iterator[dict]:
    pos = 0
    while pos < len(data):
        header_end = data.index(b"\n", pos)
        sha, _kind, size = data[pos:header_end].decode().split()
        body = data[header_end + 1: header_end + 1 + int(size)]
        pos = header_end + 1 + int(size) + 1
        yield _parse_commit_object(sha, body)


def _parse_commit_object(sha: str, body: bytes) -> dict:
    head, _, message = body.partition(b"\n\n")
    commit: dict = {"sha": sha, "parents": [], "message": message.decode(errors="replace")}
    for line in head.decode(errors="replace").split("\n"):
        key, _, value = line.partition(" ")
        if key == "tree":
            commit["tree"] = value
        elif key == "parent":
            commit["parents"].append(value)
        elif key in ("author", "committer"):
            commit[key] = _parse_person(value)
    return commit


def _parse_person(value: str) -> dict:
    match = re.fullmatch(r"(.*) <(.*)> (\d+) ([+-]\d{4})", value)
    if not match:
        return {"name": value, "email": "", "epoch": 0}
    return {"name": match.group(1), "email": match.group(2), "epoch": int(match.group(3))}
