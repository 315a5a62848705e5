"""benchmarks/validation.py on its own: it generates a 30-workflow repository our checks find clean.

No timing is asserted (the figure is for `make bench`); what is checked is that the benchmark runs,
reports well-formed numbers, and that the repository it times is really wired correctly.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_validation_benchmark_runs_and_its_repository_is_clean(tmp_path):
    out = tmp_path / "validation.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "validation.py"), "--rounds", "1",
                           "--json", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["workflows"] == 30 and result["files_checked"] >= 32
    assert result["findings"] == []
    assert result["seconds"]["n"] == 1 and result["seconds"]["median"] > 0


def test_render_has_the_validation_section():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run_all
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text = "\n".join(run_all._validation({"workflows": 30, "seconds": {"median": 0.5, "min": 0.4, "max": 0.6, "n": 3},
                                          "first_round_seconds": 0.7, "files_checked": 32, "findings": [],
                                          "target_seconds": 2.0}))
    assert "## 7. Validation" in text and "0.500 s (0.400 to 0.600)" in text and "32 / 0" in text
