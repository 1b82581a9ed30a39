"""`pipeline.evaluate.behaviour` with a fake classifier: the cases file's validation, the
pass rates it computes, and the `stance behaviour` stage end to end on a tiny model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pytest
import yaml

from pipeline.config import load_params
from pipeline.errors import InputDataError
from pipeline.evaluate.behaviour import (
    BehaviourCase,
    groups,
    margin_shift,
    read_cases,
    score_behaviour,
)
from pipeline.models.base import StanceClassifier
from pipeline.models.persist import save_model
from pipeline.models.tfidf_logreg import TfidfLogreg
from tests.conftest import REPO, run_module

LABELS = ("favor", "against", "none")


class KeywordClassifier(StanceClassifier):
    """Probabilities fixed by the first keyword a text contains: enough to score by hand."""

    name = "keyword"
    TABLE: ClassVar[dict[str, tuple[float, float, float]]] = {
        "apart": (0.7, 0.2, 0.1),
        "together": (0.2, 0.7, 0.1),
        "weather": (0.1, 0.2, 0.7),
    }

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        rows = [
            next((p for word, p in self.TABLE.items() if word in text), (0.4, 0.4, 0.2))
            for text in texts
        ]
        return np.asarray(rows, dtype=float)

    def save(self, folder: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        raise NotImplementedError


def case(case_id: str, group: str, text: str, label: str, **fields: Any) -> dict:
    kind = fields.pop("kind", "pair")
    return {
        "id": case_id,
        "kind": kind,
        "group": group,
        "rule": fields.pop("rule", 5 if kind == "pair" else None),
        "perturbation": fields.pop("perturbation", None if kind == "pair" else "city"),
        "text": text,
        "label": label,
        "note": "written for this test",
        **fields,
    }


GOOD = [
    case("p1-1", "p1", "They drift apart.", "favor"),  # right
    case("p1-2", "p1", "They hold together.", "against"),  # right
    case("p2-1", "p2", "Mild weather.", "none"),  # right
    case("p2-2", "p2", "The weather turns warmer.", "favor"),  # wrong
    case("p3-1", "p3", "They stay together.", "against", rule=12),  # right
    case("p3-2", "p3", "They claim to be together.", "none", rule=12),  # wrong
    case("i1-1", "i1", "In Harbin they drift apart.", "favor", kind="invariance"),
    case("i1-2", "i1", "In Omsk they drift apart.", "favor", kind="invariance"),
    case("i2-1", "i2", "In Harbin, weather.", "none", kind="invariance"),
    case("i2-2", "i2", "In Omsk, nothing.", "none", kind="invariance"),  # flips (0.4, 0.4, 0.2)
]


def write_cases(path: Path, records: Sequence[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def good_cases(tmp_path: Path) -> list[BehaviourCase]:
    return read_cases(write_cases(tmp_path / "cases.jsonl", GOOD), LABELS)


def test_pass_rates_are_counted_per_rule_and_overall(good_cases: list[BehaviourCase]) -> None:
    metrics = score_behaviour(KeywordClassifier(labels=LABELS), good_cases)
    assert metrics["cases"] == 10
    assert metrics["rules"]["5"] == {
        "cases": 4,
        "pairs": 2,
        "label_pass_rate": 0.75,
        "pair_pass_rate": 0.5,
        "directional_pass_rate": 0.5,
        # p1: margin of against over favor moves -0.5 -> +0.5; p2: favor over none, -0.6 -> -0.6
        "mean_margin_shift": 0.5,
    }
    assert metrics["rules"]["12"]["label_pass_rate"] == 0.5
    assert metrics["rules"]["12"]["pair_pass_rate"] == 0.0
    # p3: none over against, -0.6 at "stay together" and -0.6 at "claim to be together"
    assert metrics["rules"]["12"]["directional_pass_rate"] == 0.0
    assert metrics["invariance"]["city"] == {
        "cases": 4,
        "groups": 2,
        "label_pass_rate": 0.75,
        "unchanged_rate": 0.5,
        "max_probability_shift": 0.5,
    }
    assert metrics["overall"] == {
        "label_pass_rate": 0.7,
        "pairs": 3,
        "pair_pass_rate": round(1 / 3, 4),
        "directional_pass_rate": round(1 / 3, 4),
        "invariance_groups": 2,
        "invariance_rate": 0.5,
    }
    assert metrics["failed"] == ["i2-2", "p2-2", "p3-2"]


def test_the_margin_shift_follows_the_pair_order(good_cases: list[BehaviourCase]) -> None:
    pair = groups(good_cases)["p1"]
    probs = dict(
        zip(
            [c.case_id for c in pair],
            KeywordClassifier(labels=LABELS).predict_proba([c.text for c in pair]),
            strict=True,
        )
    )
    assert margin_shift(pair, probs, LABELS) == pytest.approx(1.0)
    assert margin_shift(pair[::-1], probs, LABELS) == pytest.approx(1.0)
    probs["p1-2"] = probs["p1-1"]
    assert margin_shift(pair, probs, LABELS) == 0.0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ({**GOOD[1], "label": "maybe"}, "label 'maybe' is not one of favor, against, none"),
        ({**GOOD[1], "extra": 1}, "extra: unknown key"),
        ({**GOOD[1], "rule": "5"}, "rule: Input should be a valid integer"),
        ({**GOOD[1], "rule": None}, "a pair names its rule and no perturbation"),
        ({**GOOD[1], "kind": "triple"}, "kind: Input should be 'pair' or 'invariance'"),
        ({**GOOD[1], "id": "p1-1"}, "same id as line 1"),
        ({**GOOD[1], "text": GOOD[0]["text"]}, "same text as line 1"),
        ({**GOOD[1], "label": "favor"}, "the two cases of a pair take different labels"),
        ({**GOOD[1], "rule": 6}, "kind, rule and perturbation differ from line 1"),
    ],
)
def test_a_bad_line_is_one_error_naming_file_and_line(
    tmp_path: Path, line: dict, expected: str
) -> None:
    path = write_cases(tmp_path / "cases.jsonl", [GOOD[0], line])
    with pytest.raises(InputDataError) as caught:
        read_cases(path, LABELS)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: ") and expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([GOOD[0]], ":1: group 'p1': a pair has exactly 2 cases, not 1"),
        ([*GOOD[:2], {**GOOD[1], "id": "p1-3", "text": "x"}], ":3: group 'p1': a pair has"),
        ([GOOD[6]], ":1: group 'i1': an invariance group has at least 2 cases"),
        ([GOOD[6], {**GOOD[7], "label": "none"}], ":2: group 'i1': an invariance group keeps"),
        ([{**GOOD[6], "perturbation": None}], ":1: an invariance case names its perturbation"),
    ],
)
def test_groups_are_checked(tmp_path: Path, records: list[dict], expected: str) -> None:
    path = write_cases(tmp_path / "cases.jsonl", records)
    with pytest.raises(InputDataError, match=expected):
        read_cases(path, LABELS)


def test_broken_json_and_a_missing_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(GOOD[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"cases.jsonl:2: not valid JSON"):
        read_cases(path, LABELS)
    with pytest.raises(InputDataError, match=r"gone.jsonl: behaviour cases not found"):
        read_cases(tmp_path / "gone.jsonl", LABELS)


def test_the_repository_cases_cover_every_rule_with_three_pairs() -> None:
    params = load_params(REPO / "params.yaml")
    cases = read_cases(params.paths.behaviour, params.labels)
    pairs_per_rule: dict[int, int] = {}
    for members in groups(cases).values():
        if members[0].kind == "pair":
            pairs_per_rule[members[0].rule] = pairs_per_rule.get(members[0].rule, 0) + 1
    assert sorted(pairs_per_rule) == list(range(1, 18))
    assert min(pairs_per_rule.values()) >= 3
    kinds = {c.perturbation for c in cases if c.kind == "invariance"}
    assert {"moscow-kremlin", "beijing-leadership", "outlet", "date", "city"} <= kinds
    assert 120 <= len(cases) <= 160


def _project(tmp_path: Path, records: Sequence[dict]) -> Path:
    """A params file whose cases are `records` and whose model is a TF-IDF fitted on them."""
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["paths"].update(
        corpus_dir="corpus",
        manifest="corpus/sources.csv",
        behaviour="cases.jsonl",
        behaviour_metrics="metrics/behaviour.json",
        models="models",
    )
    params["train"]["model"] = "tfidf_logreg"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    write_cases(tmp_path / "cases.jsonl", records)
    model = TfidfLogreg(labels=LABELS, seed=0, ngram_max=1, min_df=1, C=4.0)
    model.fit([r["text"] for r in GOOD], [r["label"] for r in GOOD])
    card = {"model": "tfidf_logreg", "model_id": "tfidf_logreg-test"}
    save_model(model, tmp_path / "models" / "tfidf_logreg", temperature=1.0, card=card, readme="")
    return tmp_path / "params.yaml"


def test_the_stage_writes_the_same_metrics_twice(tmp_path: Path) -> None:
    params = _project(tmp_path, GOOD)
    output = tmp_path / "metrics" / "behaviour.json"
    first = run_module("pipeline", "behaviour", "-p", str(params), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = output.read_bytes()
    metrics = json.loads(written)
    assert metrics["model_id"] == "tfidf_logreg-test" and metrics["cases"] == 10
    assert set(metrics["rules"]) == {"5", "12"} and set(metrics["invariance"]) == {"city"}
    assert run_module("pipeline", "behaviour", "-p", str(params), cwd=tmp_path).returncode == 0
    assert output.read_bytes() == written


def test_the_stage_reports_a_bad_case_in_one_line(tmp_path: Path) -> None:
    params = _project(tmp_path, [GOOD[0], {**GOOD[1], "label": "maybe"}])
    result = run_module("pipeline", "behaviour", "-p", str(params), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith("stance: error: cases.jsonl:2: label")
    assert not (tmp_path / "metrics" / "behaviour.json").exists()
