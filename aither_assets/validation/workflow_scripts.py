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
from aither_assets.validation.yamlnodes import get, line, line_of_text, scalar

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
_SHELLS = frozenset({"bash", "sh", "zsh", "pwsh", "powershell"})
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
        steps = get(job, "steps")
        for step in steps.value if isinstance(steps, yaml.SequenceNode) else []:
            step_dir = _working_dir(get(step, "working-directory"), wf, repo, out) or job_dir
            run = get(step, "run")
            # `shell: python` (or a custom `{0}` command) runs the text as another language.
            shell = ((scalar(get(step, "shell")) or "bash").split() or ["bash"])[0]
            if scalar(run) and step_dir != "?" and shell in _SHELLS:
                out += _missing_scripts(wf, repo, run, step_dir)
    return out


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


def _missing_scripts(wf: Workflow, repo: Repo, run: yaml.Node, workdir: str) -> list[Finding]:
    out = []
    seen = set()
    for word in script_words(scalar(run) or ""):
        path = _resolve(word, workdir)
        if path is None or path in seen or repo.exists(path):
            continue
        seen.add(path)
        where = f" (resolved as `{path}`)" if path != word else ""
        out.append(make(wf.rel, line_of_text(wf.text, run, word), "missing-script", "error",
                        f"`run:` step calls `{word}`{where}, which does not exist in the repository"))
    return out


def _resolve(word: str, workdir: str) -> str | None:
    if _DYNAMIC.search(word) or posixpath.isabs(word):
        return None
    path = posixpath.normpath(posixpath.join(workdir, word))
    if path == ".." or path.startswith("../") or path.split("/", 1)[0] in GENERATED:
        return None
    return path


def script_words(script: str) -> list[str]:
    """Words of a shell script that name a script or program file in the repository."""
    text = _EXPRESSION.sub("$EXPR", script)
    text = _URL.sub(" ", text)
    text = _COMMENT.sub(r"\1", text)
    found = []
    for command in _commands(text):
        found += _paths_in_command(command)
    return found


def _commands(text: str) -> list[list[str]]:
    """Simple commands of a script: lists of words, split at newlines and ``; && || | & ( )``."""
    commands: list[list[str]] = []
    heredoc_end = None
    for logical in re.sub(r"\\\n", " ", text).splitlines():
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
                commands.append(current)
                current = []
            else:
                current.append(word)
        commands.append(current)
    return [c for c in commands if c]


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
