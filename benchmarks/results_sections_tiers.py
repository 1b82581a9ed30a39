"""RESULTS.md's sections on the other paths and tiers: 1b. the accuracy of the ONNX Runtime
paths, 7. the static tier and the cascade (speed and accuracy)."""

from __future__ import annotations

from results_targets import MAX_F1_CHANGE_POINTS, Target, targets_block
from results_text import number, percent, table

# --- accuracy of the ONNX paths ---------------------------------------------------------


def accuracy_targets(accuracy: dict | None) -> list[Target]:
    goal = f"macro-F1 within {MAX_F1_CHANGE_POINTS:g} point of torch"
    if not accuracy:
        return [Target("ONNX accuracy", goal, "not run", None)]
    targets = []
    for backend, row in accuracy["leave_one_source_out"].items():
        if backend == "torch":
            continue
        change = row["macro_f1_change_points"]
        met = abs(change) <= MAX_F1_CHANGE_POINTS
        limits = (
            None
            if met
            else (
                f"{row['label_changes']} gold paragraphs change label; the largest probability "
                f"difference is {row['max_abs_prob_diff']}: the quantised encoder moves them."
            )
        )
        targets.append(Target(f"`{backend}` accuracy", goal, f"{change:+.2f} points", met, limits))
    return targets


def accuracy_section(accuracy: dict | None) -> list[str]:
    lines = ["## 1b. Accuracy of the ONNX Runtime paths", ""]
    if not accuracy:
        return [*lines, "Not run.", "", *targets_block(accuracy_targets(accuracy))]
    lines += [
        f"`{accuracy['model']}` on the {accuracy['gold_paragraphs']} gold paragraphs of "
        f"{accuracy['sources']} sources, leave one source out: each fold trains on PyTorch "
        "embeddings (as `dvc repro` does) and predicts the held-out source through the path "
        "named. The saved model is also run on all "
        f"{accuracy['corpus_paragraphs']} corpus paragraphs on each path "
        "(`benchmarks/backend_accuracy.py`).",
        "",
    ]
    corpus = accuracy["trained_model_on_corpus"]
    rows = [
        (
            f"`{backend}`",
            f"{row['macro_f1']:.4f}",
            f"{row['macro_f1_change_points']:+.2f}",
            row["max_abs_prob_diff"],
            row["label_changes"],
            corpus[backend]["max_abs_prob_diff"],
            corpus[backend]["label_changes"],
        )
        for backend, row in accuracy["leave_one_source_out"].items()
    ]
    lines += table(
        (
            "path",
            "macro-F1 (LOSO)",
            "change, points",
            "largest prob. difference",
            "labels changed",
            "corpus: largest prob. difference",
            "corpus: labels changed",
        ),
        rows,
    )
    return lines + targets_block(accuracy_targets(accuracy))


# --- The static tier -------------------------------------------------------------------


def static_tier_targets(result: dict | None) -> list[Target]:
    """Speed of the static tier over raw MiniLM, and its accuracy gap to the default."""
    if not result:
        return [
            Target("static tier speed", "≥ 20× raw MiniLM (torch)", "–", None),
            Target("static tier accuracy", "within 3 points of the default", "–", None),
        ]
    speedup, goal = result.get("static_speedup"), result["target_speedup"]
    profile = result.get("static_profile") or {}
    parts = profile.get("parts") or {}
    limits = None
    if speedup is not None and speedup < goal and parts:
        shares = ", ".join(
            f"{name} {percent(part['share'])}" for name, part in list(parts.items())[:5]
        )
        limits = (
            "End to end, the static tier's time (cProfile, "
            f"{profile.get('paragraphs', 0):,} paragraphs): {shares}. The distilled encoder "
            "itself is a small share; the rule votes, actor matching and segmentation that "
            "every model pays dominate once MiniLM is gone."
        )
    accuracy = result.get("accuracy", {})
    gap, gap_goal = accuracy.get("static_gap_points"), result.get("target_f1_gap_points", 3.0)
    gap_limits = None
    if gap is not None and gap > gap_goal:
        gap_limits = (
            "A static vector is a bag of tokens: it keeps the topic and loses the "
            "composition (negation, hedges, who does what to whom) that the contextual "
            "MiniLM vector adds to the n-grams. The cascade recovers the default's score "
            "(the threshold table above)."
        )
    return [
        Target(
            "static tier speed (`stance score` end to end, × raw MiniLM on torch)",
            f"≥ {goal:g}×",
            f"{number(speedup)}×" if speedup is not None else "–",
            None if speedup is None else speedup >= goal,
            limits,
        ),
        Target(
            "static tier accuracy (LOSO macro-F1 below the default)",
            f"≤ {gap_goal:g} points",
            f"{number(gap)} points" if gap is not None else "–",
            None if gap is None else gap <= gap_goal,
            gap_limits,
        ),
    ]


def static_tier_section(result: dict | None) -> list[str]:
    lines = ["## 7. The static tier and the cascade", ""]
    if not result:
        return [*lines, "Not run (no results/static_tier.json).", ""]
    settings = result["settings"]
    lines += [
        f"Measured side by side in one run ({settings['rounds']} rounds of alternating "
        f"order): MiniLM subjects on {settings['paragraphs']:,} paragraphs each, the static "
        f"ones on {settings['fast_paragraphs']:,}; `stance score` end to end, cache off.",
        "",
    ]
    lines += table(
        ("subject", "kind", "backend", "paragraphs", "paragraphs/s", "× raw MiniLM (torch)"),
        (
            (
                m["subject"],
                m["kind"],
                m["backend"],
                f"{m['paragraphs']:,}",
                number(m["paragraphs_per_s"]),
                number(m.get("x_raw_minilm")),
            )
            for m in result["measurements"]
        ),
    )
    for share in result.get("cascade_escalation", []):
        lines.append(
            f"- {share['subject']}: {share['escalated']:,} of {share['scored']:,} paragraphs "
            f"({percent(share['share'], 1)}) went to the slow model on this corpus."
        )
    profile = result.get("static_profile") or {}
    if profile.get("parts"):
        shares = ", ".join(
            f"{name} {percent(part['share'])}" for name, part in profile["parts"].items()
        )
        lines.append(
            f"- Where the static tier's time goes (cProfile, {profile['paragraphs']:,} "
            f"paragraphs, {number(profile.get('unprofiled_paragraphs_per_s'))} paragraphs/s "
            f"unprofiled): {shares}."
        )
    accuracy = result.get("accuracy", {})
    found = accuracy.get("metrics", {})
    lines += ["", "Leave-one-source-out on the gold paragraphs (from the stages' metrics):", ""]
    lines += table(
        ("model", "model id", "macro-F1", "accuracy", "Brier", "ECE"),
        (
            (name, m["model_id"], m["macro_f1"], m["accuracy"], m["brier"], m["ece"])
            for name, m in found.items()
            if m
        ),
    )
    sweep = accuracy.get("cascade_sweep")
    if sweep:
        threshold = accuracy.get("cascade_threshold")
        lines += [
            "The cascade at other thresholds (exact: the two parts' out-of-fold labels "
            f"recombined; the trained cascade uses {threshold}):",
            "",
        ]
        lines += table(
            ("threshold", "escalated (gold paragraphs)", "macro-F1"),
            ((row["threshold"], percent(row["escalated_share"]), row["macro_f1"]) for row in sweep),
        )
    lines += targets_block(static_tier_targets(result))
    lines += [f"- skipped: {note}" for note in result.get("skipped", [])]
    lines += [f"- note: {note}" for note in result.get("notes", [])]
    return [*lines, ""]
