"""HTML articles go through trafilatura and then the same cleaning as text."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from pipeline.config import Params
from pipeline.segment.stage import run_segment

PAGE = """<!doctype html><html><head><title>Tea Markets Shift | The Daily Leaf</title></head>
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
    assert table.title.unique().tolist() == ["Tea Markets Shift"]
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
