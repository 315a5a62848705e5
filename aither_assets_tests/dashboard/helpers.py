"""Reading rendered pages back: the text a person sees, per stage card, and every link."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_summary.json"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def summary() -> dict:
    return json.loads(FIXTURE.read_text())


def entry(number: int) -> dict:
    return copy.deepcopy(next(pr for pr in summary()["prs"] if pr["number"] == number))


class Page(HTMLParser):
    """Visible text (whole page or per element id) and every start tag with its attributes."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[tuple[str, str | None]] = []  # open elements: (tag, id)
        self.text_by_id: dict[str, list[str]] = {}
        self.visible: list[str] = []
        self.feed(html)
        self.close()

    def _gap(self):
        self.handle_data(" ")  # a tag boundary separates words (table cells, list items)

    def handle_starttag(self, tag, attrs):
        self._gap()
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in VOID:
            return
        ident = attributes.get("id")
        self.stack.append((tag, ident))
        if ident:
            self.text_by_id.setdefault(ident, [])

    def handle_endtag(self, tag):
        self._gap()
        if tag in VOID:
            return
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if any(tag in ("style", "script", "title") for tag, _ in self.stack):
            return
        self.visible.append(data)
        for _, ident in self.stack:
            if ident:
                self.text_by_id[ident].append(data)

    def text(self, ident: str | None = None) -> str:
        parts = self.visible if ident is None else self.text_by_id[ident]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def hrefs(self) -> list[str]:
        return [attrs["href"] for tag, attrs in self.tags if "href" in attrs]

    def count(self, tag: str) -> int:
        return sum(1 for name, _ in self.tags if name == tag)


def facts(html: str, card_id: str) -> dict[str, str]:
    """dt -> dd text inside one stage card."""
    section = re.search(rf'<article[^>]*id="{re.escape(card_id)}".*?</article>', html, re.S)
    assert section, f"no card {card_id}"
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section.group(0), re.S)
    return {Page(dt).text(): Page(dd).text() for dt, dd in pairs}


def card_html(html: str, card_id: str) -> str:
    section = re.search(rf'<article[^>]*id="{re.escape(card_id)}".*?</article>', html, re.S)
    assert section, f"no card {card_id}"
    return section.group(0)
