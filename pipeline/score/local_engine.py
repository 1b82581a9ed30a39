"""The local engine of `stance score`: this process reads, segments and scores each input.

The model loads once; articles stream through it one at a time, written as each is
scored, so memory stays flat however many inputs there are. Its sibling
`pipeline.score.ray_engine` takes the same `ScoreRequest` and spreads the work over
a Ray cluster.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, TextIO

from pipeline.console import progress
from pipeline.errors import ConfigError
from pipeline.io import atomic_output, display_path
from pipeline.score.core import SegmentedDocument
from pipeline.score.folder import check_output_folder, write_score_folder
from pipeline.score.formats import OutputFormat, Totals, choose_format, write_scores
from pipeline.score.inputs import DocumentStream
from pipeline.score.model import StanceModel
from pipeline.score.request import ScoreRequest, ScoreRun

log = logging.getLogger(__name__)

# A progress bar is worth showing (on a terminal) from this many expected articles on.
MANY_FILES = 20


def score_locally(request: ScoreRequest) -> ScoreRun:
    """Load the model once in this process, then score every input of the request."""
    if request.workers is not None or request.address is not None:
        raise ConfigError("--workers and --address are options of --engine ray")
    if request.output_format is OutputFormat.parquet:
        check_output_folder(request.output)  # before the model loads
    scorer = StanceModel.load(
        request.folder,
        params=request.params,
        batch_size=request.batch_size,
        backend=request.backend,
        cache=request.cache,
    )
    done = score_paths(
        scorer,
        request.paths,
        output_format=request.output_format,
        output=request.output,
        source=request.source,
        strict=request.strict,
        stdin=request.stdin,
    )
    report_escalation(scorer)
    return done


def report_escalation(model: StanceModel) -> None:
    """What the model says scoring cost (a cascade: how many paragraphs its slow model scored)."""
    summary = model.model.classifier.run_summary()
    if summary:
        log.info("%s", summary)


def score_paths(
    model: StanceModel,
    paths: Sequence[Path | str],
    *,
    output_format: OutputFormat | None = None,
    output: Path | None = None,
    source: str | None = None,
    strict: bool = False,
    stdin: BinaryIO | None = None,
) -> ScoreRun:
    """Read, segment and score the inputs one article at a time, writing each as it is scored.

    Nothing here holds every article: memory stays flat however many files or
    table rows there are. The failed inputs are known once the last is read.
    """
    options = model.read if source is None else replace(model.read, source=source)
    articles = DocumentStream(paths, options, strict=strict, stdin=stdin)
    chosen = choose_format(output_format, output, stdout_is_terminal=sys.stdout.isatty())
    if chosen is OutputFormat.parquet:
        totals = _score_to_folder(model, articles, check_output_folder(output))
        _log_totals(totals, articles.failed, output)
        return ScoreRun(totals, tuple(articles.failed), chosen)
    documents = progress(articles, "Scoring", total=articles.expected_count(), min_items=MANY_FILES)
    try:
        with _output_stream(output) as stream:
            totals = write_scores(
                stream,
                chosen,
                model.info,
                model.score_documents(documents),
                labels=model.labels,
                failed=articles.failed,  # filled while reading; the table's footer reads it last
            )
    except BrokenPipeError:  # `stance score ... | head`: the reader has seen enough
        _silence_stdout()
        return ScoreRun(Totals(0, 0), tuple(articles.failed), chosen)
    if output is not None or chosen is not OutputFormat.table:
        _log_totals(totals, articles.failed, output)
    return ScoreRun(totals, tuple(articles.failed), chosen)


def _log_totals(totals: Totals, failed: Sequence[str], output: Path | None) -> None:
    log.info(
        "score: %d paragraphs from %d documents (%d failed) -> %s",
        totals.paragraphs,
        totals.documents,
        len(failed),
        "standard output" if output is None else display_path(output),
    )


def _score_to_folder(model: StanceModel, articles: DocumentStream, output: Path) -> Totals:
    """Score the articles into a parquet folder (`pipeline.score.folder`), each row with its
    article's `input_order`, the same key the Ray engine gives it."""
    keys: deque[int] = deque()  # the keys of articles read but not yet scored, in order

    def documents() -> Iterator[SegmentedDocument]:
        for key, document in articles.keyed():
            keys.append(key)
            yield document

    shown = progress(documents(), "Scoring", total=articles.expected_count(), min_items=MANY_FILES)
    scored = ((keys.popleft(), document) for document in model.score_documents(shown))
    # `failed` fills while the articles are read; the folder's run.json reads it last.
    return write_score_folder(output, model.info, model.labels, scored, failed=articles.failed)


@contextlib.contextmanager
def _output_stream(output: Path | None) -> Iterator[TextIO]:
    """Standard output, or a UTF-8 text stream onto a temporary file renamed into place."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_output(output) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            yield text
        finally:
            text.flush()
            text.detach()  # atomic_output closes (and syncs) the file itself


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
