"""Property tests: the stance index and segmentation hold their promises on any input.

(More segmentation properties are in tests/segment/test_properties.py.)
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import SegmentParams
from pipeline.report.index import bootstrap_interval, paragraph_stance, stance_index
from pipeline.segment.core import paragraph_id
from pipeline.segment.manifest import ManifestRow
from pipeline.segment.stage import segment_article_text

probability_rows = st.lists(
    st.tuples(*(st.floats(0, 1, allow_nan=False) for _ in range(3))).filter(lambda r: sum(r) > 0),
    min_size=1,
    max_size=40,
)


def _probabilities(rows: list[tuple[float, float, float]]) -> np.ndarray:
    array = np.asarray(rows, dtype=float)
    return array / array.sum(axis=1, keepdims=True)


@given(probability_rows)
def test_index_is_bounded(rows: list[tuple[float, float, float]]) -> None:
    probabilities = _probabilities(rows)
    stance = paragraph_stance(probabilities, 0, 1)
    assert np.all((stance >= -1) & (stance <= 1))
    assert -1 <= stance_index(stance) <= 1


@given(probability_rows, st.randoms(use_true_random=False))
def test_index_and_interval_do_not_depend_on_paragraph_order(rows, random) -> None:
    probabilities = _probabilities(rows)
    stance = paragraph_stance(probabilities, 0, 1)
    shuffled = stance.copy()
    random.shuffle(shuffled)
    assert np.isclose(stance_index(stance), stance_index(shuffled), atol=1e-12)
    low, high = bootstrap_interval(stance, samples=200, confidence=0.9, seed=5)
    low2, high2 = bootstrap_interval(np.sort(stance), samples=200, confidence=0.9, seed=5)
    assert -1 <= low <= stance_index(stance) + 1e-12 and high <= 1
    # The bootstrap resamples positions, so order can move the interval by sampling noise
    # only; with the sorted order as reference both stay inside the observed range.
    assert stance.min() - 1e-12 <= min(low, low2) and max(high, high2) <= stance.max() + 1e-12


words = st.text(alphabet=st.characters(categories=("L",)), min_size=1, max_size=12)
sentences = st.lists(words, min_size=3, max_size=15).map(lambda w: " ".join(w) + ".")


@given(st.lists(sentences, min_size=1, max_size=6), st.sampled_from(["\n", "\r\n", "\r"]))
def test_line_endings_do_not_change_paragraphs_or_ids(paragraphs: list[str], newline: str):
    text = "\n\n".join(paragraphs) + "\n"
    meta = ManifestRow(doc_id="doc", file="doc.txt", source="Outlet")
    settings = SegmentParams()
    _, reference = segment_article_text(text, meta, settings, name="doc.txt", html=False)
    _, other = segment_article_text(
        text.replace("\n", newline), meta, settings, name="doc.txt", html=False
    )

    def ids(segmentation) -> list[tuple[str, str]]:
        return [(paragraph_id("doc", p.text), p.text) for p in segmentation.paragraphs]

    assert ids(other) == ids(reference)
