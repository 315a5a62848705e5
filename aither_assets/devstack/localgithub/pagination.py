"""`per_page`/`page` and the `Link` header, formatted exactly like GitHub's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from .context import Request, Response

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def _int_arg(request: Request, name: str, default: int) -> int:
    try:
        return int(request.arg(name, str(default)))
    except ValueError:
        return default


def page_window(request: Request) -> tuple[int, int]:
    page = max(_int_arg(request, "page", 1), 1)
    per_page = _int_arg(request, "per_page", DEFAULT_PER_PAGE)
    per_page = DEFAULT_PER_PAGE if per_page < 1 else min(per_page, MAX_PER_PAGE)
    return page, per_page


def paginate(request: Request, items: Sequence[Any], serialize: Callable[[Any], Any],
             wrap: Callable[[list[Any], int], Any] | None = None) -> Response:
    """One page of `items` as a Response with GitHub's Link header.

    `wrap(page_items, total)` builds an object body (e.g. check runs'
    `{"total_count", "check_runs"}`); by default the body is the list.
    """
    page, per_page = page_window(request)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = [serialize(item) for item in items[(page - 1) * per_page: page * per_page]]
    response = Response(200, wrap(chunk, len(items)) if wrap else chunk)
    link = link_header(request, page, last)
    if link:
        response.headers["Link"] = link
    return response


def link_header(request: Request, page: int, last: int) -> str | None:
    """`<url>; rel="prev", <url>; rel="next", <url>; rel="last", <url>; rel="first"`."""
    rels = []
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels.append(("first", 1))
    return ", ".join(f'<{page_url(request, number)}>; rel="{rel}"' for rel, number in rels) or None


def page_url(request: Request, page: int) -> str:
    pairs = [(k, v) for k, v in request.query if k != "page"] + [("page", str(page))]
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    return f"{request.api_base}{request.raw_path}?{query}"
