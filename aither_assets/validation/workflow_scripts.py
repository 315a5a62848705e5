"""``run:`` steps that call a script missing from the repository, and missing working folders.

A renamed or never-committed ``scripts/deploy.sh`` only shows up as a failed run, late.
The shell text is read, not run: words are split with :mod:`shlex` (no expansion), and only
words in *command position* or the script argument of an interpreter (``bash x.sh``,
``python tools/y.py``) are taken as paths, so output paths and arguments are not flagged.
Anything dynamic (``${{ }}`` expressions, ``$VAR``, globs, URLs) is skipped: it cannot be
known before the run.
"""

from __future__ import annotations

import posixpath
import re
import shlex

import yaml

from aither_assets.validation.findings import Finding, make
from aither_assets.validation.repo import Repo
from aither_assets.validation.workflow_model import Workflow
from aither_assets.validation.yamlnodes import elements, get, line, line_at, scalar

SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".ps1", ".js", ".mjs", ".cjs", ".rb", ".pl")
#: Commands whose first non-option argument is a script file.
INTERPRETERS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "python", "python3", "python2", "node", "ruby",
                          "perl", "pwsh", "powershell", "source", ".", "uv", "poetry"})
#: Words after which the next word is again a command.
PREFIXES = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "time", "sudo", "exec",
                      "env", "nohup", "{", "run"})  # `uv run x.py`, `poetry run x.py`
#: Options after which an interpreter runs something that is not a file (module, inline code).
_STOP_OPTIONS = frozenset({"-m", "-c", "--eval", "-Command", "-command"})
#: ``-e`` is inline code for these, but "exit on error" for the shells.
_EVAL_E = frozenset({"node", "ruby", "perl"})
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
#: First folders that a workflow usually creates itself (installs, builds) rather than commits.
GENERATED = frozenset({"node_modules", "dist", "build", "target", "out", ".venv", "venv"})
_GIT_CLONE_VALUE_OPTIONS = frozenset({"--depth", "-b", "--branch", "-o", "--origin", "--filter", "--reference", "-c",
                                      "--config", "-j", "--jobs", "-u", "--upload-pack", "--separate-git-dir",
                                      "--shallow-since", "--shallow-exclude", "--template"})
#: Commands after which the script's relative paths mean another folder.
_CHANGES_DIR = frozenset({"cd", "pushd", "popd"})
#: Shells whose text is split into words here; pwsh, powershell, python, cmd text never is.
SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_MATRIX_LABEL = re.compile(r"\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}")
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_COMMENT = re.compile(r"(^|\s)#.*$", re.MULTILINE)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_DYNAMIC = re.compile(r"[$*?\[\]{}~`\\]")


def check_scripts(wf: Workflow, repo: Repo) -> list[Finding]:
    out: list[Finding] = []
    top_dir = _default_dir(wf.node, wf, repo, out) or "."
    for _, job in wf.jobs.values():
        job_dir = _default_dir(job, wf, repo, out) or top_dir
        produced: set[str] = set()  # folders earlier steps fill (another checkout, downloaded artifacts)
        for step in job_steps(job):
            folder = _fills(step, repo)
            if folder == ".":
                break  # the workspace now holds something else: the rest of the job is not ours to check
            if folder:
                produced.add(folder)
                continue
            where = get(step, "working-directory")
            if _under((scalar(where) or "").strip(), produced, repo):
                continue
            step_dir = _working_dir(where, wf, repo, out) or job_dir
            run = get(step, "run")
            if scalar(run) and step_dir != "?" and step_shell(wf.node, job, step) in SHELLS:
                out += _missing_scripts(wf.rel, wf.text, repo, run, step_dir, produced)
                produced |= created_folders(scalar(run) or "", step_dir)
                if "." in produced:
                    break  # `git clone URL .`: the workspace is another repository now
    return out


