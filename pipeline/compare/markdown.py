"""`stance compare --format markdown`: GitHub tables for a pull-request comment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.compare.wording import (
    TEXT_CHARS,
    card_value,
    flips_title,
    interval_sentence,
    mcnemar_sentence,
    metric_name,
    p_value,
    plain,
    prediction,
    shorten,
    signed,
    source_cells,
    version_records,
)


def _flip_cells(flip: dict[str, Any], *, code: bool = False) -> list[str]:
    """paragraph, source, gold, A, B, effect, text (cut short)."""
    paragraph = f"`{flip['paragraph_id']}`" if code else flip["paragraph_id"]
    return [
        paragraph,
        flip["source"],
        flip["gold"],
        prediction(flip["a"]),
        prediction(flip["b"]),
        flip["effect"],
        shorten(flip["text"], TEXT_CHARS),
    ]


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: Sequence[str], align: str, rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub table; `align` has one letter per column: l(eft) or r(ight)."""
    rule = ["---:" if side == "r" else "---" for side in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def overview_markdown(record: dict[str, Any]) -> list[str]:
    """Every version on one row: its metrics and how it differs from the baseline."""
    comparisons = record["comparisons"]
    names = ("macro_f1", "f_avg", "accuracy", "brier", "ece")
    first = comparisons[0]
    baseline = version_records(record, first)[0]
    rows = [
        [f"`{record['baseline']}` (baseline)", f"`{baseline['model_id']}`"]
        + [plain(first["metrics"][name]["a"]) for name in names]
        + ["", "", ""]
    ]
    for comparison in comparisons:
        difference = comparison["macro_f1_difference"]
        rows.append(
            [f"`{comparison['b']}`", f"`{version_records(record, comparison)[1]['model_id']}`"]
            + [plain(comparison["metrics"][name]["b"]) for name in names]
            + [
                f"{signed(difference['estimate'])} "
                f"[{signed(difference['low'])}, {signed(difference['high'])}]",
                p_value(comparison["mcnemar"]["p_exact"]),
                str(len(comparison["flips"])),
            ]
        )
    level = f"{first['macro_f1_difference']['confidence']:.0%}"
    return [
        "### All versions side by side",
        "",
        f"Out-of-fold predictions of the same {first['n_paragraphs']} gold paragraphs; "
        f"differences from the baseline with their {level} paired bootstrap interval, "
        "McNemar's exact p and the number of paragraphs whose label changed.",
        "",
        *_markdown_table(
            [
                "version",
                "model id",
                *(metric_name(name) for name in names),
                "macro-F1 − baseline",
                "McNemar p",
                "flips",
            ],
            "llrrrrrrrr",
            rows,
        ),
        "",
    ]


def development_markdown(record: dict[str, Any]) -> list[str]:
    """The ranking that chooses: every version on the development set, best first."""
    rows = record.get("development") or []
    if not rows:
        return []
    labels = record["labels"]
    table = []
    for row in rows:
        interval = row.get("macro_f1_interval") or {}
        articles = row.get("articles") or {}
        table.append(
            [
                f"`{row['name']}`",
                f"{plain(row['macro_f1'])} [{plain(interval.get('low'))}, "
                f"{plain(interval.get('high'))}]",
                plain(row.get("f_avg")),
                *(plain(row["per_class"][label]["f1"]) for label in labels),
                plain(row.get("ece")),
                f"{articles.get('sign_right')} of {articles.get('leaning')}",
            ]
        )
    first = rows[0]
    return [
        "### Development set: the ranking that chooses",
        "",
        f"{first['n']} paragraphs of {first['articles']['n']} article openings from "
        f"{first['outlets']} outlets that no model trains on; each model fitted on every "
        "training row. Macro-F1 with its 95% bootstrap interval (articles resampled); "
        "article sign: articles whose gold index leans, with the predicted index's sign right.",
        "",
        *_markdown_table(
            [
                "version",
                "macro-F1 [95%]",
                "F_avg",
                *(f"F1 {label}" for label in labels),
                "ECE",
                "article sign",
            ],
            "l" + "r" * (4 + len(labels)),
            table,
        ),
        "",
    ]


def render_markdown(record: dict[str, Any], *, max_flips: int) -> str:
    """A pull-request comment: the development-set ranking, then one section per version
    compared with the baseline (after an overview table when there are several)."""
    lines: list[str] = development_markdown(record)
    lines += overview_markdown(record) if len(record["comparisons"]) > 1 else []
    labels = "/".join(record["labels"])
    for comparison in record["comparisons"]:
        a, b = version_records(record, comparison)
        lines += [
            f"### `stance compare`: A = `{a['name']}` ({a['model_id']}) vs "
            f"B = `{b['name']}` ({b['model_id']})",
            "",
        ]
        lines += [
            f"Out-of-fold predictions of the same {comparison['n_paragraphs']} gold paragraphs. "
            f"**{comparison['verdict']}.**",
            "",
        ]
        lines += _markdown_table(
            ["metric", "A", "B", "B − A"],
            "lrrr",
            [
                [metric_name(name), plain(m["a"]), plain(m["b"]), signed(m["difference"])]
                for name, m in comparison["metrics"].items()
            ],
        )
        lines += ["", f"- {interval_sentence(comparison)}", f"- {mcnemar_sentence(comparison)}"]
        lines += ["", "#### Stance index by source (mean P(favor) − P(against))", ""]
        lines += _markdown_table(
            ["source", "n", "A", "B", "B − A"],
            "lrrrr",
            [source_cells(source) for source in comparison["sources"]],
        )
        lines += ["", f"#### {flips_title(comparison, max_flips)}", ""]
        if comparison["flips"]:
            lines += _markdown_table(
                ["paragraph", "source", "gold", f"A ({labels})", f"B ({labels})", "effect", "text"],
                "lllllll",
                [_flip_cells(flip, code=True) for flip in comparison["flips"][:max_flips]],
            )
        else:
            lines.append("None: both versions label every paragraph the same.")
        lines += ["", "#### Card differences (grouped-CV metrics left out)", ""]
        if comparison["card_differences"]:
            lines += _markdown_table(
                ["key", "A", "B"],
                "lll",
                [
                    [f"`{d['key']}`", card_value(d, "a"), card_value(d, "b")]
                    for d in comparison["card_differences"]
                ],
            )
        else:
            lines.append("None.")
        lines.append("")
    return "\n".join(lines)
