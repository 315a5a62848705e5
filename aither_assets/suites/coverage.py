"""Line coverage from a Cobertura XML report (``coverage xml``, ``pytest --cov-report=xml``, coverlet, ...)."""

from __future__ import annotations

from pathlib import Path

from aither_assets.suites.reports import ReportError, parse_number, read_xml_file


def read_coverage(path: Path) -> float | None:
    """Line coverage in percent (0-100, two decimals), or None when the suite wrote no report.

    The percentage comes from ``lines-covered / lines-valid`` when both are there (exact),
    else from ``line-rate``. A report that exists but is not Cobertura, or has no usable
    numbers, raises ``ReportError`` naming the file: it is not silently a 0 %.
    """
    path = Path(path)
    if not path.is_file():
        return None
    root = read_xml_file(path)
    if root.tag != "coverage":
        raise ReportError(f"{path}: not a Cobertura coverage report (root element <{root.tag}>)")
    covered, valid = parse_number(root.get("lines-covered")), parse_number(root.get("lines-valid"))
    if covered is not None and valid:
        percent = 100.0 * covered / valid
    else:
        rate = parse_number(root.get("line-rate"))
        if rate is None:
            raise ReportError(f"{path}: coverage report has neither line-rate nor lines-covered/lines-valid")
        percent = 100.0 * rate
    if not 0.0 <= percent <= 100.0:
        raise ReportError(f"{path}: coverage {percent:.2f}% is out of range")
    return round(percent, 2)