def _fills(step: yaml.Node, repo: Repo) -> str | None:
    """The folder a step writes files into that the repository does not hold, ``"."`` for the whole workspace.

    ``actions/checkout`` of another repository (or to a ``path:``) and ``actions/download-artifact``.
    """
    uses = (scalar(get(step, "uses")) or "").strip().lower()
    with_ = get(step, "with")
    path = (scalar(get(with_, "path")) or "").strip()
    if uses.startswith("actions/checkout@"):
        other = (scalar(get(with_, "repository")) or "").strip()
        if not path and (not other or "github.repository" in other):
            return None  # this repository, where it is
    elif not uses.startswith("actions/download-artifact@"):
        return None
    if _DYNAMIC.search(path):
        return None  # somewhere only the run knows (often outside the workspace)
    norm = repo.normalize(path) if path else "."
    return norm or None


def _under(path: str, produced: set[str], repo: Repo) -> bool:
    norm = repo.normalize(path) if path else None
    return bool(norm) and any(norm == p or norm.startswith(p.rstrip("/") + "/") for p in produced)


def job_steps(job: yaml.Node | None) -> list[yaml.Node]:
    steps = get(job, "steps")
    return [s for s in steps.value if isinstance(s, yaml.MappingNode)] if isinstance(steps, yaml.SequenceNode) else []


def step_shell(top: yaml.Node | None, job: yaml.Node | None, step: yaml.Node) -> str | None:
    """The program a ``run:`` step runs with (``bash``, ``pwsh``, ``python``...); None when only the run knows.

    ``shell:`` on the step, else ``defaults.run.shell`` of the job, then of the workflow, else
    the runner's default: bash on Linux and macOS, pwsh on Windows. A matrix ``runs-on`` is
    resolved from the matrix's own values; runners that mix Windows and others give None.
    """
    for node in (step, job, top):
        where = get(node, "shell") if node is step else get(get(get(node, "defaults"), "run"), "shell")
        text = (scalar(where) or "").strip()
        if text:
            if "${{" in text:
                return None
            # `bash -e {0}`, `/usr/bin/env bash`, `C:\\tools\\pwsh.exe {0}`: the program's own name
            words = [w for w in text.replace("\\", "/").split() if w != "{0}"]
            if len(words) > 1 and posixpath.basename(words[0]) == "env":
                words = words[1:]
            return posixpath.basename(words[0]).lower().removesuffix(".exe") if words else None
    systems = runner_systems(job)
    if systems is None or len(systems) != 1:
        return None
    return "pwsh" if systems == {"windows"} else "bash"


def runner_systems(job: yaml.Node | None) -> set[str] | None:
    """``{"windows"}``, ``{"other"}`` or both for the runners a job may get; None when unknown."""
    runs_on = get(job, "runs-on")
    if isinstance(runs_on, yaml.MappingNode):
        runs_on = get(runs_on, "labels")
    labels = [scalar(n) or "" for n in elements(runs_on)]
    if not labels:
        return None
    values: list[str] = []
    for label in labels:
        m = _MATRIX_LABEL.fullmatch(label.strip())
        if m:
            resolved = _matrix_values(job, m.group(1))
            if resolved is None:
                return None
            values += resolved
        elif "${{" in label:
            return None
        else:
            values.append(label)
    if len(labels) > 1:  # one runner with several labels (`[self-hosted, windows, x64]`)
        return {"windows" if any("windows" in v.lower() for v in values) else "other"}
    return {"windows" if "windows" in v.lower() else "other" for v in values} or None


def _matrix_values(job: yaml.Node | None, key: str) -> list[str] | None:
    matrix = get(get(job, "strategy"), "matrix")
    if not isinstance(matrix, yaml.MappingNode):
        return None
    found = [scalar(n) for n in elements(get(matrix, key))]
    for extra in elements(get(matrix, "include")):
        found.append(scalar(get(extra, key)))
    if not found or any(v is None or "${{" in v for v in found):
        return None
    return [v for v in found if v is not None]


def _default_dir(node: yaml.Node, wf: Workflow, repo: Repo, out: list[Finding]) -> str | None:
    return _working_dir(get(get(get(node, "defaults"), "run"), "working-directory"), wf, repo, out)


