"""The hostile-title page in a real browser (headless Chromium): the title is text, no script runs.

Four loads: the fixture's PR #7 as rendered (CSP on), a control page showing the payload does run when
not escaped, a copy carrying DOM-changing payloads in every
PR-controlled field with the CSP meta tag removed (so escaping alone is what stops them), and a screenshot
kept under ``test-artifacts/dashboard/`` for a person to look at.
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aither_assets.dashboard import Links, page_from_summary, render_pr_page

from .conftest import GENERATED
from .helpers import Page, entry

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install -y chromium)")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
MARK = "document.title='PWNED';document.documentElement.appendChild(Object.assign(document.createElement('div'),{id:'pwned'}))"
PAYLOAD = (f"<script>{MARK}</script><img src=x onerror=\"{MARK}\"><svg onload=\"{MARK}\"></svg>"
           f"<iframe srcdoc=\"<script>parent.{MARK}</script>\"></iframe>")
HISTORY = [
    {"sha": "5" * 40, "iteration": None, "at": "2026-11-22T10:00:00+00:00", "tests_passed": 112, "tests_failed": 8,
     "duration_seconds": 14.8, "run_status": "FAILURE"},
    {"sha": "6" * 40, "iteration": None, "at": None, "tests_passed": None, "tests_failed": None,
     "duration_seconds": None, "run_status": "CANCELED"},
]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path: Path):
    root = tmp_path / "site"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def hostile_entry() -> dict:
    pr = entry(7)
    pr["title"] = pr["title"] + " " + PAYLOAD
    context = pr["assets"]["pr_context"]["metadata"]
    context["author"] = PAYLOAD
    context["pr_url"] = "javascript:" + MARK
    pr["assets"]["pr_environment"]["metadata"]["url"] = "javascript:" + MARK
    suite = pr["assets"]["unit_tests"]["metadata"]["suite_json"][0]
    suite["name"] = PAYLOAD
    suite["failures"] = [{"test": PAYLOAD, "message": "</pre>" + PAYLOAD}]
    pr["failures"] = [PAYLOAD]
    pr["ring"] = PAYLOAD
    return pr


def test_hostile_title_is_text_and_no_script_runs(tmp_path: Path, served):
    root, base = served
    links = Links(dagster_ui="http://127.0.0.1:3000")
    original = entry(7)
    assert "<script>" in original["title"]

    # 1. The fixture's PR as published.
    (root / "pr-7").mkdir()
    (root / "pr-7" / "index.html").write_text(render_pr_page(page_from_summary(original, HISTORY, links,
                                                                               generated_at=GENERATED)))
    dom = Page(chromium(tmp_path, "--dump-dom", f"{base}/pr-7/index.html").stdout)
    assert dom.count("script") == 0 and dom.count("img") == 0
    assert dom.text("main").startswith(f"#7 {original['title']} passed")  # the title, character for character
    assert "pwned" not in dom.text_by_id

    # Control: the same payload NOT escaped does run in this browser, so the checks below can see it.
    (root / "control.html").write_text(f"<!doctype html><title>ok</title><h1>{PAYLOAD}</h1>")
    control = chromium(tmp_path, "--dump-dom", f"{base}/control.html").stdout
    assert "<title>PWNED</title>" in control and 'id="pwned"' in control

    # 2. Payloads that would change the DOM, in every PR-controlled field, with the CSP taken out.
    html = render_pr_page(page_from_summary(hostile_entry(), [], links, generated_at=GENERATED))
    without_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert without_csp != html
    (root / "hostile.html").write_text(without_csp)
    dumped = chromium(tmp_path, "--dump-dom", f"{base}/hostile.html").stdout
    dom = Page(dumped)
    title = html_lib.unescape(re.search(r"<title>(.*?)</title>", dumped, re.S).group(1))
    assert title == f"PR #7: {hostile_entry()['title']}"  # a script would have made it "PWNED"
    assert "pwned" not in dom.text_by_id
    for tag in ("script", "img", "svg", "iframe"):
        assert dom.count(tag) == (1 if tag == "svg" else 0), tag  # the one svg is our chart
    assert dom.text("main").startswith(f"#7 {hostile_entry()['title']} passed")

    # 3. A screenshot for people: kept as a test artifact.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "pr-7.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars",
             f"{base}/pr-7/index.html")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    (ARTIFACTS / "pr-7.html").write_text((root / "pr-7" / "index.html").read_text())
