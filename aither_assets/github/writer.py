"""GitHub writes that nothing waits for, made in order on a thread of their own.

GitHub asks integrators to make their writes one after another, so a dozen calls take a while
(about 1 s locally, several on github.com) and no stage needs their answers: the pending statuses
and comment at a run's start, the Deployment statuses of a deploy. One writer per run makes them
in the order they were submitted; whoever must land after them (the run's final feedback) waits
for it first. Plain threads, no Dagster: ``defs/resources.py`` gives each run one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

log = logging.getLogger(__name__)


class SerialWriter:
    """Runs submitted calls one at a time, in order, on one thread; ``wait`` reports how they went."""

    def __init__(self, name: str = "writer"):
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, Future]] = []
        self._lock = threading.Lock()

    def submit(self, what: str, call: Callable[[], object]) -> None:
        """Make ``call`` (named ``what`` in warnings) after the calls submitted before it."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"aither-github-{self._name[:8]}")
            self._pending.append((what, self._pool.submit(_logged(what, call))))

    def wait(self, warn: Callable[[str], object], timeout: float = 300.0) -> None:
        """Wait for every call submitted so far; ``warn`` gets a line for each that went wrong.

        A call's result with an ``errors`` list (a FeedbackReport) has each error passed on too.
        """
        with self._lock:
            pending, self._pending = self._pending, []
        for what, future in pending:
            try:
                result = future.result(timeout)
            except FutureTimeout:
                warn(f"{what}: still being published after {timeout:.0f} s")
                continue
            except Exception as exc:  # noqa: BLE001 - feedback never fails the run
                warn(f"{what}: not published ({type(exc).__name__}: {exc})")
                continue
            for error in getattr(result, "errors", None) or []:
                warn(f"{what}: {error}")

    def close(self, wait: bool = True) -> None:
        """No more calls; with ``wait``, return once the submitted ones are made (nothing is lost)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait)


def _logged(what: str, call: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        try:
            return call()
        except Exception:
            log.exception("%s not published", what)
            raise
    return run