def _working_dir(node: yaml.Node | None, wf: Workflow, repo: Repo, out: list[Finding]) -> str | None:
    """The folder ``run:`` steps start in (``"?"`` when it is only known at run time)."""
    text = (scalar(node) or "").strip()
    if not text:
        return None
    if _DYNAMIC.search(text) or posixpath.isabs(text):
        return "?"
    norm = repo.normalize(text)
    if norm is None:
        return "?"  # outside the checkout (another checkout next to it): not ours to check
    if not repo.is_dir(norm):
        out.append(make(wf.rel, line(node), "missing-working-directory", "warning",
                        f"working-directory `{text}` does not exist in the repository"))
    return norm


def _missing_scripts(rel: str, text: str, repo: Repo, run: yaml.Node, workdir: str,
                     produced: set[str] | frozenset[str] = frozenset()) -> list[Finding]:
    out = []
    seen = set()
    for word, offset, written in script_words(scalar(run) or ""):
        path = _resolve(word, workdir)
        if path is None or path in seen or repo.exists(path) or _under(path, produced, repo):
            continue
        seen.add(path)
        where = f" (resolved as `{path}`)" if path != word else ""
        out.append(make(rel, line_at(text, run, offset, written), "missing-script", "error",
                        f"`run:` step calls `{word}`{where}, which does not exist in the repository"))
    return out


def _resolve(word: str, workdir: str) -> str | None:
    if _DYNAMIC.search(word) or posixpath.isabs(word):
        return None
    path = posixpath.normpath(posixpath.join(workdir, word))
    if path == ".." or path.startswith("../") or path.split("/", 1)[0] in GENERATED:
        return None
    return path


def script_words(script: str) -> list[tuple[str, int, str]]:
    """``(word, offset, text at offset)`` for each word of a shell script that names a file in the repository.

    The text at the offset is the word itself, or, when quotes made the word differ from what is
    written (``"./a",`` reads as ``./a,``), the line it starts on: what :func:`line_at` looks for.
    """
    physical = script.split("\n")
    starts = [0]
    for row in physical:
        starts.append(starts[-1] + len(row) + 1)
    found = []
    for first_line, command in _commands(_clean(script)):
        first_line = min(first_line, len(physical) - 1)
        if _program(command) in _CHANGES_DIR:
            break  # after `cd`, relative paths mean another folder: stop rather than guess
        for word in _paths_in_command(command):
            at = script.find(word, starts[first_line])
            if at >= 0:
                found.append((word, at, word))
            else:
                row = physical[first_line]
                found.append((word, starts[first_line] + len(row) - len(row.lstrip()), row.strip()))
    return found


def _clean(script: str) -> str:
    """The script without expressions, URLs and comments, with its line count kept."""
    text = _EXPRESSION.sub(lambda m: "$EXPR" + "\n" * m.group(0).count("\n"), script)
    text = _URL.sub(" ", text)
    return _COMMENT.sub(r"\1", text)


def _program(words: list[str]) -> str:
    index = 0
    while index < len(words) and (_ASSIGNMENT.match(words[index]) or words[index] in PREFIXES):
        index += 1
    return words[index] if index < len(words) else ""


def created_folders(script: str, workdir: str) -> set[str]:
    """Folders a script makes that later steps may use: ``git clone URL [dir]``, ``mkdir [-p] dir``."""
    made = set()
    for _, words in _commands(_EXPRESSION.sub("$EXPR", script)):
        program = _program(words)
        rest = words[words.index(program) + 1:] if program else []
        if program == "git" and rest[:1] == ["clone"]:
            args = _positional(rest[1:], _GIT_CLONE_VALUE_OPTIONS)
            if args:
                made.add(args[1] if len(args) > 1 else posixpath.basename(args[0].rstrip("/")).removesuffix(".git"))
        elif program == "mkdir":
            made.update(_positional(rest, frozenset({"-m", "--mode"})))
    return {posixpath.normpath(posixpath.join(workdir, m)) for m in made
            if m and not _DYNAMIC.search(m) and not posixpath.isabs(m) and "://" not in m}


