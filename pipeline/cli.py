"""The `stance` command. Each subcommand is a thin face over a stage's shell function.

Exit codes: 0 success; 1 some inputs were skipped or failed; 2 configuration
error; 3 input data error. Errors a user can cause print one line, no traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline import __version__
from pipeline.annotate.cli import app as annotate_app
from pipeline.compare import DEFAULT_MAX_FLIPS
from pipeline.compare.formats import CompareFormat
from pipeline.config import DEFAULT_PARAMS, load_params, optional_params
from pipeline.console import configure_logging
from pipeline.errors import EXIT_CODES, ConfigError, StanceError
from pipeline.models.registry import model_names
from pipeline.options import Backend, Engine, OutputOption, ParamsOption
from pipeline.score import DEFAULT_BATCH_SIZE
from pipeline.score.formats import OutputFormat
from pipeline.text import one_line

app = typer.Typer(
    name="stance",
    help=(
        "Paragraph-level stance of news outlets on a proposition, with evidence and "
        "uncertainty.\n\nExit codes: "
        + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items())
        + "."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.add_typer(annotate_app, name="annotate")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"stance {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only print warnings and errors.")
    ] = False,
) -> None:
    logging.getLogger("pipeline").setLevel(logging.WARNING if quiet else logging.INFO)


@app.command()
def segment(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Split the corpus into clean paragraphs with stable ids (paths.paragraphs).

    Reads every .txt/.md/.html file under paths.corpus_dir with its row in
    paths.manifest, removes site chrome, repairs broken paragraphs and writes one
    row per paragraph. Unreadable files are skipped with a warning naming them.
    """
    from pipeline.segment.stage import run_segment

    run_segment(load_params(params))


