"""The steps of `stance score --engine ray` that run on Ray's workers: reading (tables
expanded into rows), segmenting (the local engine's own code) and scoring (`ArticleScorer`,
one actor per worker), each on blocks of keyed units, in the driver's working folder."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import EncoderBackend, Params
from pipeline.errors import DocumentError, StanceError
from pipeline.score.core import SegmentedDocument
from pipeline.score.folder import write_shard
from pipeline.score.inputs import ArticleTable, ReadOptions, read_input, table_article
from pipeline.score.model import StanceModel
from pipeline.score.tables import TableRow, read_table
from pipeline.segment.files import Document

# What a work unit holds: a file to read and segment, a table row to segment, an article
# segmented already (standard input), or the message of an input that failed.
Unit = Document | TableRow | SegmentedDocument | str


@dataclass(frozen=True)
class ScoringJob:
    """What the read, segment and score steps need, shipped to every worker."""

    folder: Path  # the model, absolute
    params: Params | None
    read: ReadOptions
    batch_size: int
    backend: EncoderBackend | None
    cache: bool | None
    cwd: str  # the driver's working folder: paths are named relative to it, as locally
    staging: str = ""  # the output folder being filled, absolute
    threads: int = 1


def _objects(values: Sequence[object]) -> np.ndarray:
    """A one-dimensional object array (numpy would unpack tuples into a second axis)."""
    array = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        array[index] = value
    return array


def _batch(keys: Sequence[int], **columns: Sequence[object]) -> dict[str, np.ndarray]:
    return {
        "key": np.asarray(keys, dtype=np.int64),
        **{name: _objects(values) for name, values in columns.items()},
    }


def expand_units(
    batch: dict[str, np.ndarray], *, job: ScoringJob, articles_per_block: int
) -> Iterator[dict[str, np.ndarray]]:
    """Read step: each table becomes its rows (or their failure messages), numbered as the
    local engine numbers them; other units pass on. Blocks of `articles_per_block`."""
    with _working_folder(job.cwd):
        pending: list[tuple[int, Unit]] = []
        for group in batch["units"]:
            for key, item in group:
                if isinstance(item, ArticleTable):
                    rows = read_table(item.path, max_mb=job.read.segment.max_file_mb)
                    outcomes = ((key + number, row) for number, row in enumerate(rows))
                else:
                    outcomes = iter([(key, item)])
                for outcome in outcomes:
                    pending.append(outcome)
                    if len(pending) >= articles_per_block:
                        yield _batch([k for k, _ in pending], unit=[u for _, u in pending])
                        pending = []
        if pending:
            yield _batch([k for k, _ in pending], unit=[u for _, u in pending])


def segment_units(batch: dict[str, np.ndarray], *, job: ScoringJob) -> dict[str, np.ndarray]:
    """Segment step: each unit as the local engine segments it, or its failure message,
    with the warnings logged on the way (sent on to the driver, which prints them)."""
    articles, notes = [], []
    with _working_folder(job.cwd):
        for unit in batch["unit"]:
            with _captured_warnings() as logged:
                articles.append(segment_unit(unit, job.read))
            notes.append(logged)
    return _batch(batch["key"], article=articles, notes=notes)


def segment_unit(unit: Unit, read: ReadOptions) -> SegmentedDocument | str:
    """One unit's article, or the message of why it has none (as `DocumentStream` says it)."""
    if isinstance(unit, Document):
        return next(read_input(unit, read, None))
    if isinstance(unit, TableRow):
        try:
            return table_article(unit, read)
        except DocumentError as error:
            return str(error)
    return unit  # segmented already (standard input), or a failure


class ArticleScorer:
    """Score step, one actor: the model loaded once, then a block of articles at a time.

    Paragraphs are predicted in batches of `batch_size` across the block's articles, each
    article's index and interval come from `score_document` (the report's bootstrap), and
    the block is written as one shard of each table. What goes back to the driver is one
    row per article: its key, paragraph count, failure message ("" when scored) and
    warnings, and `fatal`: the class of an error that stops the run ("" when none).

    The model lives on a thread of its own: Ray Data calls an actor from threads of its
    choosing, and the encoder cache's SQLite connection serves only the thread that
    opened it (`pipeline.encoders.store`). A model that will not load for a reason the
    user can fix (a `StanceError`) does not fail the actor: Ray would pass the error on
    as a traceback's text. The actor answers each block with it instead, and the driver
    raises it again, one line and its exit code as locally.
    """

    def __init__(self, job: ScoringJob) -> None:
        self.job = job
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-model")
        self._load_error: StanceError | None = None
        try:
            self.model = self._thread.submit(self._load).result()
        except StanceError as error:
            self._load_error = error

    def _load(self) -> StanceModel:
        with _working_folder(self.job.cwd):  # relative paths in params mean what they do there
            model = StanceModel.load(
                self.job.folder,
                params=self.job.params,
                batch_size=self.job.batch_size,
                backend=self.job.backend,
                cache=self.job.cache,
                threads=self.job.threads,
            )
        if "torch" in sys.modules:  # models that run PyTorch outside the sentence encoder
            sys.modules["torch"].set_num_threads(self.job.threads)
        return model

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._load_error is not None:
            error = self._load_error
            return _batch(
                batch["key"],
                paragraphs=[0] * len(batch["key"]),
                message=[str(error)] * len(batch["key"]),
                notes=list(batch["notes"]),
                fatal=[type(error).__name__] * len(batch["key"]),
            )
        return self._thread.submit(self._score, batch).result()

    def _score(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keys = [int(key) for key in batch["key"]]
        articles = list(batch["article"])
        scorable = [
            (key, article)
            for key, article in zip(keys, articles, strict=True)
            if not isinstance(article, str)
        ]
        scored = self.model.score_documents(article for _, article in scorable)
        keyed = list(zip((key for key, _ in scorable), scored, strict=True))
        write_shard(Path(self.job.staging), keyed, self.model.info, self.model.labels)
        paragraphs = {key: document.n_paragraphs for key, document in keyed}
        return _batch(
            keys,
            paragraphs=[paragraphs.get(key, 0) for key in keys],
            message=[article if isinstance(article, str) else "" for article in articles],
            notes=list(batch["notes"]),
            fatal=[""] * len(keys),
        )


@contextlib.contextmanager
def _working_folder(folder: str) -> Iterator[None]:
    """Run a block in the driver's working folder when this node has it, so files and
    messages are named as the local engine names them; elsewhere, paths stay absolute."""
    previous = Path.cwd()
    try:
        os.chdir(folder)
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.chdir(previous)


class _WarningList(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """The pipeline's warnings logged in the block, collected for the driver to print."""
    messages: list[str] = []
    handler = _WarningList(messages)
    logger = logging.getLogger("pipeline")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
