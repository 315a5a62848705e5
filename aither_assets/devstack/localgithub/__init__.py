"""A local GitHub: a real HTTP server speaking the subset of GitHub's REST API v3
that aither uses, backed by sqlite and real bare git repositories.

- `LocalGitHub(data_dir)` (store.py): the Python API to seed and inspect state.
- `serve(data_dir)` / `run_in_thread(data_dir)` (server.py): the HTTP server.
- `local_github` (cli.py): the `aither local-github` click group.
"""

from .errors import GitHubError
from .store import LocalGitHub

__all__ = ["GitHubError", "LocalGitHub"]
