"""Primary rate limit: a fixed one-hour window per token, as GitHub counts it."""

from __future__ import annotations

from dataclasses import dataclass

from .base import StoreBase

WINDOW_SECONDS = 3600
DEFAULT_LIMIT = 5000
DEFAULT_ANONYMOUS_LIMIT = 60


@dataclass
class RateState:
    limit: int
    used: int
    reset: int  # epoch seconds when the window ends

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Used": str(self.used), "X-RateLimit-Reset": str(self.reset),
                "X-RateLimit-Resource": "core"}


class RateLimitMixin(StoreBase):
    def set_rate_limit(self, limit: int | None = None, anonymous: int | None = None) -> None:
        """Change the hourly limits (e.g. to exhaust them quickly in a test)."""
        with self.db.tx() as c:
            for key, value in (("rate_limit", limit), ("anonymous_rate_limit", anonymous)):
                if value is not None:
                    c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, str(int(value))))

    def rate_limit(self, anonymous: bool = False) -> int:
        key = "anonymous_rate_limit" if anonymous else "rate_limit"
        value = self.db.scalar("SELECT value FROM meta WHERE key=?", key)
        return int(value) if value is not None else (DEFAULT_ANONYMOUS_LIMIT if anonymous else DEFAULT_LIMIT)

    def rate_state(self, bucket: str, limit: int, consume: bool = False) -> RateState:
        """The bucket's window, optionally counting one more request in it."""
        now = self.db.clock()
        with self.db.tx() as c:
            row = c.execute("SELECT * FROM rate_windows WHERE key=?", (bucket,)).fetchone()
            if row is None or now >= row["window_start"] + WINDOW_SECONDS:
                row = {"window_start": now, "used": 0}
            used = row["used"] + (1 if consume else 0)
            if consume:
                c.execute("INSERT OR REPLACE INTO rate_windows(key, window_start, used) VALUES(?, ?, ?)",
                          (bucket, row["window_start"], used))
        return RateState(limit, used, int(row["window_start"] + WINDOW_SECONDS))

    def reset_rate_limits(self) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM rate_windows")
