"""Behavioural tests of the default model (Made-With-ML style): invariance to metadata,
dates and outlet names, and the direction a clear stance sentence pushes the score.

The model is the one `train.model` names, trained here on the repository's gold and
written examples; every sentence below was written for these tests."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import load_params
from pipeline.label.annotations import read_gold, read_synthetic
from pipeline.models.base import StanceClassifier
from pipeline.models.registry import build_model
from pipeline.segment.stage import discover_documents, segment_corpus
from tests.conftest import REPO, article, write_manifest

pytestmark = pytest.mark.slow

PARAMS = load_params(REPO / "params.yaml")
LABELS = list(PARAMS.labels)


@pytest.fixture(scope="module")
def model() -> StanceClassifier:
    documents = discover_documents(
        PARAMS.paths.corpus_dir, PARAMS.paths.manifest, PARAMS.segment.extensions
    )
    text_by_id = {
        r["paragraph_id"]: r["text"] for r in segment_corpus(documents, PARAMS.segment).rows
    }
    gold = read_gold(PARAMS.paths.gold, PARAMS.labels)
    written = read_synthetic(PARAMS.paths.synthetic, PARAMS.labels)
    texts = [text_by_id[a.paragraph_id] for a in gold] + [e.text for e in written]
    labels = [a.label for a in gold] + [e.label for e in written]
    return build_model(PARAMS).fit(texts, labels)


def probabilities(model: StanceClassifier, text: str) -> dict[str, float]:
    return dict(zip(LABELS, model.predict_proba([text])[0], strict=True))


BASE = (
    "Officials from Moscow and Beijing met in Harbin on Tuesday to review border trade "
    "for the first quarter and the timetable of a new freight terminal."
)
AGAINST = (
    " Both delegations said the meeting proved again that the two countries stand "
    "together, and that every Western attempt to split them has failed and will fail."
)
FAVOR = (
    " Behind the handshakes, Russian negotiators complained bitterly that Chinese banks "
    "keep blocking their payments, and some openly asked whether Moscow should look to "
    "Washington for other partners."
)


def test_a_clear_against_sentence_moves_the_score_toward_against(model: StanceClassifier) -> None:
    before, after = probabilities(model, BASE), probabilities(model, BASE + AGAINST)
    assert after["against"] > before["against"]
    assert after["against"] - after["favor"] > before["against"] - before["favor"]


def test_a_clear_favor_sentence_moves_the_score_toward_favor(model: StanceClassifier) -> None:
    before, after = probabilities(model, BASE), probabilities(model, BASE + FAVOR)
    assert after["favor"] > before["favor"]
    assert after["favor"] - after["against"] > before["favor"] - before["against"]


@pytest.mark.parametrize(
    ("original", "edited"),
    [
        ("on 3 March 2025", "on 19 October 2021"),
        ("told Reuters", "told the Nikkei"),
        ("in Harbin", "in Vladivostok"),
    ],
)
def test_dates_and_outlet_names_do_not_change_the_label(
    model: StanceClassifier, original: str, edited: str
) -> None:
    text = (
        "Russian and Chinese officials {} that their partnership is unshakeable, a senior "
        "diplomat {} {}, and that talk of a wedge between them is a Western fantasy."
    )
    first = text.format(
        "agreed " + original, "said", original.replace("on ", "after the talks on ")
    )
    second = first.replace(original, edited)
    a, b = model.predict_proba([first])[0], model.predict_proba([second])[0]
    assert a.argmax() == b.argmax()
    assert np.abs(a - b).max() < 0.15


def test_outlet_and_date_metadata_do_not_change_predictions(
    model: StanceClassifier, tmp_path
) -> None:
    """The same article filed under another outlet and date is scored the same."""
    body = article(BASE + AGAINST, BASE + FAVOR, title="Border Talks")
    scores = []
    for outlet, date in (("Outlet One", "2020-01-02"), ("Another Paper", "2025-06-30")):
        folder = tmp_path / outlet.replace(" ", "_")
        folder.mkdir()
        (folder / "piece.txt").write_text(body, encoding="utf-8")
        write_manifest(
            folder / "sources.csv",
            [{"doc_id": "piece", "file": "piece.txt", "source": outlet, "date": date}],
        )
        documents = discover_documents(folder, folder / "sources.csv", PARAMS.segment.extensions)
        rows = segment_corpus(documents, PARAMS.segment).rows
        assert {row["source"] for row in rows} == {outlet}
        scores.append(model.predict_proba([row["text"] for row in rows]))
    np.testing.assert_array_equal(scores[0], scores[1])


def test_a_paragraph_naming_neither_actor_leans_to_none(model: StanceClassifier) -> None:
    """The actor gate: without both actors, at least `gate_strength` goes to `none`."""
    text = (
        "The partnership is crumbling: every attempt to hold it together has failed, "
        "and resentment of the senior partner grows by the month."
    )
    gate = PARAMS.train.models.hybrid_logreg.gate_strength
    assert probabilities(model, text)["none"] >= gate
