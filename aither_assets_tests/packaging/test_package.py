import hashlib
import os
import tarfile
import zipfile

import pytest

from aither_assets.packaging.package import build_archives, next_iteration, select_files


def tree(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_select_files_globs_and_excludes(tmp_path):
    root = tree(tmp_path / "r", {"app/a.py": "", "app/sub/b.py": "", "app/__pycache__/a.pyc": "", "tests/t.py": "",
                                 "pyproject.toml": ""})
    (root / "app" / "link.py").symlink_to("/etc/passwd")
    files = select_files(root, ["app/**", "pyproject.toml"], ["**/__pycache__/**"])
    assert files == ["app/a.py", "app/sub/b.py", "pyproject.toml"]  # no tests, no cache, no symlink


def digests(paths):
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_archives_are_byte_identical_for_the_same_tree(tmp_path):
    files = {"app/a.py": "print(1)\n", "app/run.sh": "#!/bin/sh\n", "b.txt": "x"}
    first, second = tree(tmp_path / "one", files), tree(tmp_path / "two", dict(reversed(files.items())))
    os.chmod(first / "app/run.sh", 0o755)
    os.chmod(second / "app/run.sh", 0o775)  # group bit differs: normalized to 0755
    os.utime(second / "b.txt", (1, 1))      # file times differ: replaced by the commit time
    names = sorted(files)
    a = build_archives(first, names, tmp_path / "out1", "pkg", mtime=1_700_000_000)
    b = build_archives(second, names, tmp_path / "out2", "pkg", mtime=1_700_000_000)
    assert [x.sha256 for x in a] == [x.sha256 for x in b]
    assert digests([x.path for x in a]) == [x.sha256 for x in a]
    with zipfile.ZipFile(a[0].path) as z:
        assert z.namelist() == names
        assert (z.getinfo("app/run.sh").external_attr >> 16) & 0o777 == 0o755
    with tarfile.open(a[1].path) as t:
        members = t.getmembers()
        assert [m.name for m in members] == names
        assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 1_700_000_000)}


def test_a_different_commit_time_changes_the_archive(tmp_path):
    root = tree(tmp_path / "r", {"a": "1"})
    one = build_archives(root, ["a"], tmp_path / "o1", "p", mtime=1_700_000_000)
    two = build_archives(root, ["a"], tmp_path / "o2", "p", mtime=1_800_000_000)
    assert one[1].sha256 != two[1].sha256


def test_empty_package_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="package.include matched no file"):
        build_archives(tmp_path, [], tmp_path / "out", "p", mtime=0)


def test_iteration_counts_distinct_heads_and_repeats_for_a_rebuild():
    assert next_iteration([], "a") == 1
    assert next_iteration([("a", 1)], "b") == 2
    assert next_iteration([("a", 1), ("b", 2)], "a") == 1