def _positional(args: list[str], takes_value: frozenset[str]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """``(index of the first physical line, text)``, with ``\\``-newline continuations joined."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for index, physical in enumerate(text.split("\n")):
        if not pending:
            first = index
        if physical.endswith("\\"):
            pending.append(physical[:-1])
            continue
        out.append((first, " ".join([*pending, physical])))
        pending = []
    if pending:
        out.append((first, " ".join(pending)))
    return out


def _commands(text: str) -> list[tuple[int, list[str]]]:
    """Simple commands of a script with their first line: words split at newlines and ``; && || | & ( )``."""
    commands: list[tuple[int, list[str]]] = []
    heredoc_end = None
    for first, logical in _logical_lines(text):
        # The body of a here-document is data (often a script being written), not commands.
        if heredoc_end is not None:
            heredoc_end = None if logical.strip() == heredoc_end else heredoc_end
            continue
        opened = _HEREDOC.search(logical)
        heredoc_end = opened.group(2) if opened else None
        try:
            lexer = shlex.shlex(logical, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words = list(lexer)
        except ValueError:  # unbalanced quotes (a string spanning lines): plain split
            words = logical.split()
        current: list[str] = []
        for word in words:
            if word and all(ch in "();<>|&" for ch in word):
                commands.append((first, current))
                current = []
            else:
                current.append(word)
        commands.append((first, current))
    return [(first, c) for first, c in commands if c]


def _paths_in_command(words: list[str]) -> list[str]:
    index = 0
    # Skip `VAR=value` prefixes and keywords such as `then` or `sudo`.
    while index < len(words) and (_ASSIGNMENT.match(words[index]) or words[index] in PREFIXES):
        index += 1
    if index >= len(words):
        return []
    command = words[index]
    if _looks_like_path(command, command_position=True):
        return [command]
    if posixpath.basename(command) in INTERPRETERS:
        for arg in words[index + 1:]:
            if arg in _STOP_OPTIONS or (arg == "-e" and posixpath.basename(command) in _EVAL_E):
                return []
            if arg.startswith("-") or arg in PREFIXES:
                continue
            return [arg] if _looks_like_path(arg, command_position=False) else []
    return []


def _looks_like_path(word: str, command_position: bool) -> bool:
    if _DYNAMIC.search(word) or word.startswith("-"):
        return False
    if word.lower().endswith(SCRIPT_SUFFIXES):
        # a script file: `scripts/x.sh`, `./x.py`; `x.py` alone only as an interpreter's argument
        return "/" in word or not command_position
    return command_position and word.startswith("./") and len(word) > 2 and not word.endswith("/")


# -- composite actions ----------------------------------------------------------------------
def local_actions(repo: Repo, workflows: list[Workflow]) -> list[str]:
    """Action files (``action.yml``) of the local actions steps use (``uses: ./path``)."""
    found = set()
    for wf in workflows:
        for _, job in wf.jobs.values():
            for step in job_steps(job):
                uses = (scalar(get(step, "uses")) or "").strip()
                if not uses.startswith("./") or uses.startswith("./.github/workflows/"):
                    continue
                folder = repo.normalize(uses.split("@", 1)[0])
                for name in ("action.yml", "action.yaml"):
                    path = posixpath.join(folder, name) if folder else None
                    if path and repo.exists(path):
                        found.add(path)
                        break
    return sorted(found)


def check_composite_action(repo: Repo, rel: str) -> list[Finding]:
    """Scripts a composite action's ``run:`` steps call (relative to the workspace, as GitHub runs them)."""
    parsed = repo.yaml(rel)
    if isinstance(parsed, Finding):
        return []
    steps = get(get(parsed.first, "runs"), "steps")
    out: list[Finding] = []
    for step in steps.value if isinstance(steps, yaml.SequenceNode) else []:
        run = get(step, "run")
        # Composite steps must name their shell; no runner default applies.
        if scalar(run) and step_shell(None, None, step) in SHELLS:
            workdir = _working_dir(get(step, "working-directory"), _Named(rel), repo, out) or "."
            if workdir != "?":
                out += _missing_scripts(rel, parsed.text, repo, run, workdir)
    return out


class _Named:
    """What :func:`_working_dir` needs of a file: its path."""

    def __init__(self, rel: str):
        self.rel = rel
