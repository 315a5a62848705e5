"""Dagster's queued run coordinator, with a dequeue interval that may be under a second (dagster.yaml).

Every run waits in the queue for the daemon's next look at it: half the interval on average, on the
path from a push (or a /promote or /rollback comment) to its run. Dagster's `run_queue` setting takes
whole seconds; this subclass takes a float. The daemon's loop sleeps in 0.5 s steps between looks, so
any value at or under 0.5 gives one look every 0.5 s plus the look itself. Everything else (limits from
the `concurrency` block, dequeueing, launching) is Dagster's own.
"""

from __future__ import annotations

from typing import Any

from dagster import Field
from dagster._core.run_coordinator.queued_run_coordinator import QueuedRunCoordinator


class PromptQueuedRunCoordinator(QueuedRunCoordinator):
    """QueuedRunCoordinator whose `dequeue_interval_seconds` is a float.

    Dagster's from_config_value builds it through this __init__, which keeps the interval as given.
    """

    def __init__(self, dequeue_interval_seconds: float | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        interval = 0.5 if dequeue_interval_seconds is None else float(dequeue_interval_seconds)
        if interval <= 0:
            # Zero would make the daemon look at the queue in a busy loop.
            raise ValueError(f"run_coordinator.config.dequeue_interval_seconds must be > 0, got {interval}")
        self._prompt_interval = interval

    @property
    def dequeue_interval_seconds(self) -> float:  # ty: ignore[invalid-method-override]
        return self._prompt_interval

    @classmethod
    def config_type(cls):
        schema = dict(super().config_type())  # ty: ignore[no-matching-overload]
        schema["dequeue_interval_seconds"] = Field(
            float, is_required=False, description="Seconds between the daemon's looks at the run queue."
        )
        return schema
