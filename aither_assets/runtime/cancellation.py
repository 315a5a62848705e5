"""Cancellation of the run this process executes, for work running on threads.

Dagster interrupts a run by SIGINT, which Python delivers to the main thread only. Steps that
run on other threads (aither_assets/runtime/threaded_executor.py) learn of it here, and the long waits
in our code (subprocesses: test suites, linters) stop early instead of running to the end.
"""

import threading

_requested = threading.Event()


class Cancelled(Exception):
    """The run was cancelled while this work was going on."""


def request() -> None:
    _requested.set()


def requested() -> bool:
    return _requested.is_set()


def reset() -> None:
    """A new run starts in this process (tests run several in one)."""
    _requested.clear()
