"""SetFit classifier: output contract, determinism, safe save/load, long paragraphs.

Tiny data and four contrastive steps: these tests check the plumbing, not accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.models.chunking import pool
from pipeline.models.setfit_model import SetFitClassifier, _windows

# Three fine-tuning runs: ~12 s on two idle cores, over a minute when they are shared.
pytestmark = pytest.mark.slow

LABELS = ("favor", "against", "none")
TINY = {"max_steps": 4, "batch_size": 4}

TRAINING = [
    ("Lifting the sanctions would bring Moscow back to the table.", "favor"),
    ("Easing sanctions is the fastest route to a negotiated peace.", "favor"),
    ("Trade with Russia should resume; the embargo hurts Europe most.", "favor"),
    ("Ending the restrictions would help farmers and families alike.", "favor"),
    ("The sanctions must stay until every soldier has gone home.", "against"),
    ("Relief now would reward aggression and invite the next war.", "against"),
    ("Keep the embargo in place; pressure is finally working.", "against"),
    ("Any easing of sanctions would betray our allies in Kyiv.", "against"),
    ("The summit opens on Tuesday in Geneva.", "none"),
    ("Ministers met for three hours and released no statement.", "none"),
    ("The rouble traded flat against the dollar this morning.", "none"),
    ("Rain is expected across the capital over the weekend.", "none"),
]
TEXTS = [text for text, _ in TRAINING]
TARGETS = [label for _, label in TRAINING]
PROBES = [
    "Sanctions relief would open the door to a settlement.",
    "We must not lift a single sanction while the war goes on.",
    "The delegation arrived by train shortly after noon.",
]


def long_paragraph() -> str:
    """Sixty sentences, far beyond MiniLM's 256 word pieces, drifting from one stance to another."""
    first = [f"Lifting sanctions on point {i} would help ordinary people trade." for i in range(30)]
    second = [f"Weather report number {i} says the harbour stays calm today." for i in range(30)]
    return " ".join(first + second)


@pytest.fixture(scope="module")
def fitted() -> SetFitClassifier:
    return SetFitClassifier(labels=LABELS, seed=7, **TINY).fit(TEXTS, TARGETS)


def test_probabilities_follow_labels_and_sum_to_one(fitted: SetFitClassifier) -> None:
    probabilities = fitted.predict_proba(PROBES)

    assert probabilities.shape == (len(PROBES), len(LABELS))
    assert list(fitted.classes_) == list(LABELS)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert fitted.predict(PROBES)[0] in LABELS
    assert fitted.predict_proba([]).shape == (0, len(LABELS))


def test_a_class_missing_from_training_gets_a_zero_column() -> None:
    model = SetFitClassifier(labels=("unused", *LABELS), seed=7, **TINY).fit(TEXTS, TARGETS)

    probabilities = model.predict_proba(PROBES)

    assert probabilities.shape == (len(PROBES), 4)
    assert np.all(probabilities[:, 0] == 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_same_seed_same_model(fitted: SetFitClassifier) -> None:
    again = SetFitClassifier(labels=LABELS, seed=7, **TINY).fit(TEXTS, TARGETS)

    np.testing.assert_array_equal(again.predict_proba(PROBES), fitted.predict_proba(PROBES))


def test_save_and_load_give_the_same_probabilities_without_pickle(
    fitted: SetFitClassifier, tmp_path: Path
) -> None:
    fitted.save(tmp_path)
    loaded = SetFitClassifier.load(tmp_path, labels=LABELS, seed=7, **TINY)

    assert not list(tmp_path.rglob("*.pkl"))
    assert not list(tmp_path.rglob("*.bin"))
    assert (tmp_path / "body" / "model.safetensors").is_file()
    assert (tmp_path / "head.skops").is_file()
    np.testing.assert_array_equal(loaded.predict_proba(PROBES), fitted.predict_proba(PROBES))


def test_a_long_paragraph_is_the_pool_of_its_windows(fitted: SetFitClassifier) -> None:
    text = long_paragraph()
    windows, owners, weights = _windows(fitted.model_, [text])
    assert len(windows) > 1

    whole = fitted.predict_proba([text])
    per_window = fitted.predict_proba(windows)

    np.testing.assert_allclose(whole, pool(per_window, owners, weights, 1), atol=1e-6)
    assert not np.allclose(whole, per_window[:1], atol=1e-6)
