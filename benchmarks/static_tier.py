"""The static tier beside MiniLM, measured side by side in one run (issue 13).

On the generated corpus (harness.py), in rounds of alternating order:
- the raw MiniLM encoder (PyTorch: the reference the target is stated against)
  and the raw static encoder (the distilled table, `paths.static_encoder`);
- `stance score` end to end (read, segment, score, bootstrap, write jsonl) with
  the default model on torch and onnx-int8, the static tier (`static_logreg`)
  and the cascade on torch and onnx-int8, with the share of paragraphs the
  cascade sent to its slow model.
The fast subjects get `--fast-paragraphs`, the MiniLM ones `--paragraphs`, so
each is timed over several seconds. Accuracy comes from the grouped (leave one
source out) metrics that `dvc repro` / `make compare` wrote, never recomputed
here; the cascade's threshold sweep is exact from the two parts' out-of-fold
predictions (a label is the argmax, which calibration does not change).
Writes <results-dir>/static_tier.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness import (
    REPO,
    RESULTS_DIR,
    default_model_folder,
    generated_paragraphs,
    isolate_stance_cache,
    load_average,
    machine_facts,
    model_kind,
    relative,
    seed_paragraphs,
    write_result,
)
from profile_score import profile_backend
from score_throughput import (
    Subject,
    encoder_subject,
    first_line,
    run_rounds,
    score_subject,
)

from pipeline.score import DEFAULT_BATCH_SIZE

TARGET_SPEEDUP = 20.0  # static tier end to end, over the raw MiniLM encoder on PyTorch
TARGET_F1_GAP = 0.03  # static tier's grouped macro-F1, below the default model's
SWEEP = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
LABEL_COLUMNS = ("favor", "against", "none")


def static_encoder_subject(count: int, sources: list[str]) -> Subject:
    """The distilled table alone, on the same paragraphs (loaded and timed once)."""
    from pipeline.config import load_params
    from pipeline.encoders.static_encoder import StaticEncoder

    path = load_params(REPO / "params.yaml").paths.static_encoder
    start = time.perf_counter()
    encoder = StaticEncoder(REPO / path)
    encoder.encode(["Moscow and Beijing."])
    load_seconds = time.perf_counter() - start

    def run(scratch: Path, tag: str, size: int) -> tuple[int, float]:
        texts = generated_paragraphs(sources, size, tag)
        start = time.perf_counter()
        encoder.encode(texts)
        return len(texts), time.perf_counter() - start

    facts = {"encoder": "StaticEncoder", "load_s": round(load_seconds, 2)}
    return Subject("raw static encoder", "raw_encoder", "static", count, run, facts)


def metrics(path: Path) -> dict[str, Any] | None:
    """Grouped-CV metrics a stage wrote, or None when it has not run."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {key: data.get(key) for key in ("model_id", "macro_f1", "accuracy", "brier", "ece")}


def cascade_sweep(fast: Path, slow: Path) -> list[dict[str, Any]]:
    """Escalated share and macro-F1 of the cascade at each threshold, from out-of-fold files."""
    import pandas as pd
    from sklearn.metrics import f1_score

    fast_oof = pd.read_parquet(fast / "oof.parquet")
    slow_oof = pd.read_parquet(slow / "oof.parquet").set_index("paragraph_id")
    slow_oof = slow_oof.loc[fast_oof["paragraph_id"]]
    raw = fast_oof[[f"raw_prob_{label}" for label in LABEL_COLUMNS]].to_numpy()
    slow_labels = slow_oof[[f"prob_{label}" for label in LABEL_COLUMNS]].to_numpy().argmax(axis=1)
    gold = [LABEL_COLUMNS.index(label) for label in fast_oof["gold"]]
    rows = []
    for threshold in SWEEP:
        escalated = raw.max(axis=1) < threshold
        predicted = np.where(escalated, slow_labels, raw.argmax(axis=1))
        rows.append(
            {
                "threshold": threshold,
                "escalated_share": round(float(escalated.mean()), 3),
                "macro_f1": round(float(f1_score(gold, predicted, average="macro")), 4),
            }
        )
    return rows


def accuracy(default: Path) -> dict[str, Any]:
    """LOSO metrics of the default model, the static tier and the cascade, and the gap."""
    found = {
        "default": metrics(REPO / "metrics" / "eval.json"),
        "static_logreg": metrics(REPO / "metrics" / "zoo" / "static_logreg.json"),
        "cascade": metrics(REPO / "metrics" / "zoo" / "cascade.json"),
    }
    result: dict[str, Any] = {"metrics": found}
    if found["default"] and found["static_logreg"]:
        gap = found["default"]["macro_f1"] - found["static_logreg"]["macro_f1"]
        result["static_gap_points"] = round(100 * gap, 1)
        result["static_gap_met"] = gap <= TARGET_F1_GAP
    static, zoo_cascade = REPO / "models" / "zoo" / "static_logreg", REPO / "models" / "zoo"
    if (static / "oof.parquet").is_file() and (default / "oof.parquet").is_file():
        result["cascade_sweep"] = cascade_sweep(static, default)
    if (zoo_cascade / "cascade" / "model.json").is_file():
        spec = json.loads((zoo_cascade / "cascade" / "model.json").read_text(encoding="utf-8"))
        result["cascade_threshold"] = spec["settings"]["threshold"]
    return result


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--paragraphs", type=int, default=1200, help="per MiniLM subject (default 1200)"
    )
    parser.add_argument(
        "--fast-paragraphs",
        type=int,
        default=40_000,
        help="per static-tier subject (default 40000)",
    )
    parser.add_argument(
        "--profile-paragraphs",
        type=int,
        default=8000,
        help="paragraphs of the static tier's profile (default 8000; 0: no profile)",
    )
    parser.add_argument("--rounds", type=int, default=4, help="rounds of alternating order")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write")
    return parser.parse_args()


