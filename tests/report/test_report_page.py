"""The report page rendered by a real browser: headless Chromium (Debian's `chromium`).

`make test` installs Chromium (see the Makefile's `browser` target). Where it is
missing the test is skipped, except under CI, where a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.report.html import render_report
from pipeline.report.stage import INDEX_DEFINITION, build_report
from tests.report.test_stage import CORPUS, SETTINGS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a closed network and a root user (see .library env notes).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (`make test` installs it)",
)


def _page(tmp_path: Path) -> Path:
    summary, articles, frame = build_report(CORPUS, SETTINGS)
    document = {
        "proposition": {"id": "p", "text": "Russia can be <pulled> from China"},
        "model": {"name": "tfidf_logreg", "model_id": "tfidf_logreg-abc"},
        "index_definition": INDEX_DEFINITION,
        "confidence": SETTINGS.confidence,
        "bootstrap_samples": SETTINGS.bootstrap_samples,
        **summary,
    }
    card = {"model_id": "tfidf_logreg-abc", "grouped_cv": {"macro_f1": 0.5}}
    page = tmp_path / "report.html"
    page.write_text(render_report(document, articles, frame, card, SETTINGS), encoding="utf-8")
    return page


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    assert CHROMIUM is not None, "chromium is not installed; run `make test`, which installs it"
    profile = tmp_path / "profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.mark.slow
@needs_chromium
def test_chromium_renders_the_chart_and_every_source(tmp_path: Path) -> None:
    page = _page(tmp_path)
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert '<svg id="index-chart"' in dom
    for source in CORPUS.source.unique():
        assert f'<g class="source-row" data-source="{source}">' in dom
        assert f'<section class="source" data-source="{source}">' in dom
    assert dom.count('class="interval"') == CORPUS.source.nunique()
    assert dom.count('class="para"') == len(CORPUS)  # one strip cell per paragraph
    assert "&lt;pulled&gt;" in dom  # corpus text is escaped, not parsed as markup


@pytest.mark.slow
@needs_chromium
def test_chromium_screenshot_shows_a_drawn_page(tmp_path: Path) -> None:
    import matplotlib.image

    page = _page(tmp_path)
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, "--window-size=1000,900", f"--screenshot={shot}", page.as_uri())
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1000)
    # not a blank page: dark text and the coloured chart marks are there
    assert (pixels.mean(axis=2) < 0.3).mean() > 0.002
    blue = (pixels[..., 2] > 0.35) & (pixels[..., 0] < 0.25)
    assert blue.sum() > 50
    assert np.unique(pixels.reshape(-1, 3).round(2), axis=0).shape[0] > 20
