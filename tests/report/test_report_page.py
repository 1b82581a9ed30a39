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
import pandas as pd
import pytest

from pipeline.report.charts import Trends
from pipeline.report.groups import build_groups
from pipeline.report.html import render_report
from pipeline.report.stage import INDEX_DEFINITION, build_report
from pipeline.report.timeline import build_timeline
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


def render_page(
    tmp_path: Path,
    corpus: pd.DataFrame = CORPUS,
    events: tuple[str, ...] = (),
    min_period_paragraphs: int = 3,
) -> Path:
    """`corpus` (scored paragraphs) rendered to `tmp_path/report.html`, as the stage does."""
    summary, articles, frame = build_report(corpus, SETTINGS)
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
    timeline = build_timeline(
        frame, SETTINGS, period="year", min_period_paragraphs=min_period_paragraphs
    )
    trends = Trends(timeline, build_groups(frame, SETTINGS, where="test"), events)
    html = render_report(document, articles, frame, card, SETTINGS, trends)
    page.write_text(html, encoding="utf-8")
    return page


def chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
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
    page = render_page(tmp_path)
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
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

    page = render_page(tmp_path)
    shot = tmp_path / "shot.png"
    chromium(tmp_path, "--window-size=1000,900", f"--screenshot={shot}", page.as_uri())
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1000)
    # not a blank page: dark text and the coloured chart marks are there
    assert (pixels.mean(axis=2) < 0.3).mean() > 0.002
    blue = (pixels[..., 2] > 0.35) & (pixels[..., 0] < 0.25)
    assert blue.sum() > 50
    assert np.unique(pixels.reshape(-1, 3).round(2), axis=0).shape[0] > 20


@pytest.mark.slow
@needs_chromium
def test_chromium_draws_stance_over_time_and_outlets_by_group(tmp_path: Path) -> None:
    from tests.report.test_trends import OUTLETS, dated_corpus

    events = ("2021-06-01: summit", "1999-01-01: out of range")
    page = render_page(tmp_path, dated_corpus(), events, min_period_paragraphs=7)
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert '<h2 id="timeline">Stance over time</h2>' in dom
    assert '<svg id="timeline-chart"' in dom
    for source in OUTLETS:  # every outlet has dated articles in three years
        assert f'class="timeline-source" data-source="{source}"' in dom
    assert dom.count('class="trend"') == 1 + len(OUTLETS)
    # the event in range is marked on every chart; the one out of range on none
    assert dom.count('<g class="event">') == 1 + len(OUTLETS) and "out of range" not in dom
    assert "31 of 32 articles dated; 1 without a date" in dom
    # a source's year has 6 paragraphs (thin, hollow) but Blog E's 2021 has 9, as each
    # corpus year: 14 hollow points, 4 filled
    assert dom.count('class="point thin"') == 14 and dom.count('class="point"') == 4
    for grouping in ("country", "outlet_type", "group_bloc"):
        assert f'class="group-chart" data-grouping="{grouping}"' in dom
    assert 'data-group="state media"' in dom and "1 outlet(s) without a country value" in dom
    assert 'class="no-trend"' not in dom and 'class="no-groups"' not in dom


@pytest.mark.slow
@needs_chromium
def test_chromium_says_in_a_line_when_there_is_no_trend_or_group(tmp_path: Path) -> None:
    one_article_each = CORPUS[CORPUS.doc_id != "h2"]  # three sources, one undated article each
    page = render_page(tmp_path, one_article_each)
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "Too little dated data for a trend: 0 dated article(s)" in dom
    assert "3 single-article sources cannot show a trend." in dom
    assert "timeline-chart" not in dom and "<polyline" not in dom
    assert '<p class="no-groups">No outlet has a country, outlet_type or group_* value' in dom
    assert "group-chart" not in dom
    assert dom.count('stroke-dasharray="5 3"') == 3  # one-article intervals drawn dashed
