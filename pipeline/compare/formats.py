"""The output formats of `stance compare`: one record, rendered three ways.

json (stable, everything; numbers rounded to 4 digits):
  {"labels", "settings": {bootstrap_samples, confidence, seed, calibration_bins},
   "baseline", "versions": [{name, origin, model, model_id, n_paragraphs}],
   "comparisons": [{"a", "b", "n_paragraphs", "verdict",
     "metrics": {<metric>: {"a", "b", "difference"}},       macro_f1 f_avg accuracy brier ece
                                                             f1_<label>
     "macro_f1_difference": {estimate, low, high, confidence, samples, share_b_better},
     "mcnemar": {a_right_b_wrong, a_wrong_b_right, p_exact, chi2, p_chi2},
     "sources": [{source, n, index_a, index_b, change}],
     "flips": [{paragraph_id, source, gold, effect, text, "a": {label, probs}, "b": {...}}],
     "flip_counts": {fixed, broke, changed},
     "card_differences": [{key, "a", "b"}]}]}                 a side without the key: absent
markdown: GitHub tables for a pull-request comment; table: Rich tables for a terminal.
Both show at most `max_flips` flipped paragraphs with their text cut short.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.output_format import pick_format

if TYPE_CHECKING:  # the CLI imports this module for CompareFormat; keep it light
    from pipeline.compare.comparison import Comparison
    from pipeline.compare.stats import CompareSettings
    from pipeline.compare.versions import Version

DIGITS = 4
_TEXT_CHARS = 160
_VALUE_CHARS = 48
_EFFECTS = ("fixed", "broke", "changed")
_METRIC_NAMES = {
    "macro_f1": "macro-F1",
    "f_avg": "F_avg",
    "accuracy": "accuracy",
    "brier": "Brier (lower is better)",
    "ece": "ECE (lower is better)",
}


class CompareFormat(StrEnum):
    """How a comparison is written."""

    table = "table"
    markdown = "markdown"
    json = "json"


_SUFFIXES = {
    ".json": CompareFormat.json,
    ".md": CompareFormat.markdown,
    ".markdown": CompareFormat.markdown,
    ".txt": CompareFormat.table,
}


def choose_format(
    requested: CompareFormat | None, output: Path | None, *, stdout_is_terminal: bool
) -> CompareFormat:
    """The format asked for; else the suffix of --output (.json, .md, .txt); else table on a
    terminal and markdown otherwise (ready to paste into a pull request)."""
    return pick_format(
        requested,
        output,
        by_suffix=_SUFFIXES,
        terminal=CompareFormat.table,
        piped=CompareFormat.markdown,
        stdout_is_terminal=stdout_is_terminal,
    )


# --- the record ----------------------------------------------------------------------------


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def report_record(
    versions: Sequence[Version], comparisons: Sequence[Comparison], settings: CompareSettings
) -> dict[str, Any]:
    """Everything the comparison found, JSON-ready: the json output, and what the table and
    markdown renderings read."""
    return {
        "labels": list(settings.labels),
        "settings": {
            "bootstrap_samples": settings.bootstrap_samples,
            "confidence": settings.confidence,
            "seed": settings.seed,
            "calibration_bins": settings.calibration_bins,
        },
        "baseline": versions[0].name,
        "versions": [
            {
                "name": version.name,
                "origin": version.origin,
                "model": version.card.get("model"),
                "model_id": version.model_id,
                "n_paragraphs": len(version.predictions),
            }
            for version in versions
        ],
        "comparisons": [comparison_record(comparison, settings) for comparison in comparisons],
        "development": development_ranking(versions),
    }


def development_ranking(versions: Sequence[Version]) -> list[dict[str, Any]]:
    """Each version's scores on the development set (from its card), best macro-F1 first;
    versions evaluated without one are left out."""
    rows = []
    for version in versions:
        grouped = version.card.get("grouped_cv")
        dev = grouped.get("dev") if isinstance(grouped, dict) else None
        if isinstance(dev, dict) and isinstance(dev.get("macro_f1"), int | float):
            rows.append({"name": version.name, "model_id": version.model_id, **dev})
    return sorted(rows, key=lambda row: -row["macro_f1"])


def comparison_record(comparison: Comparison, settings: CompareSettings) -> dict[str, Any]:
    """B against A: metrics, the macro-F1 interval, McNemar, sources, flips, card changes."""
    result = comparison.result
    difference, test = result.macro_f1_difference, result.mcnemar
    return {
        "a": comparison.a.name,
        "b": comparison.b.name,
        "n_paragraphs": result.n,
        "verdict": verdict(difference.low, difference.high, difference.confidence),
        "metrics": _metrics(result.scores_a, result.scores_b, settings.labels),
        "macro_f1_difference": {
            "estimate": _r(difference.estimate),
            "low": _r(difference.low),
            "high": _r(difference.high),
            "confidence": difference.confidence,
            "samples": difference.samples,
            "share_b_better": _r(difference.share_b_better),
        },
        "mcnemar": {
            "a_right_b_wrong": test.a_right_b_wrong,
            "a_wrong_b_right": test.a_wrong_b_right,
            "p_exact": _r(test.p_exact),
            "chi2": _r(test.chi2),
            "p_chi2": _r(test.p_chi2),
        },
        "sources": [
            {
                "source": source.source,
                "n": source.n,
                "index_a": _r(source.index_a),
                "index_b": _r(source.index_b),
                "change": _r(source.change),
            }
            for source in result.sources
        ],
        "flips": [
            {
                "paragraph_id": flip.paragraph_id,
                "source": flip.source,
                "gold": flip.gold,
                "effect": flip.effect,
                "text": flip.text,
                "a": {"label": flip.label_a, "probs": _rounded(flip.probs_a)},
                "b": {"label": flip.label_b, "probs": _rounded(flip.probs_b)},
            }
            for flip in result.flips
        ],
        "flip_counts": {
            effect: sum(flip.effect == effect for flip in result.flips) for effect in _EFFECTS
        },
        "card_differences": [difference.record() for difference in comparison.card_differences],
    }


def verdict(low: float, high: float, confidence: float) -> str:
    """One sentence on the macro-F1 interval: does it exclude zero, and which way?"""
    level = f"{confidence:.0%}"
    if low > 0:
        return f"B is better: the {level} interval of the macro-F1 difference is above 0"
    if high < 0:
        return f"B is worse: the {level} interval of the macro-F1 difference is below 0"
    return f"No clear difference: the {level} interval of the macro-F1 difference includes 0"


def _rounded(probs: dict[str, float]) -> dict[str, float | None]:
    return {label: _r(p) for label, p in probs.items()}


def _metrics(
    scores_a: dict[str, Any], scores_b: dict[str, Any], labels: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    values = {name: (scores_a[name], scores_b[name]) for name in _METRIC_NAMES}
    for label in labels:
        values[f"f1_{label}"] = (
            scores_a["per_class"][label]["f1"],
            scores_b["per_class"][label]["f1"],
        )
    return {
        name: {"a": _r(a), "b": _r(b), "difference": _r(b - a)} for name, (a, b) in values.items()
    }


# --- rendering -----------------------------------------------------------------------------


def render(
    record: dict[str, Any],
    output_format: CompareFormat,
    *,
    max_flips: int,
    width: int = 120,
    color: bool = False,
) -> str:
    """The record as text in `output_format` (width and color only matter for table)."""
    if output_format is CompareFormat.json:
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if output_format is CompareFormat.markdown:
        return render_markdown(record, max_flips=max_flips)
    return render_table(record, max_flips=max_flips, width=width, color=color)


def _metric_name(name: str) -> str:
    return _METRIC_NAMES.get(name) or f"F1 {name.removeprefix('f1_')}"


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.4f}"


def _plain(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _p_value(value: float) -> str:
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _value(side: dict[str, Any], key: str) -> str:
    if key not in side:
        return "(absent)"
    value = side[key]
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return _short(shown, _VALUE_CHARS)


def _prediction(side: dict[str, Any], sep: str = " ") -> str:
    """A version's label and its probabilities, e.g. "against (.37/.43/.20)"."""
    probs = "/".join(f"{p:.2f}".removeprefix("0") for p in side["probs"].values())
    return f"{side['label']}{sep}({probs})"


