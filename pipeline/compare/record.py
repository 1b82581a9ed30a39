"""The record of `stance compare`: everything the comparison found, JSON-ready.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports the formats for CompareFormat; keep this light
    from pipeline.compare.comparison import Comparison
    from pipeline.compare.stats import CompareSettings
    from pipeline.compare.versions import Version

DIGITS = 4
EFFECTS = ("fixed", "broke", "changed")
METRIC_NAMES = {
    "macro_f1": "macro-F1",
    "f_avg": "F_avg",
    "accuracy": "accuracy",
    "brier": "Brier (lower is better)",
    "ece": "ECE (lower is better)",
}


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
            effect: sum(flip.effect == effect for flip in result.flips) for effect in EFFECTS
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
    values = {name: (scores_a[name], scores_b[name]) for name in METRIC_NAMES}
    for label in labels:
        values[f"f1_{label}"] = (
            scores_a["per_class"][label]["f1"],
            scores_b["per_class"][label]["f1"],
        )
    return {
        name: {"a": _r(a), "b": _r(b), "difference": _r(b - a)} for name, (a, b) in values.items()
    }
