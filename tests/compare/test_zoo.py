"""`stance zoo NAME`: one model evaluated and trained like the default, beside it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_module
from tests.reliability.conftest import MiniProject, run_pipeline, tree_bytes

pytestmark = pytest.mark.slow


def test_zoo_model_lands_beside_the_default_and_leaves_it_alone(mini: MiniProject) -> None:
    run_pipeline(mini.params)  # the default pipeline (tfidf_logreg in this project)
    default = {folder: tree_bytes(mini.root / folder) for folder in ("data", "metrics", "models")}
    done = run_module("pipeline", "zoo", "embed_logreg", cwd=mini.root)
    assert done.returncode == 0, done.stderr
    folder = mini.root / "models" / "zoo" / "embed_logreg"
    assert {"card.json", "model.json", "oof.parquet"} <= {p.name for p in folder.iterdir()}
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    metrics = json.loads((mini.root / "metrics/zoo/embed_logreg.json").read_text("utf-8"))
    assert card["model"] == "embed_logreg" and metrics["model_id"] == card["model_id"]
    assert card["grouped_cv"] == metrics
    headlines = mini.root / "metrics" / "zoo" / "headline"
    headline = json.loads((headlines / "embed_logreg.json").read_text("utf-8"))
    assert headline["macro_f1"] == metrics["macro_f1"] and headline["n"] == metrics["n"]
    assert (headlines / "embed_logreg.dev.json").is_file()
    oof = pd.read_parquet(folder / "oof.parquet")
    assert len(oof) == 9 and oof["text"].str.len().gt(0).all()
    # The default pipeline's outputs are untouched (the zoo only adds files).
    for name, files in default.items():
        now = tree_bytes(mini.root / name)
        assert {k: v for k, v in now.items() if k in files} == files
    # And the two models compare on the same gold paragraphs.
    compared = run_module(
        "pipeline", "compare", "models/tfidf_logreg", str(folder), "-f", "json", cwd=mini.root
    )
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)["comparisons"][0]["n_paragraphs"] == 9


def test_unknown_zoo_model_is_one_line(mini: MiniProject) -> None:
    done = run_module("pipeline", "zoo", "bert_magic", cwd=mini.root)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "stance: error: bert_magic: unknown model; one of tfidf_logreg, embed_logreg, "
        "hybrid_logreg, static_logreg, cascade, setfit, transformer, cross_encoder, ensemble"
    )
