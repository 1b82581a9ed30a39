"""Where a paragraph sits (its article's title and section heading) reaches the models
that read it: `Context`, the table helpers the stages use, and the composite models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.models import cascade, ensemble
from pipeline.models.base import Context, StanceClassifier, frame_contexts
from pipeline.train.data import fit_rows, predict_rows

LABELS = ("favor", "against", "none")


class Recorder(StanceClassifier):
    """Records the contexts it is given; predicts `none` (or `favor` for a titled row)."""

    name = "recorder"

    def fit_in_context(
        self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[Context] | None
    ) -> Recorder:
        self.fitted_with = contexts
        return self

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Recorder:
        return self.fit_in_context(texts, labels, None)

    def predict_proba_in_context(
        self, texts: Sequence[str], contexts: Sequence[Context] | None
    ) -> np.ndarray:
        self.predicted_with = contexts
        titled = [bool(c.title) for c in contexts] if contexts else [False] * len(texts)
        return np.asarray([[1.0, 0.0, 0.0] if t else [0.0, 0.0, 1.0] for t in titled])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba_in_context(texts, None)

    def save(self, folder: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, folder: Path, **settings: object) -> Recorder:
        raise NotImplementedError


ROWS = pd.DataFrame(
    {
        "text": ["Gas flows east.", "A written example.", "Talks stall."],
        "label": ["none", "favor", "against"],
        "title": ["Power of Siberia 2", None, "Summit"],
        "section": ["Energy", None, "Summit"],
    }
)
WHERE = [Context("Power of Siberia 2", "Energy"), Context("", ""), Context("Summit", "Summit")]


def test_contexts_come_from_the_title_and_section_columns() -> None:
    assert frame_contexts(ROWS) == WHERE
    assert frame_contexts(ROWS.drop(columns=["section"]))[0] == Context("Power of Siberia 2")
    assert frame_contexts(ROWS[["text"]]) == [Context()] * 3
    assert [c.parts() for c in WHERE] == [["Power of Siberia 2", "Energy"], [], ["Summit"]]


def test_the_stages_hand_each_row_its_context() -> None:
    model = fit_rows(Recorder(labels=LABELS), ROWS)
    assert model.fitted_with == WHERE
    probabilities = predict_rows(model, ROWS)
    assert model.predicted_with == WHERE
    assert probabilities.argmax(axis=1).tolist() == [0, 2, 0]


def test_a_model_that_reads_no_context_ignores_it() -> None:
    from pipeline.models.tfidf_logreg import TfidfLogreg

    model = fit_rows(TfidfLogreg(labels=LABELS), pd.concat([ROWS] * 2))
    np.testing.assert_array_equal(predict_rows(model, ROWS), model.predict_proba(ROWS["text"]))


@pytest.mark.parametrize("composite", ["ensemble", "cascade"])
def test_composite_models_pass_contexts_to_their_parts(
    composite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = {"ensemble": ensemble, "cascade": cascade}[composite]
    monkeypatch.setattr(module, "model_class", lambda name: Recorder)
    if composite == "ensemble":
        model = ensemble.EnsembleClassifier(
            labels=LABELS, members=["a", "b"], member_settings={"a": {}, "b": {}}
        )
        parts = lambda: model.members_  # noqa: E731
    else:
        model = cascade.CascadeClassifier(
            labels=LABELS,
            fast="a",
            slow="b",
            threshold=1.1,  # every row escalates to the slow part
            fast_settings={},
            slow_settings={},
        )
        parts = lambda: [model.fast_, model.slow_]  # noqa: E731
    model.fit_in_context(list(ROWS["text"]), list(ROWS["label"]), WHERE)
    assert [part.fitted_with for part in parts()] == [WHERE, WHERE]
    probabilities = model.predict_proba_in_context(list(ROWS["text"]), WHERE)
    assert [part.predicted_with for part in parts()] == [WHERE, WHERE]
    assert probabilities.argmax(axis=1).tolist() == [0, 2, 0]
    model.predict_proba(list(ROWS["text"]))
    assert [part.predicted_with for part in parts()] == [None, None]