def subjects_to_time(
    arguments: argparse.Namespace, sources: list[str], cache_root: Path, skipped: list[str]
) -> list[Subject]:
    """Every subject that can be measured here; the others are noted in `skipped`."""
    zoo = REPO / "models" / "zoo"
    plan = [
        (default_model_folder(), "torch", arguments.paragraphs),
        (default_model_folder(), "onnx-int8", arguments.paragraphs),
        (zoo / "static_logreg", "torch", arguments.fast_paragraphs),
        (zoo / "cascade", "torch", arguments.paragraphs),
        (zoo / "cascade", "onnx-int8", arguments.paragraphs),
    ]
    subjects = []
    for folder, backend, count in plan:
        kind = model_kind(folder)
        if kind is None:
            skipped.append(f"{relative(folder)}: no model there (run `make compare`)")
            continue
        try:
            subject = score_subject(folder, kind, backend, arguments, sources)
        except Exception as error:
            skipped.append(f"{relative(folder)} on {backend}: {first_line(error)}")
            continue
        subject.paragraphs = count
        subjects.append(subject)
    subjects.append(encoder_subject("torch", arguments, sources, cache_root))
    subjects.append(static_encoder_subject(arguments.fast_paragraphs, sources))
    return subjects


def escalation(subject: Subject) -> dict[str, Any] | None:
    """Share of paragraphs a cascade sent to its slow model (its counters, warm-up included)."""
    classifier = subject.model.model.classifier if subject.model is not None else None
    if getattr(classifier, "name", None) != "cascade" or not classifier.scored_:
        return None
    return {
        "subject": f"{subject.label} ({subject.backend})",
        "escalated": classifier.escalated_,
        "scored": classifier.scored_,
        "share": round(classifier.escalated_ / classifier.scored_, 3),
    }


def main() -> None:
    arguments = parse_arguments()
    if arguments.batch_size < 1:
        raise SystemExit("--batch-size must be at least 1")
    cache_root = isolate_stance_cache()
    from pipeline.encoders.base import use_offline_hub

    use_offline_hub()
    load_before = load_average()
    skipped: list[str] = []
    sources = seed_paragraphs()
    arguments.slow_paragraphs = arguments.paragraphs  # read by score_subject
    subjects = subjects_to_time(arguments, sources, cache_root, skipped)

    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as scratch:
        run_rounds(subjects, arguments.rounds, Path(scratch))
    busy = (time.process_time() - cpu) / (time.perf_counter() - wall)

    static_folder = REPO / "models" / "zoo" / "static_logreg"
    profile = None
    if arguments.profile_paragraphs and model_kind(static_folder):
        settings = argparse.Namespace(
            paragraphs=arguments.profile_paragraphs, batch_size=arguments.batch_size, top=10
        )
        profile = profile_backend(static_folder, "torch", sources, settings)

    records = [subject.record() for subject in subjects]
    reference = next(
        (r for r in records if r["kind"] == "raw_encoder" and r["backend"] == "torch"), None
    )
    for record in records:
        if reference and reference["paragraphs_per_s"] and record["paragraphs_per_s"]:
            speedup = record["paragraphs_per_s"] / reference["paragraphs_per_s"]
            record["x_raw_minilm"] = round(speedup, 1)
    static = next((r for r in records if r.get("model") == "static_logreg"), None)
    cascades = [share for share in map(escalation, subjects) if share is not None]
    result = {
        "settings": {
            "paragraphs": arguments.paragraphs,
            "fast_paragraphs": arguments.fast_paragraphs,
            "rounds": arguments.rounds,
            "batch_size": arguments.batch_size,
        },
        "measurements": records,
        "target_speedup": TARGET_SPEEDUP,
        "static_speedup": static.get("x_raw_minilm") if static else None,
        "static_speedup_met": bool(static and static.get("x_raw_minilm", 0) >= TARGET_SPEEDUP),
        "cascade_escalation": cascades,
        "accuracy": accuracy(default_model_folder()),
        "static_profile": profile,
        "target_f1_gap_points": round(100 * TARGET_F1_GAP, 1),
        "skipped": skipped,
        "notes": [
            "stance_score: in-process read, segment, score, bootstrap and jsonl write, "
            "persistent cache off, load apart (load_s); x_raw_minilm: paragraphs/s over the "
            "raw MiniLM encoder's on PyTorch, measured in the same rounds",
            "cascade escalation: the share of the benchmark corpus (the seed paragraphs, "
            "cycled) that the static tier was unsure of; it depends on the corpus",
            "accuracy: leave-one-source-out over the gold paragraphs, from metrics/eval.json "
            "and metrics/zoo/*.json; the sweep recombines the two parts' out-of-fold labels",
            "static_profile: the static tier scoring under cProfile after the timed rounds, "
            "its time split into parts as profile_score.py does",
        ],
        "machine": {
            **machine_facts(),
            "load_average_before": load_before,
            "cpu_share_while_measuring": round(busy / len(os.sched_getaffinity(0)), 2),
        },
    }
    write_result(arguments.results_dir, "static_tier", result)


if __name__ == "__main__":
    main()
