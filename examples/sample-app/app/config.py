"""Settings read from environment variables and validated once, at start-up.

Operational settings (``PORT``, ``HOST``, ``APP_ENV``, ``LOG_LEVEL``, ``MAX_ITEMS``) are
validated strictly: a bad value stops the service with a message naming the variable.
Deployment metadata (``PR_NUMBER``, ``PR_TITLE``, ``COMMIT_SHA``, ``BASE_REF``) is set by
the pipeline from pull-request data, so it is treated as untrusted display text: it is
sanitized here and HTML-escaped wherever it is rendered.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from app.security import sanitize_text

DEFAULT_PORT = 8000
DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - a container must listen on all its interfaces
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_DISPLAY_LENGTH = 200

_ENV_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


class ConfigError(ValueError):
    """An environment variable is set to an invalid value; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Validated service settings."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    app_env: str = "local"
    log_level: str = "INFO"
    max_items: int = 100
    pr_number: str = ""
    pr_title: str = ""
    commit_sha: str = ""
    base_ref: str = ""


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _host(env: Mapping[str, str]) -> str:
    raw = env.get("HOST", "").strip()
    if not raw:
        return DEFAULT_HOST
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if not _HOSTNAME.match(raw):
            raise ConfigError(f"HOST must be an IP address or a host name, got {raw!r}") from None
    return raw


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().upper()
    if not raw:
        return default
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _env_name(env: Mapping[str, str]) -> str:
    raw = env.get("APP_ENV", "").strip()
    if not raw:
        return "local"
    if not _ENV_NAME.match(raw):
        raise ConfigError(f"APP_ENV must be 1-32 of a-z 0-9 - (e.g. pr-42), got {raw!r}")
    return raw


def _display(env: Mapping[str, str], name: str) -> str:
    return sanitize_text(env.get(name, ""), MAX_DISPLAY_LENGTH)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``).

    Raises :class:`ConfigError` for the first invalid operational setting.
    """
    env = os.environ if environ is None else environ
    return Settings(
        host=_host(env),
        port=_integer(env, "PORT", DEFAULT_PORT, 1, 65535),
        app_env=_env_name(env),
        log_level=_choice(env, "LOG_LEVEL", "INFO", LOG_LEVELS),
        max_items=_integer(env, "MAX_ITEMS", 100, 1, 10_000),
        pr_number=_display(env, "PR_NUMBER"),
        pr_title=_display(env, "PR_TITLE"),
        commit_sha=_display(env, "COMMIT_SHA"),
        base_ref=_display(env, "BASE_REF"),
    )
