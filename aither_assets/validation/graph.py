"""Cycles in a small directed graph (job ``needs:``), without recursion.

A hostile workflow may declare thousands of jobs in a chain; recursive DFS would hit
Python's recursion limit, so Tarjan's algorithm runs on an explicit stack.
"""

from __future__ import annotations

from collections import deque


def strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each in discovery order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component[::-1])
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one, starting at its first node in ``edges`` order."""
    order = {name: i for i, name in enumerate(edges)}
    found = []
    for component in strongly_connected(edges):
        members = set(component)
        start = min(component, key=order.__getitem__)
        if len(component) == 1 and start not in edges.get(start, []):
            continue
        found.append(_shortest_cycle(edges, start, members))
    return sorted(found, key=lambda c: order[c[0]])


def _shortest_cycle(edges: dict[str, list[str]], start: str, members: set[str]) -> list[str]:
    """Shortest path from ``start`` back to itself inside one component (BFS)."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in edges.get(node, []):
            if target not in members:
                continue
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return path[::-1]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    return [start]
