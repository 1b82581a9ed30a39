"""The scoring core: batches across articles, order kept, the report's index and interval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from pipeline.models.base import Context
from pipeline.report.index import bootstrap_interval, group_seed
from pipeline.report.summary import IndexSettings
from pipeline.score.core import ArticleParagraph, SegmentedDocument, score_documents

SETTINGS = IndexSettings(labels=("favor", "against", "none"), bootstrap_samples=500, seed=7)


def article(doc_id: str, *texts: str) -> SegmentedDocument:
    paragraphs = tuple(
        ArticleParagraph(f"{doc_id}:{i:012d}", i, "", text) for i, text in enumerate(texts)
    )
    return SegmentedDocument(f"{doc_id}.txt", doc_id, f"unknown:{doc_id}", "", paragraphs)


class RecordingModel:
    """Probabilities from the text's length, so every paragraph gets its own; calls recorded."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.contexts: list[list[Context]] = []

    def __call__(self, texts: Sequence[str], contexts: Sequence[Context] = ()) -> np.ndarray:
        self.calls.append(list(texts))
        self.contexts.append(list(contexts))
        favor = np.asarray([(len(text) % 7) / 10 for text in texts])
        against = np.asarray([(len(text) % 3) / 10 for text in texts])
        return np.column_stack([favor, against, 1 - favor - against])


ARTICLES = [
    article("a", "one", "two two", "three three three"),
    article("b", "four"),
    article("c", "five five", "six", "seven seven seven", "eight", "nine nine"),
]


def test_batches_span_articles_and_keep_their_order() -> None:
    model = RecordingModel()
    scored = list(score_documents(ARTICLES, model, SETTINGS, batch_size=4))
    assert [document.doc_id for document in scored] == ["a", "b", "c"]
    assert [len(call) for call in model.calls] == [4, 4, 1]
    assert model.calls[0] == ["one", "two two", "three three three", "four"]
    assert [p.text for p in scored[2].paragraphs] == [p.text for p in ARTICLES[2].paragraphs]


@pytest.mark.parametrize("batch_size", [1, 2, 3, 100])
def test_batch_size_does_not_change_scores(batch_size: int) -> None:
    reference = list(score_documents(ARTICLES, RecordingModel(), SETTINGS, batch_size=9))
    assert list(score_documents(ARTICLES, RecordingModel(), SETTINGS, batch_size=batch_size)) == (
        reference
    )


def test_articles_come_out_as_soon_as_they_are_scored() -> None:
    model = RecordingModel()
    stream = score_documents(iter(ARTICLES), model, SETTINGS, batch_size=3)
    assert next(stream).doc_id == "a"
    assert len(model.calls) == 1  # article b and c not predicted yet


def test_index_and_interval_are_the_reports() -> None:
    model = RecordingModel()
    (scored,) = score_documents([ARTICLES[2]], model, SETTINGS, batch_size=64)
    probabilities = model([p.text for p in ARTICLES[2].paragraphs])
    stance = probabilities[:, 0] - probabilities[:, 1]
    low, high = bootstrap_interval(stance, samples=500, confidence=0.95, seed=group_seed(7, "c"))
    assert scored.stance_index == round(float(stance.mean()), 4)
    assert (scored.ci_low, scored.ci_high) == (round(low, 4), round(high, 4))
    assert scored.counts == {
        label: sum(p.label == label for p in scored.paragraphs) for label in SETTINGS.labels
    }
    assert sum(scored.counts.values()) == scored.n_paragraphs == 5
    first = scored.paragraphs[0]
    assert first.label == SETTINGS.labels[int(np.argmax(probabilities[0]))]
    expected = zip(SETTINGS.labels, probabilities[0], strict=True)
    assert first.probs == {label: round(float(p), 4) for label, p in expected}


def test_each_paragraph_is_told_its_article_title_and_section() -> None:
    paragraphs = (
        ArticleParagraph("t:0", 0, "", "Lead."),
        ArticleParagraph("t:1", 1, "Energy", "Gas."),
    )
    titled = SegmentedDocument("t.txt", "t", "Wire", "Power of Siberia 2", paragraphs)
    model = RecordingModel()
    list(score_documents([ARTICLES[1], titled], model, SETTINGS, batch_size=2))
    assert model.contexts == [
        [Context("", ""), Context("Power of Siberia 2", "")],
        [Context("Power of Siberia 2", "Energy")],
    ]


def test_records_follow_the_jsonl_schema() -> None:
    (scored,) = score_documents([ARTICLES[0]], RecordingModel(), SETTINGS, batch_size=64)
    document = scored.record()
    assert list(document) == [
        "type",
        "doc",
        "source",
        "n_paragraphs",
        "counts",
        "stance_index",
        "ci_low",
        "ci_high",
    ]
    assert document["type"] == "document" and document["doc"] == "a.txt"
    paragraph = scored.paragraphs[0].record(scored.doc)
    assert list(paragraph) == [
        "type",
        "doc",
        "paragraph_id",
        "position",
        "text",
        "label",
        "probs",
    ]


def test_nothing_in_nothing_out() -> None:
    model = RecordingModel()
    assert list(score_documents([], model, SETTINGS, batch_size=8)) == []
    assert model.calls == []
    with pytest.raises(ValueError, match="batch_size"):
        list(score_documents(ARTICLES, model, SETTINGS, batch_size=0))
