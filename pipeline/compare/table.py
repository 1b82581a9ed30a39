"""`stance compare --format table`: Rich tables for a terminal (Rich imported when used)."""

from __future__ import annotations

import io
from typing import Any

from pipeline.compare.wording import (
    TEXT_CHARS,
    card_value,
    flips_title,
    interval_sentence,
    mcnemar_sentence,
    metric_name,
    plain,
    prediction,
    shorten,
    signed,
    source_cells,
    version_records,
)


def render_table(record: dict[str, Any], *, max_flips: int, width: int, color: bool) -> str:
    """Rich tables for a terminal, one block per version compared with the baseline."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
    )
    for comparison in record["comparisons"]:
        for block in _table_blocks(record, comparison, max_flips):
            console.print(block)
        console.print()
    return buffer.getvalue()


def _table_blocks(record: dict[str, Any], comparison: dict[str, Any], max_flips: int) -> list:
    from rich.table import Table
    from rich.text import Text

    a, b = version_records(record, comparison)
    blocks: list = [
        Text(f"A = {a['name']} ({a['model_id']})\nB = {b['name']} ({b['model_id']})", style="bold"),
        Text(f"{comparison['verdict']}.", style="bold"),
    ]
    metrics = Table(title="Metrics (out of fold, same gold paragraphs)", title_justify="left")
    for column in ("metric", "A", "B", "B − A"):
        metrics.add_column(column, justify="left" if column == "metric" else "right")
    for name, m in comparison["metrics"].items():
        better = (m["difference"] or 0) * (-1 if name in ("brier", "ece") else 1)
        style = "green" if better > 0 else "red" if better < 0 else ""
        metrics.add_row(
            metric_name(name),
            plain(m["a"]),
            plain(m["b"]),
            Text(signed(m["difference"]), style=style),
        )
    blocks += [metrics, Text(interval_sentence(comparison)), Text(mcnemar_sentence(comparison))]
    sources = Table(title="Stance index by source", title_justify="left")
    for column in ("source", "n", "A", "B", "B − A"):
        sources.add_column(column, justify="left" if column == "source" else "right")
    for source in comparison["sources"]:
        sources.add_row(*source_cells(source))
    blocks.append(sources)
    blocks.append(_flips_table(record, comparison, max_flips))
    cards = Table(title="Card differences (grouped-CV metrics left out)", title_justify="left")
    for column in ("key", "A", "B"):
        cards.add_column(column)
    for d in comparison["card_differences"]:
        cards.add_row(d["key"], card_value(d, "a"), card_value(d, "b"))
    blocks.append(cards if comparison["card_differences"] else Text("Card differences: none."))
    return blocks


def _flips_table(record: dict[str, Any], comparison: dict[str, Any], max_flips: int) -> Any:
    from rich.table import Table
    from rich.text import Text

    title = flips_title(comparison, max_flips)
    if not comparison["flips"]:
        return Text(f"{title}: both versions label every paragraph the same.")
    labels = "/".join(record["labels"])
    table = Table(
        title=title,
        title_justify="left",
        caption=f"A and B: label (P {labels})",
        caption_justify="left",
    )
    table.add_column("paragraph · source", overflow="fold")
    for column in ("gold", "A", "B", "effect"):
        table.add_column(column)
    table.add_column("text", ratio=1, min_width=24)
    styles = {"fixed": "green", "broke": "red", "changed": "yellow"}
    for flip in comparison["flips"][:max_flips]:
        table.add_row(
            f"{flip['paragraph_id']}\n{flip['source']}",
            flip["gold"],
            prediction(flip["a"], sep="\n"),
            prediction(flip["b"], sep="\n"),
            Text(flip["effect"], style=styles[flip["effect"]]),
            Text(shorten(flip["text"], TEXT_CHARS)),
        )
    return table