@app.command()
def label(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Label every paragraph favor / against / none (paths.labels, paths.labeling_metrics,
    and the same rows as a Hugging Face dataset in paths.dataset).

    Gold annotations (paths.gold) win where they still match their paragraph;
    elsewhere the labelers switched on under `label:` in params vote and a
    weighted vote decides. Stale annotations are reported by id, never applied.
    """
    from pipeline.label.stage import run_label

    run_label(load_params(params))


@app.command()
def distill(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Distil the static tier's token table from the encoder (paths.static_encoder).

    model2vec runs the sentence encoder once per vocabulary token, then PCA and
    SIF weighting (`distill:` in params); `static_logreg` embeds paragraphs with
    the result. Offline; about 15 s on 2 cores.
    """
    from pipeline.distill.stage import run_distill

    run_distill(load_params(params))


@app.command()
def evaluate(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Leave-one-source-out evaluation of train.model (paths.oof, paths.eval_metrics).

    Each source's gold paragraphs are predicted by a model trained without any
    row from that source; probabilities are calibrated by temperature scaling
    fitted on the other sources' predictions. Writes the plots for `dvc plots`.
    """
    from pipeline.evaluate.stage import run_evaluate

    run_evaluate(load_params(params))


@app.command("dev-curve")
def dev_curve(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Development-set macro-F1 of train.model against the number of press examples it
    learns from (evaluate.dev_curve_sizes): reports/dev_learning_curve.{json,csv,png}.

    Run after `dvc repro` (it reads paths.labels); `make dev-curve` does both.
    """
    from pipeline.evaluate.dev_curve import run_dev_curve

    run_dev_curve(load_params(params))


@app.command()
def train(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Fit train.model on all training rows and save it under models/<name>/ with a card.

    Run `stance evaluate` first: the card carries its grouped metrics and the
    calibration temperature is fitted on its out-of-fold predictions.
    """
    from pipeline.train.stage import run_train

    run_train(load_params(params))


@app.command()
def behaviour(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Score the trained model on the behaviour cases (paths.behaviour_metrics).

    Minimal pairs per guideline rule and invariance groups from paths.behaviour,
    predicted by models/<train.model>/: label, pair, directional and invariance
    pass rates, overall and per rule (docs/behaviour.md).
    """
    from pipeline.evaluate.behaviour import run_behaviour

    run_behaviour(load_params(params))


@app.command()
def zoo(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help=f"A model name ({', '.join(model_names())}).",
            show_default=False,
        ),
    ],
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Evaluate and train one model the way `dvc repro` does the default one, for `make compare`.

    Saves models/zoo/<name>/ (with its card and out-of-fold predictions) and
    metrics/zoo/<name>.json (headline: metrics/zoo/headline/); the default model and
    metrics are left alone.
    """
    from pipeline.train.zoo import build_zoo_model

    if name not in model_names():
        raise ConfigError(f"{name}: unknown model; one of {', '.join(model_names())}")
    build_zoo_model(load_params(params), name)


@app.command()
def report(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Per-source and per-article stance indices with intervals and evidence (paths.reports).

    Gold paragraphs are scored by their out-of-fold predictions, the others by
    the trained model. Writes sources.csv/json, articles.csv, paragraphs.csv,
    a self-contained report.html and sources.png.
    """
    from pipeline.report.stage import run_report

    run_report(load_params(params))


@app.command()
def score(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH",
            help="Article files (.txt, .md, .html), article tables (.parquet, .jsonl: one "
            "article per row, in a 'text' column), folders (searched recursively for the "
            "article files), or - for standard input.",
            show_default=False,
            readable=False,  # an unreadable file is one warning and the rest scored, not exit 2
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            help="A saved model folder. Default: models/<train.model> from params, the model "
            "`dvc repro` trains.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table (default on a terminal), jsonl (default otherwise), json, csv, or "
            "parquet (a folder: --output DIR). With --output, the file's suffix (.json, "
            ".jsonl, .csv) picks it. --engine ray writes parquet only.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="The outlet of files with no manifest row and table rows with no source "
            "(default: unknown:<doc_id>).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Paragraphs per model call, across articles.")
    ] = DEFAULT_BATCH_SIZE,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first input that cannot be scored.")
    ] = False,
    backend: Annotated[
        Backend | None,
        typer.Option(
            help="Inference path of the sentence encoder and of fine-tuned transformer and "
            "cross_encoder models: torch, onnx, or onnx-int8 (ONNX Runtime, exported once "
            "into the cache folder; the encoder falls back to torch). "
            "Default: encoder.backend from params, else torch.",
            show_default=False,
        ),
    ] = None,
    cache: Annotated[
        bool | None,
        typer.Option(
            "--cache/--no-cache",
            help="Reuse encoder outputs stored on disk by earlier runs, and store new ones "
            "(encoder.cache_dir, default ~/.cache/stance). Default: encoder.cache, else on.",
            show_default=False,
        ),
    ] = None,
    params: Annotated[
        Path | None,
        typer.Option(
            "--params",
            "-p",
            help="Params file for the default model, segmentation and bootstrap settings "
            "(default: ./params.yaml when present).",
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: this process. ray: Ray Data over a Ray cluster (pip install "
            "'.[ray]'): segmentation tasks and model actors, parquet shards in --output DIR.",
        ),
    ] = Engine.local,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="--engine ray: model actors, each with cores/workers threads "
            "(default: the cluster's CPUs).",
            show_default=False,
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            help="--engine ray: the cluster to use, host:port of its head (or auto). "
            "Default: $RAY_ADDRESS, else a local Ray instance on this machine's cores.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Score new articles: each paragraph's stance and each article's stance index.

    Articles are segmented exactly as the pipeline does (same cleaning, same
    paragraph ids); the index and its 95% bootstrap interval are the report's.
    Inputs are read one article at a time, so memory stays flat however large
    the corpus. A file or table row that cannot be scored (missing, empty,
    binary, HTML without article text, a bad jsonl line) is a warning naming it;
    the others are still scored and the exit code is 1. The table columns and
    the jsonl schema are in the README ("Scoring new articles"); --engine ray and
    the parquet folder in "Scoring on Ray".
    """
    from pipeline.score.stage import run_score

    run = run_score(
        paths,
        model=model,
        params_file=params,
        output_format=output_format,
        output=output,
        source=source,
        batch_size=batch_size,
        strict=strict,
        backend=backend.value if backend is not None else None,
        cache=cache,
        engine=engine.value,
        workers=workers,
        address=address,
    )
    if run.failed:
        raise typer.Exit(1)


@app.command()
def compare(
    versions: Annotated[
        list[str],
        typer.Argument(
            metavar="VERSION",
            help="Two or more versions, the baseline first: a model folder (with card.json "
            "and oof.parquet), a DVC experiment name, or a git revision (HEAD~1, a tag, a "
            "branch, a commit) whose model is read from git and the local DVC cache.",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        CompareFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table (default on a terminal), markdown (default otherwise; for a pull "
            "request) or json (everything). With --output, the suffix (.md, .json, .txt) "
            "picks it.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
    bootstrap_samples: Annotated[
        int | None,
        typer.Option(
            min=100,
            help="Paired bootstrap resamples of the macro-F1 difference "
            "(default: report.bootstrap_samples, 2000).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the bootstrap (default: report.seed).", show_default=False),
    ] = None,
    max_flips: Annotated[
        int,
        typer.Option(
            min=0, help="Flipped paragraphs listed by table and markdown (json lists all)."
        ),
    ] = DEFAULT_MAX_FLIPS,
    params: Annotated[
        Path | None,
        typer.Option(
            "--params",
            "-p",
            help="Params file for the bootstrap settings and ECE bins "
            "(default: ./params.yaml when present).",
            show_default=False,
        ),
    ] = None,
    common: Annotated[
        bool,
        typer.Option(
            "--common",
            help="Compare on the gold paragraphs every version was evaluated on (same id, "
            "label, source and text), e.g. before and after labelling more; the others "
            "are left out and counted.",
        ),
    ] = False,
) -> None:
    """Compare model versions on the same gold paragraphs: is B really better than A?

    Uses each version's out-of-fold predictions: metrics side by side (macro-F1,
    F_avg, accuracy, Brier, ECE) with a paired bootstrap interval of the macro-F1
    difference, McNemar's exact test, each source's stance index, the paragraphs
    whose label flipped and the model-card differences. Versions evaluated on
    different gold paragraphs are refused (exit 3), unless --common restricts
    them to the paragraphs they share.
    """
    from pipeline.compare.stage import run_compare

    run_compare(
        versions,
        params_file=params,
        output_format=output_format,
        output=output,
        bootstrap_samples=bootstrap_samples,
        seed=seed,
        max_flips=max_flips,
        common=common,
    )


@app.command()
def cache(
    clear: Annotated[
        bool, typer.Option("--clear", help="Delete every stored vector (the ONNX exports stay).")
    ] = False,
    params: Annotated[
        Path | None,
        typer.Option(
            "--params",
            "-p",
            help="Params file naming encoder.cache_dir (default: ./params.yaml when present).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show (or clear) the on-disk cache of encoder outputs: where it is, rows and size.

    Vectors are keyed by a hash of the text and the encoder (weights and
    inference path), so a stale entry is never used; the least recently used
    are dropped beyond encoder.cache_max_mb.
    """
    from pipeline.encoders.base import EncodingOptions
    from pipeline.encoders.factory import describe_cache

    loaded = optional_params(params)
    options = EncodingOptions.from_params(loaded.encoder) if loaded else EncodingOptions()
    print(describe_cache(options, clear=clear))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and a documented exit code.

    Typer handles --help, usage errors (exit 2) and Ctrl-C itself; anything that
    is not a `StanceError` is a bug and keeps its traceback.
    """
    configure_logging()
    try:
        app(args=argv, prog_name="stance")
    except StanceError as error:
        print(f"stance: error: {one_line(str(error))}", file=sys.stderr)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
