import pytest

from aither_assets.reporting.values import json_int


@pytest.mark.parametrize("value, expected", [
    (3, 3), (0, 0), (4.0, 4), (4.5, None), (True, None), (False, None), (None, None), ("3", None), ([3], None),
])
def test_only_real_integers_count_anything_else_is_missing(value, expected):
    assert json_int(value) == expected
