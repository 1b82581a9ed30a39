"""The model card's provenance: the commit of the model's inputs, and whether they were dirty."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.train.card import git_provenance, library_versions, render_card
from tests.conftest import REPO


def test_provenance_inside_and_outside_a_work_tree(tmp_path: Path) -> None:
    inside = git_provenance(REPO)
    assert inside["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", inside["commit"])
    assert inside["dirty"] in (True, False, None)
    assert git_provenance(tmp_path) == {"commit": None, "dirty": None}


def test_card_renders_every_section() -> None:
    card = {
        "model": "tfidf_logreg",
        "proposition": {"id": "p", "text": "Cats can be trained"},
        "labels": ["favor", "against", "none"],
        "training": {
            "rows": 3,
            "by_provenance": {"gold": 3},
            "by_label": {"favor": 1, "against": 1, "none": 1},
            "data_sha256": "0" * 64,
        },
        "grouped_cv": {"macro_f1": 0.5, "n": 3, "folds": 2, "per_class": {}},
        "temperature": 1.0,
        "settings": {"C": 1.0},
        "seed": 1,
        "git": {"commit": "abc", "dirty": True},
        "libraries": library_versions(),
    }
    text = render_card(card)
    assert '*"Cats can be trained"*' in text and "macro-F1 **0.5**" in text
    assert "`abc` (with uncommitted changes)" in text
    assert "scikit-learn" in text
