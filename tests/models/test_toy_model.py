"""A model defined and registered outside `pipeline/` goes through the whole zoo: params
validate its section, `stance zoo`'s code path evaluates and trains it, the folder loads
back and predicts the same, and `stance compare` sets it beside another model."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from pipeline.config import Params, parse_params, read_yaml
from pipeline.errors import ConfigError
from pipeline.label.stage import run_label
from pipeline.models.base import StanceClassifier
from pipeline.models.factory import build_model
from pipeline.models.persist import load_model, save_model
from pipeline.models.registry import MODELS, register_model
from pipeline.models.settings import ClassifierSettings
from pipeline.train.zoo import build_zoo_model
from tests.conftest import REPO, run_module
from tests.label.conftest import (  # the fixture is shared with the label tests
    BagOfWordsEncoder,
    annotated_corpus,  # noqa: F401
)

_COUNTS = "word_counts.json"


class WordCountSettings(ClassifierSettings):
    """`train.models.word_counts`: add-`smoothing` word counts per label."""

    smoothing: float = Field(default=1.0, gt=0)


class WordCounts(StanceClassifier):
    """Naive Bayes in a dozen lines: how often each label's training texts use each word."""

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        self._check_fit_input(texts, labels)
        self.counts_ = {label: {} for label in self.labels}
        for text, label in zip(texts, labels, strict=True):
            for word in text.lower().split():
                self.counts_[label][word] = self.counts_[label].get(word, 0) + 1
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        smoothing = self.setting("smoothing")
        scores = np.zeros((len(texts), len(self.labels)))
        for row, text in enumerate(texts):
            for column, label in enumerate(self.labels):
                counts = self.counts_[label]
                total = sum(counts.values()) + smoothing * 1000
                scores[row, column] = sum(
                    np.log((counts.get(word, 0) + smoothing) / total)
                    for word in text.lower().split()
                )
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def save(self, folder: Path) -> None:
        (folder / _COUNTS).write_text(json.dumps(self.counts_, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        model = cls(labels=labels, seed=seed, **settings)
        model.counts_ = json.loads((folder / _COUNTS).read_text(encoding="utf-8"))
        return model


@pytest.fixture
def word_counts() -> Iterator[str]:
    """`word_counts` registered for one test (the registry is per process)."""
    register_model("word_counts", WordCountSettings)(WordCounts)
    try:
        yield "word_counts"
    finally:
        del MODELS["word_counts"]


@pytest.fixture
def labelled(word_counts: str, annotated_corpus: Callable[..., Params]) -> Params:  # noqa: F811
    params = annotated_corpus(
        **{"train.model": word_counts, f"train.models.{word_counts}.smoothing": 0.5}
    )
    run_label(params, encoder=BagOfWordsEncoder())
    return params


def with_section(section: dict[str, Any]) -> dict[str, Any]:
    raw = read_yaml(REPO / "params.yaml", what="params file")
    raw["train"] = {**raw["train"], "model": "word_counts"}
    raw["train"]["models"] = {**raw["train"]["models"], "word_counts": section}
    return raw


def test_its_settings_are_validated_with_their_dotted_key(word_counts: str) -> None:
    params = parse_params(with_section({"smoothing": 0.5}))
    assert params.train.models.word_counts == WordCountSettings(smoothing=0.5)
    assert parse_params(with_section({})).train.models.word_counts.smoothing == 1.0
    with pytest.raises(ConfigError, match=r"train\.models\.word_counts\.smoothing: Input should"):
        parse_params(with_section({"smoothing": 0}))
    with pytest.raises(ConfigError, match=r"train\.models\.word_counts\.typo: unknown key"):
        parse_params(with_section({"typo": 1}))


def test_an_unregistered_model_is_an_unknown_key() -> None:
    with pytest.raises(ConfigError, match=r"train\.model: 'word_counts' is not known"):
        parse_params(with_section({}))


def test_it_trains_saves_loads_and_compares_like_a_built_in_model(
    labelled: Params, tmp_path: Path
) -> None:
    toy = build_zoo_model(labelled, "word_counts")
    baseline = build_zoo_model(labelled, "tfidf_logreg")
    card = json.loads((toy / "card.json").read_text(encoding="utf-8"))
    assert card["model"] == "word_counts" and card["settings"] == {"smoothing": 0.5}
    assert card["model_id"].startswith("word_counts-")

    texts = ["Moscow resents Beijing.", "Sign up now.", "Beijing and Moscow agree."]
    loaded = load_model(toy)
    assert isinstance(loaded.classifier, WordCounts)
    lines = labelled.paths.synthetic.read_text(encoding="utf-8").splitlines()
    examples = [json.loads(line) for line in lines]
    fitted = build_model(labelled)
    fitted.fit([e["text"] for e in examples], [e["label"] for e in examples])
    probabilities = fitted.predict_proba(texts)
    assert np.ptp(probabilities, axis=1).max() > 0.5  # it learnt something to lose
    save_model(fitted, tmp_path / "again", temperature=1.0, card={}, readme="#\n")
    again = load_model(tmp_path / "again").classifier
    np.testing.assert_array_equal(again.predict_proba(texts), probabilities)

    elsewhere = tmp_path / "no-params-here"  # compare reads cards and predictions only
    elsewhere.mkdir()
    done = run_module("pipeline", "compare", str(baseline), str(toy), "-f", "json", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    compared = json.loads(done.stdout)["comparisons"][0]
    assert compared["n_paragraphs"] == len(pd.read_parquet(toy / "oof.parquet")) > 0
