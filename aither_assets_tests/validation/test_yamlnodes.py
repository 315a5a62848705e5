"""The iterative composer builds the same node trees as yaml.compose_all(SafeLoader)."""

from pathlib import Path

import pytest
import yaml

from aither_assets.validation.graph import cycles
from aither_assets.validation.yamlnodes import compose_documents, items, parse_yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _dump(node):
    if node is None:
        return None
    marks = (node.start_mark.index, node.start_mark.line, node.start_mark.column, node.end_mark.index)
    if isinstance(node, yaml.ScalarNode):
        return ("S", node.tag, node.value, node.style, marks)
    if isinstance(node, yaml.SequenceNode):
        return ("Q", node.tag, node.flow_style, marks, [_dump(n) for n in node.value])
    return ("M", node.tag, node.flow_style, marks, [(_dump(k), _dump(v)) for k, v in node.value])


SAMPLES = [
    "a: &x [1, 2]\nb: *x\n---\n- !!str 1\n- ! 2\n- \"q\"\n- |\n  lit\n- {a: b}\n",
    "x: ~\n? [a]\n: b\non: push\n'on': 1\n",
    "",
    "---\n...\n---\nfoo\n",
    "é: ü\nb: [x, \"ñ\"]\n",
]


@pytest.mark.parametrize("text", SAMPLES + [p.read_text() for p in sorted(EXAMPLES.rglob("*.y*ml"))])
def test_same_nodes_as_pyyaml(text):
    expected = [_dump(d) for d in yaml.compose_all(text, Loader=yaml.SafeLoader)]
    assert [_dump(d) for d in compose_documents(text)] == expected


def test_errors_carry_the_line():
    finding = parse_yaml("a: 1\nb: *nowhere\n", "x.yaml")
    assert (finding.rule, finding.line) == ("yaml-syntax", 2)


def test_merge_keys_are_expanded_explicit_keys_win():
    parsed = parse_yaml("base: &b {image: x, ports: [1]}\nsvc:\n  <<: *b\n  ports: [2]\n", "c.yaml")
    service = items(parsed.first)[1][2]
    assert {name: (value.value if isinstance(value, yaml.ScalarNode) else len(value.value))
            for name, _, value in items(service)} == {"ports": 1, "image": "x"}
    assert items(service)[0][2].value[0].value == "2"


def test_cycles_one_per_component_shortest_path():
    edges = {"a": ["b"], "b": ["c", "a"], "c": ["a"], "d": ["d"], "e": ["a"]}
    assert cycles(edges) == [["a", "b"], ["d"]]
    assert cycles({"x": ["y"], "y": []}) == []


def test_cycles_on_a_long_chain_do_not_recurse():
    edges = {f"j{i}": [f"j{i + 1}"] for i in range(20_000)}
    edges["j20000"] = ["j0"]
    (cycle,) = cycles(edges)
    assert len(cycle) == 20_001
