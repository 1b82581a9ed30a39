"""`stance annotate`: grow the gold set (queue, label, export/import, stats).

Each subcommand is a thin face over a function of this package; `pipeline/cli.py`
mounts this Typer app as `stance annotate`. Without a subcommand, `stance
annotate` starts the interactive labelling session on the queue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.config import DEFAULT_PARAMS, load_params
from pipeline.options import ExportFormat, ParamsOption, Strategy

app = typer.Typer(
    name="annotate",
    help=(
        "Grow the gold set: `queue` picks the paragraphs that teach the model most, "
        "`stance annotate` labels them in the terminal, `export`/`import` go through "
        "Label Studio, `stats` counts labels and agreement."
    ),
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

AnnotatorOption = Annotated[
    str | None,
    typer.Option(
        "--annotator",
        help="Who labels (default: git's user.name); written on every label.",
        show_default=False,
    ),
]

QueueOption = Annotated[
    Path | None,
    typer.Option("--queue", help="The queue file (default: annotate.queue).", show_default=False),
]


@app.callback()
def session(
    context: typer.Context,
    annotator: AnnotatorOption = None,
    queue: QueueOption = None,
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Label the queued paragraphs in the terminal, one at a time.

    Keys: the first letter of a label (or 1, 2, 3) labels, s skips, u undoes the
    last label, q quits; the capital letter of a label asks for a one-line note
    first. Each label is appended to paths.gold at once.
    """
    if context.invoked_subcommand is not None:
        return
    from pipeline.annotate.session import run_session

    run_session(load_params(params), annotator=annotator, queue=queue)


@app.command("queue")
def queue_command(
    n: Annotated[
        int | None,
        typer.Option("--n", "-n", min=1, help="Paragraphs to queue (default: annotate.n)."),
    ] = None,
    strategy: Annotated[
        Strategy | None,
        typer.Option("--strategy", help="Ranking (default: annotate.strategy)."),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Only paragraphs of this source (repeatable)."),
    ] = None,
    scores: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help=(
                "Paragraphs to choose from: a `stance score` output (jsonl, csv, parquet "
                "folder) with its probabilities. Default: paths.paragraphs, scored with "
                "the trained model."
            ),
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the queue (default: annotate.queue)."),
    ] = None,
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Pick unlabelled paragraphs worth labelling next and write the queue."""
    from pipeline.annotate.queue import run_queue

    run_queue(
        load_params(params),
        n=n,
        strategy=strategy.value if strategy else None,
        sources=tuple(source or ()),
        scores=scores,
        output=output,
    )


@app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="The tasks file to write.")],
    export_format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="The tool to export for.")
    ] = ExportFormat.label_studio,
    queue: QueueOption = None,
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Write the queue as Label Studio tasks, the model's guess as a pre-annotation."""
    from pipeline.annotate.labelstudio import run_export

    run_export(load_params(params), output=output, queue=queue)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A Label Studio JSON export of the tasks.")],
    annotator: AnnotatorOption = None,
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Append the completed annotations of a Label Studio export to paths.gold."""
    from pipeline.annotate.labelstudio import run_import

    run_import(load_params(params), file, annotator=annotator)


@app.command("stats")
def stats_command(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Labels per annotator, source and class; agreement where paragraphs overlap."""
    from pipeline.annotate.stats import run_stats

    run_stats(load_params(params))


@app.command("curve")
def curve_command(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Grouped-CV macro-F1 of the default model against the number of gold labels."""
    from pipeline.evaluate.learning_curve import run_curve

    run_curve(load_params(params))
