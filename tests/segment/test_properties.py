"""Property tests: segmentation never crashes, never drops or duplicates body text."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.segment.core import segment_text
from pipeline.text import replace_chars

# Plain words that no chrome rule or heading rule reacts to.
WORDS = [
    "river",
    "stone",
    "green",
    "market",
    "slowly",
    "under",
    "bright",
    "harbour",
    "signal",
    "window",
    "quiet",
    "paper",
    "orbit",
    "garden",
    "metal",
    "yellow",
    "north",
    "candle",
    "summer",
    "letter",
    "simple",
    "forest",
    "copper",
    "engine",
    "silver",
    "tunnel",
    "valley",
    "planet",
    "winter",
    "basket",
    "rapid",
    "pillow",
    "across",
    "beyond",
    "cotton",
    "thunder",
]

sentences = st.lists(st.sampled_from(WORDS), min_size=3, max_size=12).map(
    lambda words: " ".join([words[0].capitalize(), *words[1:]]) + "."
)
articles = st.lists(sentences, min_size=1, max_size=30, unique=True).flatmap(
    lambda pool: st.lists(st.integers(1, 4), min_size=1, max_size=len(pool)).map(
        lambda sizes: _group(pool, sizes)
    )
)
layouts = st.sampled_from(["blank", "lines", "wrapped", "crlf", "loose"])
# Example counts come from the hypothesis profile (tests/conftest.py).
PROPERTY_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _group(pool: list[str], sizes: list[int]) -> list[list[str]]:
    paragraphs, start = [], 0
    for size in sizes:
        if start < len(pool):
            paragraphs.append(pool[start : start + size])
            start += size
    if start < len(pool):
        paragraphs.append(pool[start:])
    return paragraphs


def _render(paragraphs: list[list[str]], layout: str, width: int) -> str:
    texts = [" ".join(paragraph) for paragraph in paragraphs]
    if layout == "lines":
        return "\n".join(texts)
    if layout == "wrapped":
        return "\n\n".join(textwrap.fill(text, width=width) for text in texts)
    if layout == "crlf":
        return "\r\n\r\n".join(texts) + "\r\n"
    if layout == "loose":
        return "\n\n\n  ".join(f"{text}   " for text in texts) + "\n\n"
    return "\n\n".join(texts)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text) if s]


@PROPERTY_SETTINGS
@given(st.text())
def test_never_crashes_on_arbitrary_text(text: str) -> None:
    segmentation = segment_text(text)
    for position, paragraph in enumerate(segmentation.paragraphs):
        assert paragraph.position == position
        assert paragraph.text and paragraph.text == paragraph.text.strip()
        assert "\n" not in paragraph.text


@PROPERTY_SETTINGS
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(codec="utf-8"), st.sampled_from(["\n", " ", "#", "*", "-", "[", "]", "&"])
        )
    )
)
def test_output_is_never_longer_than_input(text: str) -> None:
    """Nothing is invented or duplicated: output characters never outnumber input ones."""
    segmentation = segment_text(text)
    produced = "".join(p.text + p.section for p in segmentation.paragraphs)
    given_chars = len("".join(unicodedata.normalize("NFC", text).split()))
    assert len("".join(produced.split())) <= given_chars
    keys = [p.text for p in segmentation.paragraphs]
    assert len(keys) == len(set(keys))


@PROPERTY_SETTINGS
@given(articles, layouts, st.integers(40, 100))
def test_body_sentences_survive_exactly_once(
    paragraphs: list[list[str]], layout: str, width: int
) -> None:
    text = _render(paragraphs, layout, width)
    segmentation = segment_text(text, title="A Title Not In The Text")
    produced = Counter(s for p in segmentation.paragraphs for s in _sentences(p.text))
    assert produced == Counter(s for paragraph in paragraphs for s in paragraph)


@PROPERTY_SETTINGS
@given(articles, st.sampled_from(["blank", "lines", "crlf", "loose"]))
def test_paragraph_boundaries_are_kept(paragraphs: list[list[str]], layout: str) -> None:
    text = _render(paragraphs, layout, width=0)
    segmentation = segment_text(text, title="A Title Not In The Text")
    assert [p.text for p in segmentation.paragraphs] == [" ".join(p) for p in paragraphs]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab '\"-\u2018\u201c\u2014\u2013\u00ad\u200bé")))
def test_replace_chars_is_str_translate(text: str) -> None:
    pairs = (("\u2018", "'"), ("\u201c", '"'), ("\u2014", "-"), ("\u00ad", ""), ("\u200b", ""))
    table = str.maketrans({old: new for old, new in pairs})
    assert replace_chars(text, pairs) == text.translate(table)


# Words with the characters markdown escapes (D10): trafilatura writes `3 \< 5` for
# `3 &lt; 5`; the paragraphs must read as the page does.
MARKED = ["3 < 5", "a_b", "*note*", "[sic]", "R&D", "#1", "x > y", "`code`", "well-known"]
marked_sentences = st.lists(st.sampled_from(WORDS + MARKED), min_size=6, max_size=12).map(
    lambda words: " ".join(["Then", *words]) + "."
)


@PROPERTY_SETTINGS
@given(st.lists(marked_sentences, min_size=2, max_size=6, unique=True))
def test_html_paragraphs_keep_their_text(sentences: list[str]) -> None:
    """Segmentation of an HTML page never adds text: no escapes, entities or markup left."""
    import html

    from pipeline.segment.markup import html_to_markdown

    body = "".join(f"<p>{html.escape(sentence)}</p>" for sentence in sentences)
    page = f"<html><head><title>T</title></head><body><article>{body}</article></body></html>"
    segmentation = segment_text(html_to_markdown(page, name="page.html"), title="T")
    assert [p.text for p in segmentation.paragraphs] == sentences
