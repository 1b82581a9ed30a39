"""`stance score --engine ray`: the local engine's work spread over a Ray cluster by Ray Data.

One streaming Ray Data pipeline, parquet out (`pipeline.score.folder`):

  driver    lists the inputs as the local engine does (`list_inputs`: folders searched,
            manifests read) and reads standard input; one work unit per file, one per table
  read      a task per table runs the local table reader (`read_table`: the same row
            checks, row numbers and duplicate doc_ids) and passes its rows on in blocks
  segment   each unit through the local engine's own code (`read_input`, `table_article`)
  score     `workers` actors, each holding `StanceModel.load(...)`: a block's paragraphs go
            through `StanceModel.score_documents` (model calls batched across articles, each
            article's index by `score_document`), and the block is written as one shard
  driver    gathers one small summary per article (counts, failures, warnings), writes
            run.json and renames the folder into place

Reading and segmenting are tasks that reserve no CPU, so they never wait for the CPUs
the actors hold (segmentation is a few percent of the work); Ray Data runs the two as
one task per group of units. Articles get the local engine's `article_key`, so the two
outputs sort alike. `import ray` happens here only, when the engine runs: Ray is an
optional extra.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from pipeline import errors
from pipeline.config import EncoderBackend, Params, ReportParams
from pipeline.encoders.base import available_cores
from pipeline.errors import ConfigError, DocumentError, EngineError, StanceError, error_line
from pipeline.io import display_path
from pipeline.models.persist import load_model
from pipeline.report.summary import index_settings
from pipeline.score.core import SegmentedDocument
from pipeline.score.folder import check_output_folder, finish_folder, staged_folder, write_shard
from pipeline.score.formats import OutputFormat, Totals
from pipeline.score.inputs import (
    ArticleTable,
    ReadOptions,
    StandardInput,
    UnusableArgument,
    article_key,
    expected_articles,
    list_inputs,
    read_input,
    table_article,
)
from pipeline.score.model import StanceModel, read_model_info
from pipeline.score.request import ScoreRequest, ScoreRun
from pipeline.score.tables import TableRow, read_table
from pipeline.segment.files import Document

if TYPE_CHECKING:
    from types import ModuleType

log = logging.getLogger(__name__)

# Articles per block at most: the unit an actor scores and writes as one shard. About 640
# paragraphs for news-length articles, so a block makes one or two model calls; a small
# corpus gets smaller blocks, so every actor has work (`articles_per_block`).
ARTICLES_PER_BLOCK = 32
BLOCKS_PER_WORKER = 4
NOT_INSTALLED = "Ray is not installed; pip install '.[ray]'"
_CONNECT_TIMEOUT_S = 5.0
# Ray's own logs and warnings stay out of the command's output unless asked for.
_QUIET_ENVIRONMENT = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DEDUP_LOGS": "1",
}

# What a work unit holds: a file to read and segment, a table row to segment, an article
# segmented already (standard input), or the message of an input that failed.
Unit = Document | TableRow | SegmentedDocument | str


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster a run uses: its CPUs, and the actors and threads per actor chosen."""

    cpus: float
    workers: int
    nodes: int = 1

    @property
    def threads(self) -> int:
        """Threads of each actor's model: the cores per actor, at least one."""
        return max(1, int(self.cpus // self.workers))

    @property
    def cpus_per_actor(self) -> float:
        """The CPUs each actor asks Ray for: its threads, or a share when there are more
        actors than CPUs (they then share cores)."""
        return min(float(self.threads), self.cpus / self.workers)

    @property
    def actor_options(self) -> dict[str, Any]:
        """Ray options of the actors. On a cluster of several nodes, Ray Data's own: an
        actor lost with its node restarts and its blocks run again. On one machine, an
        actor that dies (out of memory, say) stops the run instead of restarting forever,
        and Ray prints no notice about restarting actors whose arguments are in its store."""
        options: dict[str, Any] = {"num_cpus": self.cpus_per_actor}
        if self.nodes == 1:
            options["max_restarts"] = 0
        return options


def import_ray() -> ModuleType:
    """Ray and Ray Data, or one line saying how to install them."""
    for name, value in _QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)  # read when Ray starts; the user's settings win
    try:
        import ray
        import ray.data
    except ImportError:
        raise EngineError(NOT_INSTALLED) from None
    return ray


def score_on_ray(request: ScoreRequest) -> ScoreRun:
    """Score the inputs on Ray into the parquet folder `output`, as `score_paths` would.

    Everything a user can get wrong (the output, the model, the inputs' listing, the
    cluster's address) is checked before any actor starts. A process already connected
    to Ray keeps its connection; otherwise the run connects to `address` (default
    $RAY_ADDRESS), or starts a local instance with this machine's cores and shuts it down.
    """
    if request.output_format not in (None, OutputFormat.parquet):
        raise ConfigError(f"--engine ray writes parquet only, not {request.output_format}")
    if request.output is None:
        raise ConfigError("--engine ray writes a folder of parquet tables; pass --output DIR")
    output = request.output
    check_output_folder(output)
    if request.workers is not None and request.workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {request.workers}")
    folder, params = request.folder, request.params
    ray = import_ray()
    # weights only: the encoder loads in the actors
    trained = load_model(folder, trusted_encoder=params.encoder.path if params else None)
    info, labels = read_model_info(folder, trained), trained.labels
    index_settings(labels, params.report if params else ReportParams())  # three labels
    read = _read_options(params, request.source)
    inputs = list_inputs(request.paths, read)
    job = ScoringJob(
        folder=folder.resolve(),
        params=params,
        read=read,
        batch_size=request.batch_size,
        backend=request.backend,
        cache=request.cache,
        cwd=str(Path.cwd()),
    )
    with ray_session(ray, request.address) as (cpus, nodes):
        cluster = Cluster(cpus=cpus, workers=request.workers or max(1, int(cpus)), nodes=nodes)
        block = articles_per_block(expected_articles(inputs), cluster.workers)
        units = work_units(inputs, read, request.stdin, articles_per_block=block)
        with staged_folder(output) as staging, _quiet_ray_data(ray):
            job = replace(job, staging=str(staging.resolve()), threads=cluster.threads)
            dataset = build_pipeline(ray, units, job, cluster, articles_per_block=block)
            totals, failed = _gather(dataset, strict=request.strict)
            finish_folder(staging, info, labels, engine="ray", totals=totals, failed=failed)
    log.info(
        "score: %d paragraphs from %d documents (%d failed) -> %s (ray, %d workers)",
        totals.paragraphs,
        totals.documents,
        len(failed),
        display_path(output),
        cluster.workers,
    )
    return ScoreRun(totals, tuple(failed), OutputFormat.parquet)


def _read_options(params: Params | None, source: str | None) -> ReadOptions:
    read = (
        ReadOptions(segment=params.segment, manifest_name=params.paths.manifest.name)
        if params is not None
        else ReadOptions()
    )
    return read if source is None else replace(read, source=source)


def articles_per_block(expected: int, workers: int) -> int:
    """Articles per block: `ARTICLES_PER_BLOCK`, or fewer when the corpus is small, so
    that each actor gets about `BLOCKS_PER_WORKER` blocks."""
    return max(1, min(ARTICLES_PER_BLOCK, expected // (BLOCKS_PER_WORKER * workers)))


def work_units(
    inputs: Sequence[Document | ArticleTable | StandardInput | UnusableArgument],
    read: ReadOptions,
    stdin: BinaryIO | None,
    *,
    articles_per_block: int = ARTICLES_PER_BLOCK,
) -> list[list[tuple[int, Unit | ArticleTable]]]:
    """The listed inputs as groups of keyed units, one read task each: every table alone
    (its read task expands it into rows), files `articles_per_block` to a group.
    Standard input is read and segmented here, on the driver, as it exists only here."""
    groups: list[list[tuple[int, Unit | ArticleTable]]] = []
    files: list[tuple[int, Unit | ArticleTable]] = []
    for index, item in enumerate(inputs):
        key = article_key(index, 0)
        if isinstance(item, ArticleTable):
            groups.append([(key, item)])
        elif isinstance(item, StandardInput):
            files.extend((key, outcome) for outcome in read_input(item, read, stdin))
        elif isinstance(item, UnusableArgument):
            files.append((key, item.message))
        else:
            files.append((key, item))
        if len(files) >= articles_per_block:
            groups.append(files)
            files = []
    if files:
        groups.append(files)
    return groups


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


def build_pipeline(
    ray: ModuleType,
    groups: list[list[tuple[int, Unit | ArticleTable]]],
    job: ScoringJob,
    cluster: Cluster,
    *,
    articles_per_block: int = ARTICLES_PER_BLOCK,
) -> Any:
    """The Ray Data pipeline, lazily: units in, one summary row per article or failure out.

    Reading and segmenting are tasks that reserve no CPU (Ray Data runs them as one
    step, a task per group of units, at most `workers` at a time), so they never wait
    for the CPUs the actors hold; segmentation is a few percent of the work. The actors
    reserve `cpus_per_actor` each and run the model.
    """
    items = [{"units": group} for group in groups] or [{"units": []}]
    dataset = ray.data.from_items(items, override_num_blocks=len(items))
    reading = {"compute": ray.data.TaskPoolStrategy(size=cluster.workers), "num_cpus": 0}
    dataset = dataset.map_batches(
        expand_units,
        fn_kwargs={"job": job, "articles_per_block": articles_per_block},
        batch_size=1,
        batch_format="numpy",
        **reading,
    )
    dataset = dataset.map_batches(
        segment_units, fn_kwargs={"job": job}, batch_size=None, batch_format="numpy", **reading
    )
    with warnings.catch_warnings():
        # max_restarts has no named parameter in Ray 2.60 (see Cluster.actor_options).
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        return dataset.map_batches(
            ArticleScorer,
            fn_constructor_kwargs={"job": job},
            compute=ray.data.ActorPoolStrategy(size=cluster.workers),
            batch_size=None,
            batch_format="numpy",
            **cluster.actor_options,
        )


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


def _gather(dataset: Any, *, strict: bool) -> tuple[Totals, list[str]]:
    """Run the pipeline, logging warnings and failures as they arrive; the totals and the
    failure messages in input order. With `strict`, the first failure reported stops it."""
    documents = paragraphs = 0
    failed: list[tuple[int, str]] = []
    for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
        rows = zip(
            batch["key"],
            batch["paragraphs"],
            batch["message"],
            batch["notes"],
            batch["fatal"],
            strict=True,
        )
        for key, count, message, notes, fatal in rows:
            if fatal:
                raise user_error(fatal, message)
            for note in notes:
                log.warning("%s", note)
            if not message:  # scored
                documents, paragraphs = documents + 1, paragraphs + int(count)
            elif strict:
                raise StanceError(f"{message}; stopped (--strict)")
            else:
                log.warning("%s; skipped", message)
                failed.append((int(key), message))
    return Totals(documents, paragraphs), [message for _, message in sorted(failed)]


def user_error(kind: str, message: str) -> StanceError:
    """A user error raised on a worker, rebuilt on the driver from its class name."""
    classes = {
        value.__name__: value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, StanceError)
    }
    return classes.get(kind, StanceError)(message)


@contextlib.contextmanager
def ray_session(ray: ModuleType, address: str | None) -> Iterator[tuple[float, int]]:
    """Ray for one run: the caller's connection if there is one, else the cluster at
    `address` (or $RAY_ADDRESS), else a local instance with this machine's cores, stopped
    at the end. Yields the cluster's CPU count and its number of nodes."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        check_reachable(address)
    if ray.is_initialized():
        yield _cluster_size(ray)
        return
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address is None:
            ray.init(num_cpus=available_cores(), include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address or "a local Ray instance"
        raise EngineError(
            f"{where}: Ray could not start or connect ({error_line(error, limit=300)})"
        ) from None
    try:
        yield _cluster_size(ray)
    finally:
        ray.shutdown()


def _cluster_size(ray: ModuleType) -> tuple[float, int]:
    """The cluster's CPUs, and how many nodes are alive."""
    cpus = float(ray.cluster_resources().get("CPU", 0))
    if cpus <= 0:
        raise EngineError("the Ray cluster has no CPUs to run actors on")
    return cpus, sum(1 for node in ray.nodes() if node.get("Alive"))


def check_reachable(address: str) -> None:
    """Fail fast, in one line, when nothing listens at a `host:port` address: Ray itself
    retries for minutes. Other forms (`auto`, `local`, `ray://...`) are left to Ray."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host, int(port)), timeout=_CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise EngineError(f"{address}: no Ray cluster answers there ({reason})") from None


@contextlib.contextmanager
def _quiet_ray_data(ray: ModuleType) -> Iterator[None]:
    """Ray Data without its execution notices and advice (fewer blocks than actors, say)
    or its own deprecation notices; progress bars only on a terminal."""
    with warnings.catch_warnings():
        for category in (UserWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=r"ray\.data")
        context = ray.data.DataContext.get_current()  # made on first use, with notices
        settings = {
            "enable_progress_bars": sys.stderr.isatty(),
            "print_on_execution_start": False,
            "enable_auto_log_stats": False,
        }
        saved = {name: getattr(context, name) for name in settings}
        logger = logging.getLogger("ray.data")
        saved_level = logger.level
        logger.setLevel(logging.CRITICAL)  # a failed task reaches the driver as an exception
        for name, value in settings.items():
            setattr(context, name, value)
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(context, name, value)
            logger.setLevel(saved_level)


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
