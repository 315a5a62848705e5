from aither_assets_tests.validation.helpers import of_rule, repo, validate, where


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    repo(tmp_path, {"deploy/values.yaml": "a: 1\nb: [1, 2\nc: 3\n", "ok.yml": "a: 1\n"})
    found = of_rule(validate(tmp_path), "yaml-syntax")
    assert where(found) == {("deploy/values.yaml", 3, "yaml-syntax", "error")}


def test_multi_document_and_correct_files_parse(tmp_path):
    repo(tmp_path, {"k8s/all.yaml": "kind: A\n---\nkind: B\n...\n---\n- c\n", "Other.YML": "x: [1]\n"})
    report = validate(tmp_path)
    assert of_rule(report, "yaml-syntax") == []
    assert report.files_checked == 3  # config + the two files


def test_vendored_and_git_folders_are_skipped(tmp_path):
    bad = "a: [\n"
    repo(tmp_path, {".git/x.yml": bad, "node_modules/p/x.yml": bad, "vendor/x.yaml": bad, "src/x.yaml": bad})
    assert {f.file for f in of_rule(validate(tmp_path), "yaml-syntax")} == {"src/x.yaml"}


def test_tags_never_build_objects(tmp_path):
    repo(tmp_path, {"x.yaml": "a: !!python/object/apply:os.system ['touch pwned']\n"})
    assert of_rule(validate(tmp_path), "yaml-syntax") == []
    assert not (tmp_path / "pwned").exists()
