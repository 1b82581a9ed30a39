"""Fixtures for `stance compare`: two real TF-IDF models that disagree on some paragraphs,
each saved with the out-of-fold predictions of a small leave-one-source-out loop.

The sentences are written for these tests: three invented outlets, six gold
paragraphs each, and a few training examples that are never evaluated.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.models.persist import save_model
from pipeline.models.tfidf_logreg import TfidfLogreg
from pipeline.text import sha256_hex
from tests.conftest import run_cli
from tests.reliability.conftest import mini, mini_template  # noqa: F401  (a small project)

LABELS = ("favor", "against", "none")

# (source, text, gold)
GOLD = [
    ("Harbor Gazette", "Moscow grumbles that Beijing treats it as a junior partner.", "favor"),
    ("Harbor Gazette", "Chinese lenders quietly cut credit lines to Russian firms.", "favor"),
    (
        "Harbor Gazette",
        "The Kremlin and Beijing signed yet another pact of eternal friendship.",
        "against",
    ),
    ("Harbor Gazette", "Russia has nowhere else to sell its oil but China.", "against"),
    ("Harbor Gazette", "The harbor festival drew record crowds this weekend.", "none"),
    ("Harbor Gazette", "Local bakeries raised bread prices again in March.", "none"),
    (
        "Steppe Review",
        "Russian officials privately fear dependence on Chinese technology.",
        "favor",
    ),
    (
        "Steppe Review",
        "A warmer line from Washington could tempt Moscow to hedge against Beijing.",
        "favor",
    ),
    (
        "Steppe Review",
        "Putin and Xi stand shoulder to shoulder against Western pressure.",
        "against",
    ),
    (
        "Steppe Review",
        "Trade between Russia and China hit another record, binding them closer.",
        "against",
    ),
    ("Steppe Review", "The regional football final ended in a draw after extra time.", "none"),
    ("Steppe Review", "Snow closed the mountain pass for two days.", "none"),
    (
        "Northern Wire",
        "Distrust between Moscow and Beijing runs deeper than their summits show.",
        "favor",
    ),
    ("Northern Wire", "Kremlin advisers talk openly about reducing reliance on China.", "favor"),
    ("Northern Wire", "No Western offer will pry Russia away from its Chinese partner.", "against"),
    ("Northern Wire", "Beijing and Moscow coordinate closely at the United Nations.", "against"),
    ("Northern Wire", "The city council approved a new cycling lane downtown.", "none"),
    ("Northern Wire", "A museum reopened its maritime gallery after renovation.", "none"),
]

# Written training examples: they train every fold and are never evaluated.
EXAMPLES = [
    ("Russia resents Chinese dominance and looks for other partners.", "favor"),
    ("Moscow and Beijing distrust each other behind the smiles.", "favor"),
    ("The friendship between Russia and China is unbreakable.", "against"),
    ("Russia depends on China and has no alternative.", "against"),
    ("The ferry timetable changes in May.", "none"),
    ("Subscribe to our newsletter for weekly updates.", "none"),
]
MORE_EXAMPLES = [
    ("Chinese banks refuse Russian payments, straining ties with Moscow.", "favor"),
    ("A deal with Washington could pull the Kremlin away from Beijing.", "favor"),
    ("Putin and Xi praised a partnership stronger than any alliance.", "against"),
    ("Sanctions push Moscow ever closer to Beijing.", "against"),
    ("The weather stayed mild for the season.", "none"),
    ("Tickets for the concert sold out within an hour.", "none"),
]


def gold_frame() -> pd.DataFrame:
    """The gold paragraphs with pipeline-style ids (<doc>:<text hash>)."""
    rows = [
        {
            "paragraph_id": f"{index // 6:03d}_test:{sha256_hex(text)[:12]}",
            "source": source,
            "text": text,
            "gold": gold,
        }
        for index, (source, text, gold) in enumerate(GOLD)
    ]
    return pd.DataFrame(rows)


def out_of_fold(
    gold: pd.DataFrame, examples: Sequence[tuple[str, str]], *, C: float, model_id: str
) -> pd.DataFrame:
    """Each source's gold paragraphs predicted by a model fitted without that source,
    in the columns `stance train` saves as oof.parquet (temperature 1: raw = calibrated)."""
    frames = []
    for source in sorted(gold["source"].unique()):
        train = gold[gold["source"] != source]
        texts = list(train["text"]) + [text for text, _ in examples]
        labels = list(train["gold"]) + [label for _, label in examples]
        model = TfidfLogreg(labels=LABELS, seed=0, C=C).fit(texts, labels)
        test = gold[gold["source"] == source].copy()
        probabilities = model.predict_proba(list(test["text"]))
        test.insert(2, "model_id", model_id)
        test["label"] = [LABELS[column] for column in probabilities.argmax(axis=1)]
        for column, label in enumerate(LABELS):
            test[f"prob_{label}"] = probabilities[:, column]
        for column, label in enumerate(LABELS):
            test[f"raw_prob_{label}"] = probabilities[:, column]
        frames.append(test)
    return pd.concat(frames, ignore_index=True)


def build_model(
    folder: Path,
    *,
    C: float,
    examples: Sequence[tuple[str, str]],
    model_id: str,
    with_out_of_fold: bool = True,
) -> pd.DataFrame:
    """Fit and save a tfidf_logreg model folder with a card; return its out-of-fold frame."""
    gold = gold_frame()
    oof = out_of_fold(gold, examples, C=C, model_id=model_id)
    texts = list(gold["text"]) + [text for text, _ in examples]
    labels = list(gold["gold"]) + [label for _, label in examples]
    classifier = TfidfLogreg(labels=LABELS, seed=0, C=C).fit(texts, labels)
    card = {
        "model": "tfidf_logreg",
        "model_id": model_id,
        "labels": list(LABELS),
        "settings": classifier.saved_settings(),
        "seed": 0,
        "training": {
            "rows": len(texts),
            "by_label": {label: labels.count(label) for label in LABELS},
            "data_sha256": sha256_hex("\n".join(texts)),
            "options": {"use_synthetic": True},
        },
        "temperature": 1.0,
        "grouped_cv": {"macro_f1": 0.5 + C / 100},
        "libraries": {"scikit-learn": "test"},
        "git": {"commit": None, "dirty": None},
    }
    save_model(
        classifier,
        folder,
        temperature=1.0,
        card=card,
        readme="# test model\n",
        out_of_fold=oof if with_out_of_fold else None,
    )
    return oof


# B has weaker regularisation (larger C) and twice the examples: on the gold set it
# fixes two paragraphs A gets wrong and breaks one A gets right.
MODEL_A = {"C": 4.0, "examples": MORE_EXAMPLES, "model_id": "tfidf_logreg-aaaaaaaaaa"}
MODEL_B = {"C": 20.0, "examples": EXAMPLES + MORE_EXAMPLES, "model_id": "tfidf_logreg-bbbbbbbbbb"}


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two model folders, A then B, that differ in C and training examples."""
    root = tmp_path_factory.mktemp("compare_models")
    build_model(root / "a", **MODEL_A)
    build_model(root / "b", **MODEL_B)
    return root / "a", root / "b"


stance = run_cli  # `stance ARGS` in this process: exit code, stdout, stderr


def git(root: Path, *args: str) -> str:
    """Run git in `root` with a throwaway identity; return its output."""
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    done = subprocess.run(
        ["git", *identity, "-c", "commit.gpgsign=false", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def probabilities_frame(
    probabilities: Sequence[Sequence[float]], gold: Sequence[str], sources: Sequence[str]
) -> pd.DataFrame:
    """A hand-made out-of-fold frame (paragraphs p0, p1, ...)."""
    probs = np.asarray(probabilities, dtype=float)
    frame = pd.DataFrame(
        {
            "paragraph_id": [f"p{index}" for index in range(len(probs))],
            "source": list(sources),
            "gold": list(gold),
            "text": [f"Paragraph number {index}." for index in range(len(probs))],
        }
    )
    for column, label in enumerate(LABELS):
        frame[f"prob_{label}"] = probs[:, column]
    return frame
