"""`stance annotate stats`: how big the gold set is and how far annotators agree.

Counts come from the active labels of `gold.jsonl` (retracted ones left out).
Agreement is measured where several people labelled the same paragraph text:
Cohen's kappa for each pair of annotators and Krippendorff's alpha over all of
them. Adjudicated labels settle disagreements after the fact, so they are not
independent judgements and stay out of the agreement figures. Both statistics
are implemented here as small pure functions, so the numbers can be checked by
hand.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pandas as pd

from pipeline.annotate.store import read_log
from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.io import display_path
from pipeline.label.annotations import Conflict, GoldLog, resolve_gold

UNKNOWN_SOURCE = "unknown"

# --- the statistics --------------------------------------------------------------------------


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float:
    """Cohen's kappa of two annotators: kappa = (p_o - p_e) / (1 - p_e).

    `pairs` holds (first annotator's label, second's) for each paragraph both
    labelled. p_o is the share of paragraphs where they agree; p_e is the
    agreement expected by chance from each annotator's own label frequencies,
    sum over labels c of p_1(c) * p_2(c). Raises ValueError when kappa is
    undefined: no shared paragraph, or p_e = 1 (both used one and the same label).
    """
    if not pairs:
        raise ValueError("no paragraph labelled by both")
    n = len(pairs)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    agreed = sum(1 for a, b in pairs if a == b)
    chance = sum(first[label] * second[label] for label in first)  # p_e * n^2
    if chance == n * n:
        (only,) = first
        raise ValueError(f"both gave only {only!r}, so chance agreement is already 1")
    observed = Fraction(agreed, n)
    expected = Fraction(chance, n * n)
    return float((observed - expected) / (1 - expected))


def krippendorff_alpha_nominal(units: Sequence[Sequence[str]]) -> float:
    """Krippendorff's alpha for nominal data: alpha = 1 - D_o / D_e.

    Each unit (paragraph) lists the labels its annotators gave; units with one
    label cannot be paired and are left out. From the coincidence matrix,
    o_ck = sum over units of (ordered pairs of labels c, k from different
    annotators) / (m_u - 1), with n_c = sum_k o_ck and n = sum_c n_c, the nominal
    form is alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c * n_k.
    Raises ValueError when alpha is undefined: no pairable unit, or D_e = 0
    (every label given is the same one).
    """
    pairable = [unit for unit in units if len(unit) >= 2]
    if not pairable:
        raise ValueError("no paragraph labelled by two or more annotators")
    coincidence: Counter[tuple[str, str]] = Counter()
    for unit in pairable:
        counts = Counter(unit)
        weight = Fraction(1, len(unit) - 1)
        for c, k in itertools.product(counts, repeat=2):
            coincidence[c, k] += counts[c] * (counts[k] - (c == k)) * weight
    totals: Counter[str] = Counter()
    for (c, _k), value in coincidence.items():
        totals[c] += value
    n = sum(totals.values())
    expected_disagreement = n * n - sum(value * value for value in totals.values())
    if expected_disagreement == 0:
        (only,) = totals
        raise ValueError(f"every label given is {only!r}, so there is no variation to agree on")
    observed_disagreement = sum(v for (c, k), v in coincidence.items() if c != k)
    return float(1 - (n - 1) * observed_disagreement / expected_disagreement)


# --- the report, computed ----------------------------------------------------------------------

# A paragraph text that was labelled: paragraph_id and the hash of the text labelled.
Unit = tuple[str, str]


@dataclass(frozen=True)
class Agreement:
    """A statistic over `n` items (paragraphs) and `annotators`; `value` is None when it is
    undefined, and `reason` says why."""

    name: str
    n: int
    annotators: tuple[str, ...]
    value: float | None
    reason: str = ""


@dataclass(frozen=True)
class GoldStats:
    """Everything `stance annotate stats` prints."""

    labels_total: int
    labels_active: int
    retractions: int
    per_annotator: dict[str, int]
    per_source: dict[str, int]
    per_class: dict[str, int]
    multi_annotated: int
    conflicts: tuple[Conflict, ...]
    pairwise: tuple[Agreement, ...]
    overall: Agreement


def independent_ratings(log: GoldLog) -> dict[Unit, dict[str, str]]:
    """Each annotator's own label per paragraph text, for agreement.

    Adjudicated labels are left out (they settle, they do not judge
    independently); when one annotator has several active labels on a paragraph,
    the latest is their judgement.
    """
    ratings: dict[Unit, dict[str, str]] = {}
    for annotation in log.active():
        if not annotation.adjudicated:
            unit = (annotation.paragraph_id, annotation.text_sha256)
            ratings.setdefault(unit, {})[annotation.annotator] = annotation.label
    return ratings


def pairwise_kappas(ratings: Mapping[Unit, Mapping[str, str]]) -> list[Agreement]:
    """Cohen's kappa for every pair of annotators who labelled at least one paragraph
    in common."""
    annotators = sorted({name for by in ratings.values() for name in by})
    results = []
    for first, second in itertools.combinations(annotators, 2):
        pairs = [(by[first], by[second]) for by in ratings.values() if first in by and second in by]
        if pairs:
            results.append(_measured("Cohen's kappa", cohen_kappa, pairs, (first, second)))
    return results


def overall_alpha(ratings: Mapping[Unit, Mapping[str, str]]) -> Agreement:
    """Krippendorff's alpha over the paragraphs labelled by two or more annotators."""
    units = [list(by.values()) for by in ratings.values() if len(by) >= 2]
    annotators = tuple(sorted({name for by in ratings.values() if len(by) >= 2 for name in by}))
    return _measured(
        "Krippendorff's alpha (nominal)", krippendorff_alpha_nominal, units, annotators
    )


