"""Scoring core: segmented articles and a `predict_proba` in, scored articles out (no I/O).

Paragraphs are predicted in batches that span articles, so a folder of short
articles costs as few model calls as one long one; articles come out in the
order they went in, each as soon as its last paragraph is scored. An article's
stance index and interval are the report's (`pipeline.report.index`): the mean
of P(favor) − P(against) over its paragraphs, with a percentile bootstrap whose
random stream derives from `report.seed` and the article's doc_id.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.models.base import Context
from pipeline.report.index import bootstrap_interval, group_seed, paragraph_stance, stance_index
from pipeline.report.summary import IndexSettings
from pipeline.segment.core import Segmentation, paragraph_id
from pipeline.segment.files import Document

# Probabilities and indices are written with the report's precision.
DIGITS = 4

# Probabilities of paragraph texts, each told its `Context` (article title, section).
Predict = Callable[[Sequence[str], Sequence[Context]], np.ndarray]


@dataclass(frozen=True)
class ArticleParagraph:
    """One clean paragraph of an article to score, with the pipeline's id."""

    paragraph_id: str
    position: int
    section: str
    text: str


@dataclass(frozen=True)
class SegmentedDocument:
    """An article cut into paragraphs exactly as the segment stage cuts it."""

    doc: str  # how the user named it: a path, or "-" for standard input
    doc_id: str
    source: str
    title: str
    paragraphs: tuple[ArticleParagraph, ...]


@dataclass(frozen=True)
class ScoredParagraph:
    """A paragraph with its most probable label and calibrated probabilities."""

    paragraph_id: str
    position: int
    section: str
    text: str
    label: str
    probs: dict[str, float]

    def record(self, doc: str) -> dict:
        """The `paragraph` line of the jsonl output."""
        return {
            "type": "paragraph",
            "doc": doc,
            "paragraph_id": self.paragraph_id,
            "position": self.position,
            "text": self.text,
            "label": self.label,
            "probs": self.probs,
        }


@dataclass(frozen=True)
class ScoredDocument:
    """An article's scored paragraphs and its stance index with a bootstrap interval."""

    doc: str
    doc_id: str
    source: str
    title: str
    paragraphs: tuple[ScoredParagraph, ...]
    counts: dict[str, int]
    stance_index: float
    ci_low: float
    ci_high: float

    @property
    def n_paragraphs(self) -> int:
        return len(self.paragraphs)

    def record(self) -> dict:
        """The `document` line of the jsonl output."""
        return {
            "type": "document",
            "doc": self.doc,
            "source": self.source,
            "n_paragraphs": self.n_paragraphs,
            "counts": self.counts,
            "stance_index": self.stance_index,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


def segmented_document(
    document: Document, segmentation: Segmentation, *, doc: str
) -> SegmentedDocument:
    """A segment-stage result as an article to score (ids and source as the stage gives them)."""
    doc_id = document.meta.doc_id
    return SegmentedDocument(
        doc=doc,
        doc_id=doc_id,
        source=document.source,
        title=segmentation.title,
        paragraphs=tuple(
            ArticleParagraph(
                paragraph_id(doc_id, paragraph.text),
                paragraph.position,
                paragraph.section,
                paragraph.text,
            )
            for paragraph in segmentation.paragraphs
        ),
    )


def score_document(
    document: SegmentedDocument, probabilities: np.ndarray, settings: IndexSettings
) -> ScoredDocument:
    """Label each paragraph and compute the article's index as the report does.

    `probabilities` has one row per paragraph, columns in `settings.labels`
    order (favor, against, none).
    """
    labels = settings.labels
    stance = paragraph_stance(probabilities, 0, 1)
    low, high = bootstrap_interval(
        stance,
        samples=settings.bootstrap_samples,
        confidence=settings.confidence,
        seed=group_seed(settings.seed, document.doc_id),
    )
    predicted = [labels[column] for column in probabilities.argmax(axis=1)]
    paragraphs = tuple(
        ScoredParagraph(
            paragraph.paragraph_id,
            paragraph.position,
            paragraph.section,
            paragraph.text,
            label,
            {name: round(float(p), DIGITS) for name, p in zip(labels, row, strict=True)},
        )
        for paragraph, label, row in zip(document.paragraphs, predicted, probabilities, strict=True)
    )
    return ScoredDocument(
        doc=document.doc,
        doc_id=document.doc_id,
        source=document.source,
        title=document.title,
        paragraphs=paragraphs,
        counts={label: predicted.count(label) for label in labels},
        stance_index=round(stance_index(stance), DIGITS),
        ci_low=round(low, DIGITS),
        ci_high=round(high, DIGITS),
    )


def score_documents(
    documents: Iterable[SegmentedDocument],
    predict: Predict,
    settings: IndexSettings,
    *,
    batch_size: int,
) -> Iterator[ScoredDocument]:
    """Score articles in order, calling `predict` on batches of paragraphs across articles."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    waiting: deque[SegmentedDocument] = deque()
    texts: list[str] = []
    contexts: list[Context] = []
    ready = np.zeros((0, len(settings.labels)))
    for document in documents:
        waiting.append(document)
        texts.extend(paragraph.text for paragraph in document.paragraphs)
        contexts.extend(Context(document.title, p.section) for p in document.paragraphs)
        while len(texts) >= batch_size:
            ready = np.vstack([ready, predict(texts[:batch_size], contexts[:batch_size])])
            del texts[:batch_size], contexts[:batch_size]
            done, ready = _complete(waiting, ready, settings)
            yield from done
    if texts:
        ready = np.vstack([ready, predict(texts, contexts)])
    done, _ = _complete(waiting, ready, settings)
    yield from done


def _complete(
    waiting: deque[SegmentedDocument], ready: np.ndarray, settings: IndexSettings
) -> tuple[list[ScoredDocument], np.ndarray]:
    """Take the leading articles whose paragraphs all have probabilities; return the rest."""
    done = []
    while waiting and len(waiting[0].paragraphs) <= len(ready):
        document = waiting.popleft()
        count = len(document.paragraphs)
        done.append(score_document(document, ready[:count], settings))
        ready = ready[count:]
    return done, ready
