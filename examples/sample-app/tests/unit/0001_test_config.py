"""Unit 0000-0099: settings from the environment."""

import dataclasses

import pytest

from app.config import DEFAULT_PORT, MAX_DISPLAY_LENGTH, ConfigError, load_settings


def test_defaults_when_environment_is_empty():
    settings = load_settings({})
    assert settings.port == DEFAULT_PORT == 8000
    assert settings.host == "0.0.0.0"  # noqa: S104
    assert settings.app_env == "local"
    assert settings.log_level == "INFO"
    assert settings.max_items == 100
    assert (settings.pr_number, settings.commit_sha, settings.base_ref) == ("", "", "")


def test_port_is_parsed_and_stripped():
    assert load_settings({"PORT": " 9090 "}).port == 9090


@pytest.mark.parametrize("value", ["abc", "-1", "80.5", "0", "65536", "٣٣"])
def test_invalid_port_names_the_variable(value):
    with pytest.raises(ConfigError, match="PORT"):
        load_settings({"PORT": value})


def test_log_level_is_case_insensitive_but_checked():
    assert load_settings({"LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(ConfigError, match="LOG_LEVEL must be one of"):
        load_settings({"LOG_LEVEL": "chatty"})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "app.internal"])
def test_valid_hosts(host):
    assert load_settings({"HOST": host}).host == host


@pytest.mark.parametrize("host", ["bad host", "-leading", "a/b"])
def test_invalid_hosts(host):
    with pytest.raises(ConfigError, match="HOST"):
        load_settings({"HOST": host})


def test_app_env_pattern():
    assert load_settings({"APP_ENV": "pr-123"}).app_env == "pr-123"
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings({"APP_ENV": "Prod Env"})


def test_display_metadata_is_sanitized_and_capped():
    settings = load_settings({"PR_TITLE": "  Fix\x00 the\n\tbug\u202e  ", "BASE_REF": "x" * 500})
    assert settings.pr_title == "Fix the bug"
    assert len(settings.base_ref) == MAX_DISPLAY_LENGTH


def test_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("PR_NUMBER", "7")
    settings = load_settings()
    assert (settings.port, settings.pr_number) == (8123, "7")


def test_settings_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_settings({}).port = 1  # type: ignore[misc]