def _versions(record: dict[str, Any], comparison: dict[str, Any]) -> tuple[dict, dict]:
    """The version records of A and B (each has its name and model_id)."""
    by_name = {version["name"]: version for version in record["versions"]}
    return by_name[comparison["a"]], by_name[comparison["b"]]


def interval_sentence(comparison: dict[str, Any]) -> str:
    """The macro-F1 difference with its paired bootstrap interval, in words."""
    d = comparison["macro_f1_difference"]
    return (
        f"macro-F1 B − A = {_signed(d['estimate'])}, {d['confidence']:.0%} paired bootstrap "
        f"interval [{_signed(d['low'])}, {_signed(d['high'])}] over {d['samples']} resamples "
        f"of the {comparison['n_paragraphs']} paragraphs; B better in "
        f"{d['share_b_better']:.1%} of them"
    )


def mcnemar_sentence(comparison: dict[str, Any]) -> str:
    """McNemar's test in words: the discordant counts and the p-values."""
    m = comparison["mcnemar"]
    text = (
        f"McNemar: A right, B wrong on {m['a_right_b_wrong']}; A wrong, B right on "
        f"{m['a_wrong_b_right']}; exact p = {_p_value(m['p_exact'])}"
    )
    if m["chi2"] is not None:
        text += f" (χ² with continuity correction {m['chi2']:.2f}, p = {_p_value(m['p_chi2'])})"
    return text


