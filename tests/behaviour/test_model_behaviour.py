"""Behavioural tests of the default model (Made-With-ML style): per-rule floors on the
minimal pairs and invariance groups of `paths.behaviour`, invariance to metadata, dates
and outlet names, and the direction a clear stance sentence pushes the score.

The model is the one `train.model` names, trained here the way `stance train` trains
it: the repository's corpus segmented and labelled by the label stage, then fitted on
`training_rows` (gold, written, press and confident weak labels). About 3.5 minutes on
two cores with an empty encoder cache. Every sentence below was written for these tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_params
from pipeline.evaluate.behaviour import read_cases, score_behaviour
from pipeline.label.stage import run_label
from pipeline.models.base import StanceClassifier
from pipeline.models.factory import build_model
from pipeline.segment.files import discover_documents
from pipeline.segment.stage import run_segment, segment_corpus
from pipeline.train.data import training_rows
from tests.conftest import REPO, article, write_manifest

pytestmark = pytest.mark.slow

PARAMS = load_params(REPO / "params.yaml")
LABELS = list(PARAMS.labels)

# ---------------------------------------------------------------------------------------
# FLOORS, by `train.model`: what the default model must keep reaching on
# data/behaviour/cases.jsonl. Each floor is the rate measured when it was set, less one
# unit of its own kind (one case of the rule's 6 for `label`, one of its 3 or 4 pairs
# for `pair` and `directional`), so a change that breaks one more case of a rule fails.
# A model without an entry fails the floor tests: run `stance behaviour` (or `dvc repro`),
# read metrics/behaviour.json and add its entry here (and to docs/behaviour.md).
FLOORS: dict[str, dict] = {
    # hybrid_logreg, measured 2026-12-06 (142 cases, 53 pairs, 15 invariance groups)
    "hybrid_logreg": {
        # rule: (label, pair, directional) floors   measured: label  pair  directional
        "rules": {
            1: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            2: (0.83, 0.66, 0.66),  #                           1.00  1.00  1.00
            3: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            4: (0.16, 0.00, 0.00),  #                           0.33  0.00  0.33
            5: (0.33, 0.00, 0.33),  #                           0.50  0.00  0.67
            6: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            7: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            8: (0.33, 0.00, 0.33),  #                           0.50  0.00  0.67
            9: (0.37, 0.00, 0.25),  # 4 pairs                   0.50  0.25  0.50
            10: (0.83, 0.66, 0.66),  #                          1.00  1.00  1.00
            11: (0.33, 0.00, 0.66),  #                          0.50  0.00  1.00
            12: (0.37, 0.00, 0.25),  # 4 pairs                  0.50  0.00  0.50
            13: (0.66, 0.33, 0.66),  #                          0.83  0.67  1.00
            14: (0.33, 0.00, 0.66),  #                          0.50  0.33  1.00
            15: (0.50, 0.00, 0.66),  #                          0.67  0.33  1.00
            16: (0.83, 0.66, 0.66),  #                          1.00  1.00  1.00
            17: (0.66, 0.33, 0.66),  #                          0.83  0.67  1.00
        },
        # measured 0.7535, 0.4528, 0.8491, 1.0
        "overall": {
            "label_pass_rate": 0.74,
            "pair_pass_rate": 0.43,
            "directional_pass_rate": 0.83,
            "invariance_rate": 0.93,
        },
    },
    # ensemble (the default since 2026-12-07), re-measured 2026-12-07 after the second
    # data round (5,027 press examples)
    "ensemble": {
        # rule: (label, pair, directional) floors   measured: label  pair  directional
        "rules": {
            1: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            2: (0.83, 0.66, 0.66),  #                           1.00  1.00  1.00
            3: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            4: (0.16, 0.00, 0.33),  #                           0.33  0.00  0.67
            5: (0.33, 0.00, 0.66),  #                           0.50  0.00  1.00
            6: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            7: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
            8: (0.50, 0.00, 0.33),  #                           0.67  0.33  0.67
            9: (0.62, 0.25, 0.50),  # 4 pairs                   0.75  0.50  0.75
            10: (0.83, 0.66, 0.66),  #                           1.00  1.00  1.00
            11: (0.50, 0.00, 0.66),  #                           0.67  0.33  1.00
            12: (0.37, 0.00, 0.75),  # 4 pairs                   0.50  0.00  1.00
            13: (0.33, 0.00, 0.66),  #                           0.50  0.00  1.00
            14: (0.16, 0.00, 0.33),  #                           0.33  0.00  0.67
            15: (0.50, 0.00, 0.66),  #                           0.67  0.33  1.00
            16: (0.83, 0.66, 0.66),  #                           1.00  1.00  1.00
            17: (0.66, 0.33, 0.66),  #                           0.83  0.67  1.00
        },
        # measured 0.7606, 0.4528, 0.9245, 1.0
        "overall": {
            "label_pass_rate": 0.75,
            "pair_pass_rate": 0.43,
            "directional_pass_rate": 0.9,
            "invariance_rate": 0.93,
        },
    },
}
MAX_INVARIANCE_SHIFT = 0.15  # largest probability change a perturbation may cause
# ---------------------------------------------------------------------------------------


# What the segment and label stages read; every other path is an output they may write.
_INPUTS = {"corpus_dir", "manifest", "gold", "synthetic", "press", "dev", "rules"}


def train_like_the_train_stage(folder: Path) -> StanceClassifier:
    """Segment and label the repository's corpus into `folder` (the repository's own
    outputs are left alone), then fit `train.model` on the rows `stance train` fits."""
    outputs = {
        name: folder / name for name in type(PARAMS.paths).model_fields if name not in _INPUTS
    }
    params = PARAMS.model_copy(update={"paths": PARAMS.paths.model_copy(update=outputs)})
    run_segment(params)
    rows = training_rows(run_label(params).labels, params.train)
    return build_model(params).fit(list(rows["text"]), list(rows["label"]))


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> StanceClassifier:
    return train_like_the_train_stage(tmp_path_factory.mktemp("train"))


@pytest.fixture(scope="module")
def behaviour(model: StanceClassifier) -> dict:
    return score_behaviour(model, read_cases(PARAMS.paths.behaviour, PARAMS.labels))


@pytest.fixture(scope="module")
def floors() -> dict:
    if PARAMS.train.model not in FLOORS:
        pytest.fail(f"no behaviour floors for train.model={PARAMS.train.model}; add them to FLOORS")
    return FLOORS[PARAMS.train.model]


@pytest.mark.parametrize("rule", range(1, 18))
def test_each_rule_keeps_its_floor(behaviour: dict, floors: dict, rule: int) -> None:
    measured = behaviour["rules"][str(rule)]
    label, pair, directional = floors["rules"][rule]
    assert measured["label_pass_rate"] >= label, measured
    assert measured["pair_pass_rate"] >= pair, measured
    assert measured["directional_pass_rate"] >= directional, measured


def test_overall_rates_keep_their_floors(behaviour: dict, floors: dict) -> None:
    for key, floor in floors["overall"].items():
        assert behaviour["overall"][key] >= floor, (key, behaviour["overall"])


def test_perturbations_barely_move_the_probabilities(behaviour: dict) -> None:
    for name, measured in behaviour["invariance"].items():
        assert measured["max_probability_shift"] <= MAX_INVARIANCE_SHIFT, (name, measured)


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
    model: StanceClassifier, tmp_path: Path
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


@pytest.mark.skipif(
    PARAMS.train.model != "hybrid_logreg",
    reason="the actor gate at full strength is hybrid_logreg's (an ensemble averages it)",
)
def test_a_paragraph_naming_neither_actor_leans_to_none(model: StanceClassifier) -> None:
    """The actor gate: without both actors, at least `gate_strength` goes to `none`."""
    text = (
        "The partnership is crumbling: every attempt to hold it together has failed, "
        "and resentment of the senior partner grows by the month."
    )
    gate = PARAMS.train.models.hybrid_logreg.gate_strength
    assert probabilities(model, text)["none"] >= gate
