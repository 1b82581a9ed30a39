"""The I/O shell of `stance score`: new article files or tables in, scores on stdout or in a file.

The model is the one `dvc repro` trained (`paths.models`/`train.model` in
params) unless a folder is given. params.yaml is optional here: without it the
segment and bootstrap settings take their defaults and a model folder must be
named. Outputs written with `output` appear whole or not at all. `engine="ray"`
hands the same work to `pipeline.score.ray_engine` (a Ray cluster, parquet out).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Literal, TextIO

from pipeline.config import DEFAULT_PARAMS, EncoderBackend, Params, load_params
from pipeline.console import progress
from pipeline.errors import ConfigError, InputDataError
from pipeline.io import atomic_output, display_path, refuse_overwriting_inputs
from pipeline.models.persist import MODEL_FILE
from pipeline.score import DEFAULT_BATCH_SIZE
from pipeline.score.core import SegmentedDocument
from pipeline.score.folder import check_output_folder, write_score_folder
from pipeline.score.formats import OutputFormat, Totals, choose_format, write_scores
from pipeline.score.inputs import STDIN, DocumentStream
from pipeline.score.model import StanceModel
from pipeline.train.stage import model_folder as default_model_folder

log = logging.getLogger(__name__)

# A progress bar is worth showing (on a terminal) from this many expected articles on.
MANY_FILES = 20

Engine = Literal["local", "ray"]


@dataclass(frozen=True)
class ScoreRun:
    """What one `stance score` wrote, and the inputs that failed (exit code 1 if any)."""

    totals: Totals
    failed: tuple[str, ...]
    output_format: OutputFormat


def optional_params(path: Path | None) -> Params | None:
    """The params file given, else ./params.yaml when there is one, else None."""
    if path is not None:
        return load_params(path)
    return load_params(DEFAULT_PARAMS) if DEFAULT_PARAMS.is_file() else None


def model_folder(requested: Path | None, params: Params | None) -> Path:
    """The model to score with; a missing one is one line that says how to get it."""
    if requested is not None:
        if not (requested / MODEL_FILE).is_file():
            what = f"not a model folder (no {MODEL_FILE})" if requested.exists() else "not found"
            raise InputDataError(
                f"{display_path(requested)}: {what}; pass a folder written by `stance train`"
            )
        return requested
    if params is None:
        raise InputDataError(
            f"no model: there is no {DEFAULT_PARAMS} here to name the default one; "
            "pass --model DIR (a folder written by `stance train`), or --params FILE"
        )
    folder = default_model_folder(params)
    if not (folder / MODEL_FILE).is_file():
        raise InputDataError(
            f"{display_path(folder)}: no trained model; run `make run` (or `dvc repro`) "
            "to train it, or pass --model DIR"
        )
    return folder


def params_read(path: Path | None) -> list[Path]:
    """The params file `optional_params` reads, if any (an input no output may overwrite)."""
    params = path if path is not None else DEFAULT_PARAMS
    return [params] if params.is_file() else []


def inputs_read(paths: Sequence[Path | str], model: Path, params_file: Path | None) -> list[Path]:
    """What a run reads, which its output must not overwrite: the PATHs (standard input
    aside), the model folder and the params file."""
    return [*(Path(path) for path in paths if str(path) != STDIN), model, *params_read(params_file)]


def run_score(
    paths: Sequence[Path | str],
    *,
    model: Path | None = None,
    params_file: Path | None = None,
    output_format: OutputFormat | None = None,
    output: Path | None = None,
    source: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    strict: bool = False,
    backend: EncoderBackend | None = None,
    cache: bool | None = None,
    engine: Engine = "local",
    workers: int | None = None,
    address: str | None = None,
) -> ScoreRun:
    """The command: find and load the model once, then score every input.

    `backend` and `cache` override `encoder.backend` and `encoder.cache` of params.
    `engine="ray"` scores on a Ray cluster (`address`, else a local one) with `workers`
    model actors, into a parquet folder.
    """
    params = optional_params(params_file)
    folder = model_folder(model, params)
    refuse_overwriting_inputs(output, inputs_read(paths, folder, params_file))
    if engine == "ray":
        from pipeline.score.ray_engine import score_on_ray

        return score_on_ray(
            paths,
            folder,
            params,
            output_format=output_format,
            output=output,
            source=source,
            batch_size=batch_size,
            strict=strict,
            backend=backend,
            cache=cache,
            workers=workers,
            address=address,
        )
    if workers is not None or address is not None:
        raise ConfigError("--workers and --address are options of --engine ray")
    if output_format is OutputFormat.parquet:
        check_output_folder(output)  # before the model loads
    scorer = StanceModel.load(
        folder,
        params=params,
        batch_size=batch_size,
        backend=backend,
        cache=cache,
    )
    done = score_paths(
        scorer, paths, output_format=output_format, output=output, source=source, strict=strict
    )
    report_escalation(scorer)
    return done


def report_escalation(model: StanceModel) -> None:
    """For a cascade: how many paragraphs its slow model scored (the price of the run)."""
    classifier = model.model.classifier
    scored = getattr(classifier, "scored_", 0)
    if classifier.name != "cascade" or not scored:
        return
    escalated = classifier.escalated_
    log.info(
        "cascade: %d of %d paragraphs (%.1f%%) were under the threshold %.2f and went to %s",
        escalated,
        scored,
        100 * escalated / scored,
        classifier.settings["threshold"],
        classifier.settings["slow"],
    )


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