def _source_cells(source: dict[str, Any]) -> list[str]:
    """source, n, index A, index B, change."""
    indices = (source["index_a"], source["index_b"], source["change"])
    return [source["source"], str(source["n"]), *(_signed(value) for value in indices)]


def _flip_cells(flip: dict[str, Any], *, code: bool = False) -> list[str]:
    """paragraph, source, gold, A, B, effect, text (cut short)."""
    paragraph = f"`{flip['paragraph_id']}`" if code else flip["paragraph_id"]
    return [
        paragraph,
        flip["source"],
        flip["gold"],
        _prediction(flip["a"]),
        _prediction(flip["b"]),
        flip["effect"],
        _short(flip["text"], _TEXT_CHARS),
    ]


def _flips_title(comparison: dict[str, Any], max_flips: int) -> str:
    flips, counts = comparison["flips"], comparison["flip_counts"]
    title = f"Flipped paragraphs: {len(flips)} (" + ", ".join(
        f"{counts[effect]} {effect}" for effect in _EFFECTS
    )
    shown = f"; first {max_flips} shown, all in --format json" if len(flips) > max_flips else ""
    return title + ")" + shown


# --- markdown ------------------------------------------------------------------------------


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
    baseline = _versions(record, first)[0]
    rows = [
        [f"`{record['baseline']}` (baseline)", f"`{baseline['model_id']}`"]
        + [_plain(first["metrics"][name]["a"]) for name in names]
        + ["", "", ""]
    ]
    for comparison in comparisons:
        difference = comparison["macro_f1_difference"]
        rows.append(
            [f"`{comparison['b']}`", f"`{_versions(record, comparison)[1]['model_id']}`"]
            + [_plain(comparison["metrics"][name]["b"]) for name in names]
            + [
                f"{_signed(difference['estimate'])} "
                f"[{_signed(difference['low'])}, {_signed(difference['high'])}]",
                _p_value(comparison["mcnemar"]["p_exact"]),
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
                *(_metric_name(name) for name in names),
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
                f"{_plain(row['macro_f1'])} [{_plain(interval.get('low'))}, "
                f"{_plain(interval.get('high'))}]",
                _plain(row.get("f_avg")),
                *(_plain(row["per_class"][label]["f1"]) for label in labels),
                _plain(row.get("ece")),
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
        a, b = _versions(record, comparison)
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
                [_metric_name(name), _plain(m["a"]), _plain(m["b"]), _signed(m["difference"])]
                for name, m in comparison["metrics"].items()
            ],
        )
        lines += ["", f"- {interval_sentence(comparison)}", f"- {mcnemar_sentence(comparison)}"]
        lines += ["", "#### Stance index by source (mean P(favor) − P(against))", ""]
        lines += _markdown_table(
            ["source", "n", "A", "B", "B − A"],
            "lrrrr",
            [_source_cells(source) for source in comparison["sources"]],
        )
        lines += ["", f"#### {_flips_title(comparison, max_flips)}", ""]
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
                    [f"`{d['key']}`", _value(d, "a"), _value(d, "b")]
                    for d in comparison["card_differences"]
                ],
            )
        else:
            lines.append("None.")
        lines.append("")
    return "\n".join(lines)


# --- table ---------------------------------------------------------------------------------


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

    a, b = _versions(record, comparison)
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
            _metric_name(name),
            _plain(m["a"]),
            _plain(m["b"]),
            Text(_signed(m["difference"]), style=style),
        )
    blocks += [metrics, Text(interval_sentence(comparison)), Text(mcnemar_sentence(comparison))]
    sources = Table(title="Stance index by source", title_justify="left")
    for column in ("source", "n", "A", "B", "B − A"):
        sources.add_column(column, justify="left" if column == "source" else "right")
    for source in comparison["sources"]:
        sources.add_row(*_source_cells(source))
    blocks.append(sources)
    blocks.append(_flips_table(record, comparison, max_flips))
    cards = Table(title="Card differences (grouped-CV metrics left out)", title_justify="left")
    for column in ("key", "A", "B"):
        cards.add_column(column)
    for d in comparison["card_differences"]:
        cards.add_row(d["key"], _value(d, "a"), _value(d, "b"))
    blocks.append(cards if comparison["card_differences"] else Text("Card differences: none."))
    return blocks


def _flips_table(record: dict[str, Any], comparison: dict[str, Any], max_flips: int) -> Any:
    from rich.table import Table
    from rich.text import Text

    title = _flips_title(comparison, max_flips)
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
            _prediction(flip["a"], sep="\n"),
            _prediction(flip["b"], sep="\n"),
            Text(flip["effect"], style=styles[flip["effect"]]),
            Text(_short(flip["text"], _TEXT_CHARS)),
        )
    return table
