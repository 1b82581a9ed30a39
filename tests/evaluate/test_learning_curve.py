"""The learning curve: sizes, stratified and seeded draws, what trains and what tests.

A hand-made labels table (three outlets, twelve gold paragraphs, written examples
of every label) and the TF-IDF model keep every run well under a second.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.evaluate.learning_curve import (
    CurvePoint,
    curve_sizes,
    draw_gold_subset,
    learning_curve,
    plan_points,
    run_curve,
    source_quotas,
    summarise,
)
from pipeline.models.base import StanceClassifier
from pipeline.train.data import gold_rows
from tests.conftest import run_cli, write_params
from tests.label.conftest import update_params

TEXTS = {
    "favor": "Moscow and Beijing stand together, partners in an unbreakable friendship {}.",
    "against": "Distrust and a rift pull Russia and China apart; the Kremlin resents it {}.",
    "none": "The ferry timetable changes on Thursday because of the weather {}.",
}
# Outlet -> labels of its gold paragraphs: 6 + 4 + 2 = 12, uneven on purpose.
GOLD = {
    "Outlet A": ["favor", "against", "none", "favor", "none", "against"],
    "Outlet B": ["against", "none", "favor", "none"],
    "Outlet C": ["favor", "none"],
}
N_GOLD = sum(len(labels) for labels in GOLD.values())


def labels_table() -> pd.DataFrame:
    rows = []
    for source, labels in GOLD.items():
        for number, label in enumerate(labels):
            pid = f"{source[-1].lower()}{number}"
            rows.append((pid, source, TEXTS[label].format(pid), label, 1.0, "gold"))
    for number, label in enumerate(["favor", "against", "none"] * 2):
        pid = f"s{number}"
        rows.append((pid, "synthetic", TEXTS[label].format(pid), label, 1.0, "synthetic"))
    columns = ["paragraph_id", "source", "text", "label", "confidence", "provenance"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(1, "doc_id", frame["source"])
    return frame


@pytest.fixture
def project(tmp_path: Path) -> Params:
    """Params of a tiny project whose labels.parquet is `labels_table()` (TF-IDF model)."""
    params = update_params(
        write_params(tmp_path),
        **{
            "train.model": "tfidf_logreg",
            "annotate.curve_sizes": [20, 4, 8],  # 20 > 12 gold: dropped
            "annotate.curve_repeats": 2,
            "annotate.seed": 5,
        },
    )
    params.paths.labels.parent.mkdir(parents=True, exist_ok=True)
    labels_table().to_parquet(params.paths.labels)
    return params


def outputs(params: Params) -> list[bytes]:
    return [
        (params.paths.reports / f"learning_curve.{suffix}").read_bytes()
        for suffix in ("json", "csv", "png")
    ]


def test_the_curve_caps_sizes_ends_with_the_full_set_and_writes_three_files(
    project: Params,
) -> None:
    result = run_curve(project)
    stored = json.loads((project.paths.reports / "learning_curve.json").read_text())
    assert stored == result
    assert stored["model"] == "tfidf_logreg" and stored["model_id"].startswith("tfidf_logreg-")
    assert stored["settings"]["sizes"] == [4, 8, N_GOLD]
    assert any("dropped: 20" in note for note in stored["notes"])
    assert [(p["size"], p["repeat"]) for p in stored["points"]] == [
        (4, 0),
        (4, 1),
        (8, 0),
        (8, 1),
        (N_GOLD, 0),  # the full set once: all its draws are the same
    ]
    assert [row["size"] for row in stored["summary"]] == [4, 8, N_GOLD]
    for row in stored["summary"]:
        assert set(row) == {"size", "repeats", "mean", "min", "max", "std"}
        assert row["min"] <= row["mean"] <= row["max"]
    for point in stored["points"]:
        assert set(point) >= {"size", "repeat", "macro_f1", "f_avg", "accuracy"}
        assert point["n"] == N_GOLD  # the test side is always all gold
        assert sum(point["gold_per_source"].values()) == point["size"]
    assert 0 < stored["baseline_always_none_macro_f1"] < 1
    assert "time" not in json.dumps(stored)  # nothing that changes between runs
    csv_rows = (project.paths.reports / "learning_curve.csv").read_text().splitlines()
    assert csv_rows[0] == "size,repeat,macro_f1,f_avg,accuracy,n" and len(csv_rows) == 6
    assert outputs(project)[2].startswith(b"\x89PNG")


def test_the_same_seed_gives_identical_files_and_another_seed_other_draws(
    project: Params,
) -> None:
    run_curve(project)
    first = outputs(project)
    run_curve(project)
    assert outputs(project) == first  # JSON, CSV and PNG bytes alike
    gold = gold_rows(labels_table())
    draws = {tuple(draw_gold_subset(gold, 6, seed, 0)) for seed in range(5)}
    assert len(draws) > 1


def test_draws_keep_each_source_share_of_the_gold() -> None:
    counts = {source: len(labels) for source, labels in GOLD.items()}
    assert source_quotas(counts, 6) == {"Outlet A": 3, "Outlet B": 2, "Outlet C": 1}
    assert source_quotas(counts, N_GOLD) == counts
    # 60 gold from five outlets as in the project: 10 labels split 3, 3, 2, 1, 1.
    project_counts = {"P": 18, "M": 17, "U": 11, "A": 8, "E": 6}
    assert source_quotas(project_counts, 10) == {"P": 3, "M": 3, "U": 2, "A": 1, "E": 1}
    for size in range(N_GOLD + 1):
        quotas = source_quotas(counts, size)
        assert sum(quotas.values()) == size
        assert all(0 <= quotas[s] <= counts[s] for s in counts)
    gold = gold_rows(labels_table())
    drawn = draw_gold_subset(gold, 6, 1, 0)
    assert drawn == draw_gold_subset(gold, 6, 1, 0)
    per_source = gold.set_index("paragraph_id").loc[drawn, "source"].value_counts().to_dict()
    assert per_source == {"Outlet A": 3, "Outlet B": 2, "Outlet C": 1}


def test_sizes_are_sorted_capped_and_end_with_the_full_set() -> None:
    assert curve_sizes((60, 10, 70, 30), 50) == ([10, 30, 50], [60, 70])
    assert curve_sizes((10, 20), 20) == ([10, 20], [])
    assert plan_points([4, 12], 3, 12) == [(4, 0), (4, 1), (4, 2), (12, 0)]


class SpyClassifier(StanceClassifier):
    """Records the texts of every fit and every prediction; predicts `none`."""

    name = "spy"
    fitted: ClassVar[list[list[str]]] = []
    predicted: ClassVar[list[list[str]]] = []

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        self._check_fit_input(texts, labels)
        SpyClassifier.fitted.append(list(texts))
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        SpyClassifier.predicted.append(list(texts))
        return np.tile([0.1, 0.1, 0.8], (len(texts), 1))

    def save(self, folder: Path) -> None:  # pragma: no cover - not used here
        raise NotImplementedError

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        raise NotImplementedError  # pragma: no cover


def test_only_drawn_gold_trains_while_every_point_tests_all_gold(project: Params) -> None:
    table = labels_table()
    gold = gold_rows(table)
    text_of = dict(zip(table["paragraph_id"], table["text"], strict=True))
    synthetic = set(table.loc[table["provenance"] == "synthetic", "text"])
    folds = len(GOLD)
    for size, repeat in [(4, 0), (8, 1)]:
        SpyClassifier.fitted, SpyClassifier.predicted = [], []
        learning_curve(
            table, project, lambda: SpyClassifier(labels=project.labels), [(size, repeat)]
        )
        drawn = {
            text_of[pid] for pid in draw_gold_subset(gold, size, project.annotate.seed, repeat)
        }
        assert len(SpyClassifier.fitted) == folds
        for seen in SpyClassifier.fitted:
            assert synthetic <= set(seen)  # written examples train as in the stage
            assert set(seen) - synthetic <= drawn
        tested = [text for batch in SpyClassifier.predicted for text in batch]
        assert sorted(tested) == sorted(gold["text"])


def test_summary_statistics() -> None:
    points = [CurvePoint(4, r, f, 0.0, 0.0, 12, {}) for r, f in enumerate([0.5, 0.7, 0.6])]
    assert summarise(points) == [
        {"size": 4, "repeats": 3, "mean": 0.6, "min": 0.5, "max": 0.7, "std": 0.0816}
    ]


def test_a_missing_labels_file_is_one_error_line(tmp_path: Path) -> None:
    params_path = write_params(tmp_path)
    code, _, stderr = run_cli("annotate", "curve", "--params", str(params_path))
    assert code != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stance: error:")
    assert "labels.parquet: not found" in lines[0]
