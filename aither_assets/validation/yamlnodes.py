"""Parsing YAML into node trees (which keep line numbers) and reading them defensively.

The node tree is built here from the parser's *event stream* rather than with
``yaml.compose_all``, for three reasons that all come from hostile input:

* speed: libyaml's event parser (``CSafeLoader``) is ~20x faster than the pure-Python
  scanner, which needs ~20 s for a 1 MiB file;
* depth: PyYAML's composer is recursive (``RecursionError``, or a C stack overflow in the
  C composer) and the scanner is quadratic in nesting depth, so composing stops as soon
  as :data:`MAX_DEPTH` is passed, before the parser reads further;
* aliases: a "billion laughs" file composes to a small *graph* that explodes whatever
  walks it, so :func:`expanded_size` measures it, with a budget, before anyone does.

Only the safe resolver is used: no tag ever builds an object. The result is the same
``yaml.Node`` tree ``compose_all`` with ``SafeLoader`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from aither_assets.validation.findings import Finding, make

#: Nodes a file may expand to once aliases are followed; far above any real config.
MAX_EXPANDED_NODES = 200_000
#: Nesting depth of mappings and sequences; real configs stay under 20.
MAX_DEPTH = 100
_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TooDeep(Exception):
    pass


@dataclass(frozen=True)
class ParsedYaml:
    rel: str
    text: str
    documents: tuple[yaml.Node | None, ...]

    @property
    def first(self) -> yaml.Node | None:
        return self.documents[0] if self.documents else None


def parse_yaml(text: str, rel: str) -> ParsedYaml | Finding:
    """Every document of ``text`` as nodes, or a ``yaml-syntax`` finding with the line."""
    try:
        documents = compose_documents(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part) or str(exc)
        return make(rel, mark.line + 1 if mark else None, "yaml-syntax", "error", f"invalid YAML: {problem}")
    except yaml.reader.ReaderError as exc:  # a character YAML forbids (NUL, other controls)
        at = exc.position if isinstance(exc.position, int) else 0
        return make(rel, text.count("\n", 0, at) + 1, "yaml-syntax", "error",
                    f"invalid YAML: character #x{exc.character:04x} is not allowed" if isinstance(exc.character, int)
                    else f"invalid YAML: {exc.reason}")
    except yaml.YAMLError as exc:
        return make(rel, None, "yaml-syntax", "error", f"invalid YAML: {exc}")
    except _TooDeep as exc:
        return make(rel, int(str(exc)), "yaml-syntax", "error",
                    f"nested more than {MAX_DEPTH} levels deep: not checked")
    # A plain file has at most about one node per character; only aliases can go beyond that.
    budget = max(MAX_EXPANDED_NODES, len(text))
    if expanded_size(documents, budget) > budget:
        return make(rel, None, "yaml-bomb", "error",
                    f"aliases expand to more than {budget} nodes (a 'billion laughs' file?): not checked")
    return ParsedYaml(rel, text, documents)


def compose_documents(text: str) -> tuple[yaml.Node | None, ...]:
    """``yaml.compose_all(text, SafeLoader)``, built iteratively from parser events."""
    return tuple(_Composer().run(text))


class _Composer:
    """Turns parser events into nodes with an explicit stack (no recursion)."""

    def __init__(self) -> None:
        self.resolver = yaml.resolver.Resolver()
        self.documents: list[yaml.Node | None] = []
        self.stack: list[yaml.Node] = []
        self.pending_keys: list[yaml.Node | None] = []
        self.anchors: dict[str, yaml.Node] = {}
        self.root: yaml.Node | None = None

    def run(self, text: str) -> list[yaml.Node | None]:
        for event in yaml.parse(text, Loader=_EVENT_LOADER):
            self.feed(event)
        return self.documents

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.anchors, self.root = {}, None
        elif isinstance(event, yaml.DocumentEndEvent):
            self.documents.append(self.root)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                  event.start_mark)
            self.add(self.anchors[event.anchor])
        elif isinstance(event, yaml.ScalarEvent):
            tag = (event.tag if event.tag not in (None, "!")
                   else self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit))
            self.add(self.anchor(event, yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                                        style=event.style or None)))
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self.open(event)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node = self.stack.pop()
            self.pending_keys.pop()
            node.end_mark = event.end_mark
            self.add(node)

    def open(self, event: yaml.CollectionStartEvent) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise _TooDeep(event.start_mark.line + 1)
        kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
        tag = event.tag if event.tag not in (None, "!") else self.resolver.resolve(kind, None, event.implicit)
        node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        self.anchor(event, node)  # before the children: `&a [*a]` refers to itself
        self.stack.append(node)
        self.pending_keys.append(None)

    def anchor(self, event: yaml.NodeEvent, node: yaml.Node) -> yaml.Node:
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        return node

    def add(self, node: yaml.Node) -> None:
        if not self.stack:
            self.root = node
        elif isinstance(self.stack[-1], yaml.SequenceNode):
            self.stack[-1].value.append(node)
        elif self.pending_keys[-1] is None:
            self.pending_keys[-1] = node
        else:
            self.stack[-1].value.append((self.pending_keys[-1], node))
            self.pending_keys[-1] = None


def expanded_size(documents: tuple[yaml.Node | None, ...], budget: int) -> int:
    """How many nodes the documents hold with aliases expanded, counting no further than ``budget``+1.

    Iterative on purpose: the graph may be deep or cyclic (``&a [*a]``), and the count stops
    as soon as it passes the budget, so a bomb costs at most ``budget`` steps.
    """
    count = 0
    stack: list[yaml.Node] = [d for d in documents if d is not None]
    while stack:
        node = stack.pop()
        count += 1
        if count > budget:
            break
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return count


# -- reading nodes (never recursive) ------------------------------------------------------
def line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def scalar(node: yaml.Node | None) -> str | None:
    """The text of a scalar node (as written: ``on`` stays ``"on"``, not ``True``), else None."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


