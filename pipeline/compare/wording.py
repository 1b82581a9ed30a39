"""What the markdown and table renderings of a comparison share: numbers and text as
shown, the two versions' records, the interval and McNemar sentences, row cells, titles."""

from __future__ import annotations

import json
from typing import Any

from pipeline.compare.record import EFFECTS, METRIC_NAMES

TEXT_CHARS = 160
_VALUE_CHARS = 48


def metric_name(name: str) -> str:
    return METRIC_NAMES.get(name) or f"F1 {name.removeprefix('f1_')}"


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.4f}"


def plain(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def p_value(value: float) -> str:
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def card_value(side: dict[str, Any], key: str) -> str:
    if key not in side:
        return "(absent)"
    value = side[key]
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return shorten(shown, _VALUE_CHARS)


def prediction(side: dict[str, Any], sep: str = " ") -> str:
    """A version's label and its probabilities, e.g. "against (.37/.43/.20)"."""
    probs = "/".join(f"{p:.2f}".removeprefix("0") for p in side["probs"].values())
    return f"{side['label']}{sep}({probs})"


def version_records(record: dict[str, Any], comparison: dict[str, Any]) -> tuple[dict, dict]:
    """The version records of A and B (each has its name and model_id)."""
    by_name = {version["name"]: version for version in record["versions"]}
    return by_name[comparison["a"]], by_name[comparison["b"]]


def interval_sentence(comparison: dict[str, Any]) -> str:
    """The macro-F1 difference with its paired bootstrap interval, in words."""
    d = comparison["macro_f1_difference"]
    return (
        f"macro-F1 B − A = {signed(d['estimate'])}, {d['confidence']:.0%} paired bootstrap "
        f"interval [{signed(d['low'])}, {signed(d['high'])}] over {d['samples']} resamples "
        f"of the {comparison['n_paragraphs']} paragraphs; B better in "
        f"{d['share_b_better']:.1%} of them"
    )


def mcnemar_sentence(comparison: dict[str, Any]) -> str:
    """McNemar's test in words: the discordant counts and the p-values."""
    m = comparison["mcnemar"]
    text = (
        f"McNemar: A right, B wrong on {m['a_right_b_wrong']}; A wrong, B right on "
        f"{m['a_wrong_b_right']}; exact p = {p_value(m['p_exact'])}"
    )
    if m["chi2"] is not None:
        text += f" (χ² with continuity correction {m['chi2']:.2f}, p = {p_value(m['p_chi2'])})"
    return text


def source_cells(source: dict[str, Any]) -> list[str]:
    """source, n, index A, index B, change."""
    indices = (source["index_a"], source["index_b"], source["change"])
    return [source["source"], str(source["n"]), *(signed(value) for value in indices)]


def flips_title(comparison: dict[str, Any], max_flips: int) -> str:
    flips, counts = comparison["flips"], comparison["flip_counts"]
    title = f"Flipped paragraphs: {len(flips)} (" + ", ".join(
        f"{counts[effect]} {effect}" for effect in EFFECTS
    )
    shown = f"; first {max_flips} shown, all in --format json" if len(flips) > max_flips else ""
    return title + ")" + shown