def _measured(
    name: str, statistic: Callable[[list], float], items: list, annotators: tuple[str, ...]
) -> Agreement:
    try:
        return Agreement(name, len(items), annotators, statistic(items))
    except ValueError as undefined:
        return Agreement(name, len(items), annotators, None, str(undefined))


def source_of(paragraph_id: str, by_paragraph: Mapping[str, str], by_doc: Mapping[str, str]) -> str:
    """The source of a paragraph: from the paragraphs table, else from its document
    (ids are "<doc_id>:<hash>", so a changed paragraph still finds its outlet)."""
    if paragraph_id in by_paragraph:
        return by_paragraph[paragraph_id]
    return by_doc.get(paragraph_id.rpartition(":")[0], UNKNOWN_SOURCE)


def gold_stats(
    log: GoldLog,
    labels: Sequence[str],
    by_paragraph: Mapping[str, str] | None = None,
    by_doc: Mapping[str, str] | None = None,
) -> GoldStats:
    """Count the gold log and measure agreement (pure: the log and source maps in)."""
    active = log.active()
    by_paragraph, by_doc = by_paragraph or {}, by_doc or {}
    per_class = Counter(a.label for a in active)
    people: dict[str, set[str]] = {}
    for annotation in active:
        people.setdefault(annotation.paragraph_id, set()).add(annotation.annotator)
    ratings = independent_ratings(log)
    return GoldStats(
        labels_total=len(log.labels),
        labels_active=len(active),
        retractions=len(log.retractions),
        per_annotator=dict(Counter(a.annotator for a in active).most_common()),
        per_source=dict(
            Counter(source_of(a.paragraph_id, by_paragraph, by_doc) for a in active).most_common()
        ),
        per_class={label: per_class[label] for label in labels},
        multi_annotated=sum(1 for names in people.values() if len(names) >= 2),
        conflicts=resolve_gold(log).conflicts,
        pairwise=tuple(pairwise_kappas(ratings)),
        overall=overall_alpha(ratings),
    )


# --- the report, printed -----------------------------------------------------------------------


def _table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[object]], align: str = ""
) -> list[str]:
    """A plain-text table; `align` has one letter per column, "l" or "r" (default: the
    first column left, the others right, as for names and counts)."""
    align = align or "l" + "r" * (len(header) - 1)
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title]
    for row in cells:
        parts = [
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(row, widths, align, strict=True)
        ]
        lines.append("  " + "  ".join(parts).rstrip())
    return [*lines, ""]


def _value(agreement: Agreement) -> str:
    if agreement.value is None:
        return f"n/a ({agreement.reason})"
    return f"{agreement.value:.3f}"


def render_stats(stats: GoldStats, gold_path: Path) -> str:
    """The report as plain text, one block per question."""
    lines = [
        f"{display_path(gold_path)}: {stats.labels_active} active labels "
        f"({stats.labels_total} written, {stats.retractions} retracted)",
        "",
    ]
    lines += _table(
        "Labels per annotator", ["annotator", "labels"], list(stats.per_annotator.items())
    )
    lines += _table("Labels per source", ["source", "labels"], list(stats.per_source.items()))
    lines += _table("Labels per class", ["label", "labels"], list(stats.per_class.items()))
    lines.append(f"Retractions (undos): {stats.retractions}")
    lines.append(f"Paragraphs labelled by 2+ annotators: {stats.multi_annotated}")
    lines.append(f"Paragraphs in conflict: {len(stats.conflicts)}")
    lines += [f"  {conflict.describe(gold_path)}" for conflict in stats.conflicts]
    lines.append("")
    if stats.pairwise:
        lines += _table(
            "Agreement per annotator pair (Cohen's kappa; adjudicated labels left out)",
            ["annotators", "n", "kappa"],
            [(" / ".join(a.annotators), a.n, _value(a)) for a in stats.pairwise],
            align="lrl",
        )
    else:
        lines += ["Agreement per annotator pair: n/a (no paragraph labelled by two annotators)", ""]
    overall = stats.overall
    lines.append(
        f"{overall.name}: {_value(overall)}, n = {overall.n} paragraphs, "
        f"{len(overall.annotators)} annotators"
    )
    return "\n".join(lines) + "\n"


def _source_maps(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """paragraph_id -> source and doc_id -> source from the paragraphs table, if present."""
    if not path.is_file():
        return {}, {}
    try:
        frame = pd.read_parquet(path, columns=["paragraph_id", "doc_id", "source"])
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputDataError(
            f"{display_path(path)}: not a readable paragraphs table ({error})"
        ) from None
    by_paragraph = dict(zip(frame["paragraph_id"], frame["source"], strict=True))
    by_doc = dict(zip(frame["doc_id"], frame["source"], strict=True))
    return by_paragraph, by_doc


def run_stats(params: Params) -> GoldStats:
    """Print label counts and agreement for `paths.gold` to standard output."""
    gold = params.paths.gold
    log = read_log(gold, params.labels)
    stats = gold_stats(log, params.labels, *_source_maps(params.paths.paragraphs))
    if log.labels:
        print(render_stats(stats, gold), end="")
    else:
        print(f"{display_path(gold)}: no labels yet; label with `stance annotate`")
    return stats
