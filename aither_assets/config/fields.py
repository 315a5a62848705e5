"""Field types shared by both configs, with messages a person can act on."""

from __future__ import annotations

import re

from pydantic import AfterValidator


def matching(pattern: str, hint: str) -> AfterValidator:
    """A validator that explains the expected shape instead of echoing a regex."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(hint)
        return value

    return AfterValidator(check)
