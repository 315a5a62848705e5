"""Container health check without curl: ``python3 -m app.healthcheck`` exits 0 when healthy."""

from __future__ import annotations

import json
import sys
import urllib.request

from app.config import ConfigError, load_settings


def check(port: int, timeout: float = 2.0) -> bool:
    """True when ``GET /health`` on localhost answers 200 with ``{"status": "ok"}``."""
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200 and json.load(response).get("status") == "ok"
    except (OSError, ValueError):
        return False


def main() -> int:
    """Exit status for Docker's HEALTHCHECK: 0 healthy, 1 not."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0 if check(settings.port) else 1


if __name__ == "__main__":
    sys.exit(main())
