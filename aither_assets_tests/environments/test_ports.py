"""Preview ports: deterministic, persistent, never shared by two live PRs (unlike 8080 + N % 100)."""

from __future__ import annotations

import multiprocessing
import socket
from pathlib import Path

import pytest

from aither_assets.environments.ports import (
    PortAllocator,
    PortsExhausted,
    host_port_free,
    preferred_port,
)
from aither_assets.runtime.statestore import PostgresStore


def always_free(_port: int) -> bool:
    return True


def make(tmp_path: Path, low: int = 40000, high: int = 40999, **kwargs) -> PortAllocator:
    return PortAllocator(tmp_path / "ports.sqlite", low, high, port_free=kwargs.pop("port_free", always_free), **kwargs)


def test_the_old_scheme_collides_and_ours_does_not(tmp_path):
    assert 8080 + 7 % 100 == 8080 + 107 % 100  # the bug being replaced
    ports = make(tmp_path)
    assert ports.allocate(7) != ports.allocate(107)


def test_no_collision_across_500_prs_in_a_range_of_1000(tmp_path):
    ports = make(tmp_path)
    given = {pr: ports.allocate(pr) for pr in range(1, 501)}
    assert len(set(given.values())) == 500
    assert all(40000 <= port <= 40999 for port in given.values())
    assert ports.allocations() == given
    # most PRs get their preferred (hash) port; the others probed past a collision
    assert sum(given[pr] == preferred_port(pr, 40000, 40999) for pr in given) > 300


def test_preferred_port_is_deterministic_and_hash_based():
    assert preferred_port(123, 20000, 29999) == preferred_port(123, 20000, 29999)
    # PRs 100 apart do not land on one port the way 8080 + N % 100 did
    assert len({preferred_port(n, 20000, 20099) for n in (7, 107, 207, 307, 407)}) > 1
    assert all(20000 <= preferred_port(n, 20000, 20099) <= 20099 for n in range(1, 1000))


def test_a_pr_keeps_its_port_across_allocator_instances(tmp_path):
    first = make(tmp_path).allocate(42)
    again = make(tmp_path)
    assert again.port_of(42) == first
    assert again.allocate(42) == first
    assert first == preferred_port(42, 40000, 40999)  # same on any machine with an empty table


def test_existing_allocation_is_returned_even_when_its_port_is_busy_on_the_host(tmp_path):
    port = make(tmp_path).allocate(5)
    # its own preview now listens there: still the same port
    assert make(tmp_path, port_free=lambda p: p != port).allocate(5) == port


def test_release_frees_the_port_for_reuse(tmp_path):
    ports = make(tmp_path, 40000, 40001)
    a, b = ports.allocate(1), ports.allocate(2)
    assert {a, b} == {40000, 40001}
    with pytest.raises(PortsExhausted):
        ports.allocate(3)
    assert ports.release(1) is True
    assert ports.release(1) is False  # idempotent
    assert ports.port_of(1) is None
    assert ports.allocate(3) == a
    assert ports.allocations() == {2: b, 3: a}


def test_exhaustion_has_a_clear_message(tmp_path):
    ports = make(tmp_path, 40000, 40002, port_free=lambda p: p != 40002)
    ports.allocate(1)
    ports.allocate(2)
    with pytest.raises(PortsExhausted) as info:
        ports.allocate(3)
    message = str(info.value)
    assert "PR 3" in message and "40000-40002" in message
    assert "2 allocated to other PRs" in message and "1 in use by other programs" in message
    assert ports.port_of(3) is None


def test_host_busy_port_is_skipped_by_probing(tmp_path):
    preferred = preferred_port(9, 40000, 40999)
    ports = make(tmp_path, port_free=lambda p: p != preferred)
    assert ports.allocate(9) == (preferred - 40000 + 1) % 1000 + 40000


def test_default_host_check_sees_a_real_listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        assert host_port_free(busy) is False
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    assert host_port_free(free) is True


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_real_host_check_in_the_allocator(tmp_path):
    # A busy port whose neighbour is free (an ephemeral port's neighbour may belong to another program).
    for _ in range(50):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        if busy < 65535 and _free(busy + 1):
            break
        sock.close()
    with sock:
        ports = PortAllocator(tmp_path / "p.sqlite", busy, busy + 1)
        got = ports.allocate(1)
    assert got == busy + 1


def test_range_change_reallocates_inside_the_new_range(tmp_path):
    make(tmp_path, 40000, 40999).allocate(3)
    assert 41000 <= make(tmp_path, 41000, 41009).allocate(3) <= 41009


@pytest.mark.parametrize("low, high", [(0, 10), (100, 99), (65000, 65536)])
def test_invalid_ranges_are_refused(tmp_path, low, high):
    with pytest.raises(ValueError):
        make(tmp_path, low, high)


@pytest.mark.parametrize("pr", [0, -1, True, "12"])
def test_invalid_pr_numbers_are_refused(tmp_path, pr):
    with pytest.raises(ValueError):
        make(tmp_path).allocate(pr)


def _allocate_many(db, prs: list[int], queue) -> None:
    ports = PortAllocator(db, 40000, 40999, port_free=always_free)
    queue.put({pr: ports.allocate(pr) for pr in prs})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_processes_get_disjoint_ports(tmp_path, request, backend):
    # The production profile keeps the allocations in Postgres, shared by every machine.
    db = (str(tmp_path / "shared.sqlite") if backend == "sqlite"
          else PostgresStore(request.getfixturevalue("postgres_url"), "ports"))
    PortAllocator(db, 40000, 40999, port_free=always_free)  # create the schema once
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_allocate_many, args=(db, list(range(start, start + 200)), queue))
        for start in (1, 1001)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    merged = {**results[0], **results[1]}
    assert len(merged) == 400
    assert len(set(merged.values())) == 400
    assert not set(results[0].values()) & set(results[1].values())
    assert PortAllocator(db, 40000, 40999, port_free=always_free).allocations() == merged