def is_mapping(node: yaml.Node | None) -> bool:
    return isinstance(node, yaml.MappingNode)


_MERGE_TAG = "tag:yaml.org,2002:merge"
#: How many ``<<:`` merges deep a mapping may pull keys from (a merge can point at itself).
_MAX_MERGE_DEPTH = 8


def items(node: yaml.Node | None, _depth: int = 0) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """``(key text, key node, value node)`` of a mapping, in file order; non-scalar keys skipped.

    ``<<: *anchor`` merge keys are expanded as PyYAML does (explicit keys win), so a compose
    service that takes ``image:`` from an anchor has it.
    """
    if not isinstance(node, yaml.MappingNode):
        return []
    own = [(k.value, k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.tag != _MERGE_TAG]
    merged: list[tuple[str, yaml.Node, yaml.Node]] = []
    if _depth < _MAX_MERGE_DEPTH:
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag == _MERGE_TAG:
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for source in sources:
                    merged += items(source, _depth + 1)
    names = {name for name, _, _ in own}
    return own + [m for m in merged if m[0] not in names]


def entry(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """``(key node, value node)`` for ``key`` in a mapping (the last one wins, as in PyYAML)."""
    found = None
    for text, key_node, value in items(node):
        if text == key:
            found = (key_node, value)
    return found


def get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    pair = entry(node, key)
    return pair[1] if pair else None


def has(node: yaml.Node | None, key: str) -> bool:
    return entry(node, key) is not None


def elements(node: yaml.Node | None) -> list[yaml.Node]:
    """The items of a sequence node, or the node itself when it is a single scalar."""
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.ScalarNode) and node.value != "" and node.tag != "tag:yaml.org,2002:null":
        return [node]
    return []


def is_true(node: yaml.Node | None) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value.lower() == "true"


def line_at(parsed_text: str, node: yaml.Node, offset: int, needle: str) -> int | None:
    """Source line of ``needle`` found at ``offset`` of a scalar's *value*.

    A block scalar (``|``, ``|-``, ``>``) or a multi-line plain scalar loses its indentation
    (and ``>`` its line breaks) in the value, so offsets do not map to lines directly. The same
    words do come in the same order, though: the k-th occurrence of ``needle`` in the value is
    the k-th in the node's source span. When it is not (escapes in a quoted string), the node's
    first line is used.
    """
    value = node.value if isinstance(node, yaml.ScalarNode) else ""
    if not needle or not isinstance(value, str):
        return line(node)
    k = value.count(needle, 0, offset)
    start, end = node.start_mark.index, node.end_mark.index
    at = start
    for _ in range(k + 1):
        at = parsed_text.find(needle, at, max(end, start + len(needle)))
        if at < 0:
            return line(node)
        at += len(needle)
    return node.start_mark.line + 1 + parsed_text.count("\n", start, at - len(needle))
