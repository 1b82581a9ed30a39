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

This module is the entry point and assembles the pipeline; the steps that run on Ray's
workers are in `ray_workers`, and starting, sizing and quieting Ray in `ray_cluster`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pipeline import errors
from pipeline.config import Params, ReportParams
from pipeline.errors import ConfigError, StanceError
from pipeline.io import display_path
from pipeline.models.persist import load_model
from pipeline.report.summary import index_settings
from pipeline.score.folder import check_output_folder, finish_folder, staged_folder
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
)
from pipeline.score.model import read_model_info
from pipeline.score.ray_cluster import Cluster, import_ray, quiet_ray_data, ray_session
from pipeline.score.ray_workers import (
    ArticleScorer,
    ScoringJob,
    Unit,
    expand_units,
    segment_units,
)
from pipeline.score.request import ScoreRequest, ScoreRun
from pipeline.segment.files import Document

if TYPE_CHECKING:
    from types import ModuleType

log = logging.getLogger(__name__)

# Articles per block at most: the unit an actor scores and writes as one shard. About 640
# paragraphs for news-length articles, so a block makes one or two model calls; a small
# corpus gets smaller blocks, so every actor has work (`articles_per_block`).
ARTICLES_PER_BLOCK = 32
BLOCKS_PER_WORKER = 4


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
        with staged_folder(output) as staging, quiet_ray_data(ray):
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
