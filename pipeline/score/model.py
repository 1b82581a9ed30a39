"""`StanceModel`: the Python face of `stance score`, with the same behaviour.

    from pipeline import StanceModel
    model = StanceModel.load("models/hybrid_logreg")
    article = model.score_text(open("article.txt").read())
    article.stance_index, article.ci_low, article.ci_high, article.paragraphs[0].probs

The model is loaded once (its sentence encoder too) and every call batches
paragraphs across articles. Runs offline, on CPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.artifacts import card_sha256
from pipeline.config import EncoderBackend, EncoderParams, Params, ReportParams
from pipeline.encoders.base import EncodingOptions, use_offline_hub
from pipeline.errors import InputDataError
from pipeline.io import display_path
from pipeline.models.base import Context
from pipeline.models.persist import TrainedModel, load_model
from pipeline.report.summary import IndexSettings, index_settings
from pipeline.score import DEFAULT_BATCH_SIZE
from pipeline.score.core import ScoredDocument, SegmentedDocument, score_documents
from pipeline.score.inputs import DocumentStream, ReadOptions, looks_like_html, segment_article
from pipeline.segment.manifest import ManifestRow

_WARM_UP = "A short paragraph that loads the encoder before the first batch."


@dataclass(frozen=True)
class ModelInfo:
    """Which model made an output: its kind, its id and the SHA-256 of its card.

    `version` is the card's `model_id` (the model kind plus a hash of its
    settings, seed and training-data options, as `stance evaluate` names it);
    `card_hash` pins the exact trained model, training data and metrics included.
    Both are None for a model folder without a card.
    """

    name: str
    version: str | None
    card_hash: str | None

    def record(self) -> dict:
        """The `model` line that opens every jsonl output."""
        return {
            "type": "model",
            "name": self.name,
            "version": self.version,
            "card_hash": self.card_hash,
        }


@dataclass
class ScoredFiles:
    """What `score_files` returns: the scored articles and one message per failed input."""

    documents: list[ScoredDocument] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def read_model_info(folder: Path, model: TrainedModel) -> ModelInfo:
    """Which model a loaded folder holds: its kind, card id and the card's SHA-256."""
    return ModelInfo(model.classifier.name, model.card.get("model_id"), card_sha256(folder))


class StanceModel:
    """A trained stance model with the pipeline's segmentation and the report's index."""

    def __init__(
        self,
        model: TrainedModel,
        info: ModelInfo,
        *,
        read: ReadOptions | None = None,
        report: ReportParams | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.model = model
        self.info = info
        self.read = read or ReadOptions()
        self.report = report or ReportParams()
        self.batch_size = batch_size

    @classmethod
    def load(
        cls,
        folder: Path | str,
        *,
        params: Params | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        backend: EncoderBackend | None = None,
        cache: bool | None = None,
        threads: int | None = None,
    ) -> StanceModel:
        """Load a saved model folder (from `stance train`) and its encoder, offline.

        `params` supplies the segment settings, the manifest name, the bootstrap
        settings (`report`) and the encoder's inference path and cache
        (`encoder`); without it, their defaults are used. `backend` and `cache`
        override the encoder settings (for this process); `threads` caps the
        encoder's threads (default: every core the process may use).
        """
        use_offline_hub()
        options = EncodingOptions.from_params(params.encoder if params else EncoderParams())
        if backend is not None:
            options = replace(options, backend=backend)
        if cache is not None:
            options = replace(options, cache=cache)
        if threads is not None:
            options = replace(options, threads=threads)
        folder = Path(folder)
        if not folder.is_dir():
            raise InputDataError(f"{display_path(folder)}: model folder not found")
        model = load_model(
            folder,
            trusted_encoder=params.encoder.path if params else None,
            encoding=options,
        )
        info = read_model_info(folder, model)
        read = (
            ReadOptions(segment=params.segment, manifest_name=params.paths.manifest.name)
            if params is not None
            else None
        )
        scorer = cls(
            model,
            info,
            read=read,
            report=params.report if params is not None else None,
            batch_size=batch_size,
        )
        index_settings(scorer.labels, scorer.report)  # a model without three labels fails here
        scorer.predict_proba([_WARM_UP])  # loads the encoder now, not in the first batch
        model.classifier.reset_counts()  # a cascade's escalations: the warm-up is not the user's
        return scorer

    @property
    def labels(self) -> tuple[str, ...]:
        return self.model.labels

    @property
    def settings(self) -> IndexSettings:
        return index_settings(self.labels, self.report)

    @property
    def encoding(self) -> EncodingOptions:
        """How this model's encoders run: given to its classifier when it was loaded."""
        return self.model.classifier.encoding_options

    def predict_proba(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> np.ndarray:
        """Calibrated probabilities of paragraph texts, columns in `labels` order
        (`contexts`: each one's article title and section, for a model that reads them).

        The encoder runs with the options the classifier was loaded with (backend,
        cache), whatever other models in the process use.
        """
        return self.model.predict_proba(list(texts), contexts)

    def score_documents(self, documents: Iterable[SegmentedDocument]) -> Iterator[ScoredDocument]:
        """Score segmented articles in order, batching paragraphs across them."""
        return score_documents(
            documents, self.predict_proba, self.settings, batch_size=self.batch_size
        )

    def score_text(
        self,
        text: str,
        *,
        doc: str = "text",
        doc_id: str = "text",
        source: str | None = None,
        html: bool | None = None,
    ) -> ScoredDocument:
        """Segment and score one article given as text (HTML detected unless `html` is set).

        Raises `DocumentError` when nothing of the text is left to score.
        """
        meta = ManifestRow(doc_id=doc_id, file=doc, source=source or "")
        is_html = looks_like_html(text) if html is None else html
        segmented = segment_article(text, meta, self.read, doc=doc, html=is_html)
        return next(self.score_documents([segmented]))

    def score_files(
        self, paths: Iterable[Path | str], *, source: str | None = None, strict: bool = False
    ) -> ScoredFiles:
        """Score files, folders and article tables as `stance score` does: warnings for
        bad inputs, or a `StanceError` at the first one with `strict`."""
        options = self.read if source is None else replace(self.read, source=source)
        articles = DocumentStream(list(paths), options, strict=strict)  # read as scored
        return ScoredFiles(list(self.score_documents(articles)), articles.failed)
