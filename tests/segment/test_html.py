"""HTML articles go through trafilatura and then the same cleaning as text."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pipeline.config import Params
from pipeline.segment.stage import run_segment

PAGE = """<!doctype html><html><head><title>Tea Markets Shift | The Daily Leaf</title>
<meta property="og:site_name" content="The Daily Leaf">
<meta property="article:published_time" content="2024-05-17T08:00:00Z"></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<main><article>
<h1>Tea Markets Shift</h1>
<p class="byline">By Jane Doe</p>
<p>Growers in the highlands say prices for green leaf have doubled since spring, and buyers
from the coast are paying in advance to secure supply for the winter.</p>
<h2>Why prices rose</h2>
<p>A dry summer cut yields across the region. Several cooperatives reported their smallest
harvest in a decade, and exporters warned that contracts may not be honoured.</p>
<ul><li>Rainfall was half the usual amount in the main growing districts this season.</li>
<li>Fertiliser costs rose by a third after new import duties were imposed.</li></ul>
<p>Traders expect the market to stay tight until the next harvest, although some predict
that new plantations in the lowlands will ease the shortage by the end of next year.</p>
</article></main>
<footer><p>Copyright 2024 The Daily Leaf. All rights reserved.</p></footer>
</body></html>"""


def test_html_article_is_extracted_with_sections(corpus: Callable[..., Params]) -> None:
    params = corpus({"leaf.html": PAGE}, manifest=[{"doc_id": "leaf", "file": "leaf.html"}])
    run_segment(params)
    table = pd.read_parquet(params.paths.paragraphs)
    # No manifest metadata: the page's own title, date and site name fill the gaps.
    assert table.title.unique().tolist() == ["Tea Markets Shift"]
    assert table.date.unique().tolist() == ["2024-05-17"]
    assert table.source.unique().tolist() == ["The Daily Leaf"]
    assert [(row.section, row.text[:24]) for row in table.itertuples()] == [
        ("", "Growers in the highlands"),
        ("Why prices rose", "A dry summer cut yields "),
        ("Why prices rose", "Rainfall was half the us"),
        ("Why prices rose", "Fertiliser costs rose by"),
        ("Why prices rose", "Traders expect the marke"),
    ]
    joined = " ".join(table.text)
    for chrome in ("Home", "World", "Copyright", "Jane Doe", "<", "#"):
        assert chrome not in joined


def test_manifest_metadata_wins_over_the_page(corpus: Callable[..., Params]) -> None:
    row = {"doc_id": "leaf", "file": "leaf.html", "source": "Leaf Weekly", "date": "2024-05-18"}
    params = corpus({"leaf.html": PAGE}, manifest=[row])
    run_segment(params)
    table = pd.read_parquet(params.paths.paragraphs)
    assert table.source.unique().tolist() == ["Leaf Weekly"]
    assert table.date.unique().tolist() == ["2024-05-18"]
