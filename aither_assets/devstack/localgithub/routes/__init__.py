"""The route table: `(method, "/path/{param}", handler)` per endpoint.

`{name}` matches one path segment, `{name*}` the rest of the path (branch
names contain slashes) and `{name:int}` a number (passed as an int; anything
else is a 404, as on GitHub).  Parameters are matched on the still-encoded path and
decoded afterwards, so an encoded `/` inside a label name stays one segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from ..context import Context, Response
from ..errors import NotFound
from . import apps, checks, deployments, hooks, issues, pulls, repos

Handler = Callable[..., Response]


_PARAM = re.compile(r"\{(\w+)(\*|:int)?\}")
_PATTERNS = {"": "[^/]+", "*": ".+", ":int": "[0-9]{1,15}"}


def _compile(template: str) -> tuple[re.Pattern, frozenset[str]]:
    """The template's regex and the names of its `:int` parameters."""
    regex = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>{_PATTERNS[m.group(2) or '']})", template)
    ints = frozenset(m.group(1) for m in _PARAM.finditer(template) if m.group(2) == ":int")
    return re.compile(f"^{regex}$"), ints


ROUTES: list[tuple[str, tuple[re.Pattern, frozenset[str]], Handler]] = [
    (method, _compile(template), handler)
    # repos last: its `/commits/{ref*}` would swallow `/commits/{ref}/status` & co.
    for module in (pulls, issues, checks, deployments, apps, hooks, repos)
    for method, template, handler in module.ROUTES
]


def dispatch(ctx: Context) -> Response:
    request = ctx.request
    for method, (pattern, ints), handler in ROUTES:
        if method != request.method:
            continue
        match = pattern.match(request.raw_path)
        if match:
            params = {key: int(value) if key in ints else unquote(value)
                      for key, value in match.groupdict().items()}
            return handler(ctx, **params)
    raise NotFound()
