from aither_assets.validation.config import check_pipeline_config
from aither_assets.validation.repo import Repo
from aither_assets_tests.validation.helpers import (
    MINIMAL_CONFIG,
    of_rule,
    repo,
    validate,
    where,
    write_files,
)


def test_valid_config_has_no_finding_and_is_returned(tmp_path):
    repo(tmp_path, {})
    config, findings = check_pipeline_config(Repo(tmp_path))
    assert findings == []
    assert config is not None and config.app.name == "demo"


def test_missing_config_is_an_error(tmp_path):
    write_files(tmp_path, {"README.md": "# x\n"})
    found = of_rule(validate(tmp_path), "pipeline-config")
    assert where(found) == {(".aither/pipeline.yaml", None, "pipeline-config", "error")}
    assert "not found" in found[0].message


def test_each_config_issue_is_a_finding_with_its_line(tmp_path):
    write_files(tmp_path, {".aither/pipeline.yaml": """\
        version: 1
        app:
          name: Bad Name
          port: 99999
        package:
          include: [app/*.py]
        colour: blue
        """})
    found = of_rule(validate(tmp_path), "pipeline-config")
    assert where(found) == {
        (".aither/pipeline.yaml", 3, "pipeline-config", "error"),
        (".aither/pipeline.yaml", 4, "pipeline-config", "error"),
        (".aither/pipeline.yaml", 7, "pipeline-config", "error"),
    }
    messages = " ".join(f.message for f in found)
    assert "app.name" in messages and "app.port" in messages and "colour: unknown field" in messages


def test_config_yaml_syntax_error_is_a_config_error(tmp_path):
    write_files(tmp_path, {".aither/pipeline.yaml": "version: 1\napp: [\n"})
    found = of_rule(validate(tmp_path), "pipeline-config")
    assert where(found) == {(".aither/pipeline.yaml", 3, "pipeline-config", "error")}


def test_config_bomb_is_stopped_before_the_loader(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    write_files(tmp_path, {".aither/pipeline.yaml": MINIMAL_CONFIG + "\n".join(lines) + "\n"})
    found = of_rule(validate(tmp_path), "pipeline-config")
    assert len(found) == 1 and "billion laughs" in found[0].message
