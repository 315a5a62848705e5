"""Freeze windows in the operator config: a typo stops the deployment with one line naming field and value."""

import textwrap

import pytest

from aither_assets.config.errors import ConfigError
from aither_assets.config.freeze import FreezeConfig
from aither_assets.config.loading import parse_yaml_text, validate_model


def load(text: str) -> FreezeConfig:
    data, node = parse_yaml_text(textwrap.dedent(text), "aither.yaml")
    return validate_model(FreezeConfig, data, "aither.yaml", node)


def errors(text: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load(text)
    return [str(issue) for issue in error.value.issues]


GOOD = """\
rollbacks_allowed: false
rings:
  production:
    recurring:
      - {name: weekend, time_zone: Europe/Berlin, days: [Friday], start: "18:00", end_day: MON, end: "08:00"}
    dated:
      - {name: year-end, time_zone: America/New_York, start: "2026-12-20 00:00", end: 2027-01-04T08:00}
"""


def test_a_valid_config_reads_days_times_and_dates():
    config = load(GOOD)
    assert config.rollbacks_allowed is False
    (weekend,) = config.windows("production").recurring
    assert (weekend.days, weekend.end_day, str(weekend.start), str(weekend.end)) == (("fri",), "mon", "18:00:00", "08:00:00")
    (year_end,) = config.windows("production").dated
    assert (year_end.start.isoformat(), year_end.end.isoformat()) == ("2026-12-20T00:00:00", "2027-01-04T08:00:00")
    assert config.windows("dev").recurring == () and load("{}").rollbacks_allowed is True


def test_unknown_time_zone_is_named_with_its_value():
    assert errors("""\
        rings:
          production:
            recurring:
              - {name: w, time_zone: Mars/Olympus, days: [fri], start: "18:00", end: "20:00"}
        """) == ["aither.yaml:4: rings.production.recurring[0].time_zone: unknown IANA time zone; use a name such as "
                 "Europe/Berlin, America/New_York or UTC (got 'Mars/Olympus')"]


def test_bad_day_name_is_named_with_its_value():
    assert errors("""\
        rings:
          staging:
            recurring:
              - name: w
                time_zone: UTC
                days: [fri, fryday]
                start: "18:00"
                end: "20:00"
        """) == ["aither.yaml:6: rings.staging.recurring[0].days[1]: must be a day of the week: mon, tue, wed, thu, "
                 "fri, sat, sun (got 'fryday')"]


def test_dated_range_ending_before_it_starts_is_refused():
    assert errors("""\
        rings:
          production:
            dated:
              - name: launch
                time_zone: UTC
                start: "2026-12-20 00:00"
                end: "2026-12-01 00:00"
        """) == ["aither.yaml:7: rings.production.dated[0].end: must be after start (2026-12-20 00:00) "
                 "(got '2026-12-01 00:00')"]


def test_unquoted_time_is_refused_rather_than_read_as_a_number():
    # YAML 1.1 reads 18:00 as 1080; pydantic alone would take that as 00:18
    (line,) = errors("""\
        rings:
          dev:
            recurring:
              - {name: w, time_zone: UTC, days: [fri], start: 18:00, end: "20:00"}
        """)
    assert line == ('aither.yaml:4: rings.dev.recurring[0].start: write the time in quotes, e.g. "18:00" '
                    "(unquoted, YAML reads 18:00 as a number) (got 1080)")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("start", '"2026-12-20"', 'needs a time as well as a date, e.g. "2027-01-04 08:00"'),
    ("start", "2026-12-20", 'needs a time as well as a date, e.g. "2027-01-04 08:00"'),
    ("start", '"2026-12-20T00:00+01:00"', "give the local time without an offset; time_zone says where it is"),
    ("start", '"next friday"', 'must be a local date and time "YYYY-MM-DD HH:MM"'),
])
def test_dated_range_needs_local_date_and_time(field, value, message):
    (line,) = errors(f"""\
        rings:
          dev:
            dated:
              - {{name: w, time_zone: UTC, {field}: {value}, end: "2027-01-01 00:00"}}
        """)
    assert f"rings.dev.dated[0].{field}: {message}" in line


@pytest.mark.parametrize(("value", "message"), [
    ('"24:00"', 'must be a wall-clock time "HH:MM" (00:00 to 23:59), without an offset'),
    ('"18:00+02:00"', 'must be a wall-clock time "HH:MM" (00:00 to 23:59), without an offset'),
])
def test_recurring_times_are_wall_clock(value, message):
    (line,) = errors(f"""\
        rings:
          dev:
            recurring:
              - {{name: w, time_zone: UTC, days: [fri], start: {value}, end: "20:00"}}
        """)
    assert line.startswith(f"aither.yaml:4: rings.dev.recurring[0].start: {message}")


def test_every_problem_is_reported_at_once_and_unknown_fields_are_named():
    lines = errors("""\
        rings:
          prod:
            recurring:
              - {name: w, time_zone: Nowhere, days: [], start: "18:00", end: "20:00", ends: "x"}
        """)
    assert lines == [
        "aither.yaml:4: rings.prod.recurring[0].time_zone: unknown IANA time zone; use a name "
        "such as Europe/Berlin, America/New_York or UTC (got 'Nowhere')",
        "aither.yaml:4: rings.prod.recurring[0].days: Tuple should have at least 1 item after validation, not 0 (got [])",
        "aither.yaml:4: rings.prod.recurring[0].ends: unknown field (check the spelling) (got 'x')",
    ]


def test_ring_name_must_be_a_ring_name():
    assert errors("rings:\n  Prod!: {}\n") == [
        "aither.yaml:1: rings: ring names must be 1-31 of a-z 0-9 - (e.g. ring-0); got ['Prod!']"]
