import pytest

from aither_assets.prs.changes import classify, group_files, plan_stages


@pytest.mark.parametrize(
    ("path", "group"),
    [
        (".github/workflows/ci.yml", "workflows"),
        ("Dockerfile", "docker"),
        ("services/api/Dockerfile", "docker"),
        ("docker-compose.yml", "docker"),
        ("tests/unit/0105_test_handlers.py", "tests"),
        ("pkg/tests/test_x.py", "tests"),
        ("README.md", "docs"),
        ("docs/guide/index.rst", "docs"),
        (".aither/pipeline.yaml", "config"),
        ("pyproject.toml", "config"),
        ("app/server.py", "source"),
        ("<script>alert(1)</script>.py", "source"),
    ],
)
def test_classify(path, group):
    assert classify(path) == group


def test_group_files_lists_every_group_in_order():
    groups = group_files(["b.py", "a.py", "README.md"])
    assert list(groups) == ["workflows", "docker", "tests", "docs", "config", "source"]
    assert groups["source"] == ["a.py", "b.py"] and groups["docs"] == ["README.md"]


def test_docs_only_change_builds_no_image_and_deploys_nothing():
    plan = plan_stages(group_files(["README.md", "docs/x.md"]))
    assert {s for s, d in plan.items() if d.run} == {"validation", "dashboard"}
    assert plan["image"].reason == "no source, docker or config change"
    assert plan["environment"].reason == "no image for this head"


def test_source_change_runs_everything():
    plan = plan_stages(group_files(["app/server.py"]))
    assert all(d.run for d in plan.values())


def test_test_only_change_runs_tests_but_builds_no_image():
    plan = plan_stages(group_files(["tests/unit/0001_test_config.py"]))
    assert plan["tests"].run and plan["quality"].run
    assert not plan["image"].run and not plan["smoke"].run


def test_dockerfile_change_rebuilds_the_image():
    assert plan_stages(group_files(["Dockerfile"]))["image"].run


def test_no_docker_section_or_no_ring_means_no_image():
    groups = group_files(["app/server.py"])
    assert plan_stages(groups, has_docker=False)["image"].reason == "the repo config has no docker section"
    assert plan_stages(groups, has_ring=False)["image"].reason == "the base branch maps to no ring"
