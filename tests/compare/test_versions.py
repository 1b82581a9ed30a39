"""Finding and reading versions, refusing different gold sets, and card differences."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.compare.cards import ABSENT, CardDifference, card_differences, flatten_card
from pipeline.compare.versions import (
    Version,
    check_same_gold,
    common_gold,
    load_version,
    make_version,
)
from pipeline.errors import InputDataError
from tests.compare.conftest import LABELS, probabilities_frame

CARD = {"model": "tfidf_logreg", "model_id": "tfidf_logreg-0000000000", "labels": list(LABELS)}
PROBS = [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]]
GOLD = ["favor", "against", "none", "against"]
SOURCES = ["X", "X", "Y", "Y"]


def version(name: str, frame: pd.DataFrame | None = None, **card: object) -> Version:
    frame = probabilities_frame(PROBS, GOLD, SOURCES) if frame is None else frame
    return make_version(name, "test", {**CARD, **card}, frame)


def test_a_model_folder_is_a_version(models: tuple[Path, Path]) -> None:
    a = load_version(str(models[0]))
    assert a.labels == LABELS
    assert a.model_id == "tfidf_logreg-aaaaaaaaaa"
    assert a.display == f"{models[0]} (tfidf_logreg-aaaaaaaaaa)"
    assert len(a.predictions) == 18
    assert a.probabilities().shape == (18, 3)


def test_a_folder_without_predictions_or_card_is_refused(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "old"
    shutil.copytree(models[0], folder)
    (folder / "oof.parquet").unlink()
    with pytest.raises(InputDataError, match=r"no oof\.parquet .*re-run `stance train`"):
        load_version(str(folder))
    (folder / "card.json").unlink()
    with pytest.raises(InputDataError, match=r"not a model folder \(no card\.json\)"):
        load_version(str(folder))


def test_an_unknown_name_outside_git_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputDataError) as error:
        load_version("v2-final")
    assert str(error.value) == "v2-final: not a model folder, git revision or DVC experiment"


def test_predictions_must_match_their_card() -> None:
    frame = probabilities_frame(PROBS, GOLD, SOURCES).assign(model_id="tfidf_logreg-1111111111")
    with pytest.raises(InputDataError, match="predictions are from tfidf_logreg-1111111111"):
        version("A", frame)
    with pytest.raises(InputDataError, match="no column 'prob_none'"):
        version("A", probabilities_frame(PROBS, GOLD, SOURCES).drop(columns="prob_none"))
    doubled = probabilities_frame(PROBS, GOLD, SOURCES).assign(paragraph_id="p0")
    with pytest.raises(InputDataError, match="paragraph p0 is predicted twice"):
        version("A", doubled)
    unknown = probabilities_frame(PROBS, ["favor", "maybe", "none", "none"], SOURCES)
    with pytest.raises(InputDataError, match="gold label 'maybe'"):
        version("A", unknown)


def test_the_same_gold_set_passes() -> None:
    check_same_gold(version("A"), version("B", probabilities_frame(PROBS[::-1], GOLD, SOURCES)))


def _refusal(b: Version) -> str:
    with pytest.raises(InputDataError) as error:
        check_same_gold(version("A"), b)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("A and B were evaluated on different gold sets: ")
    assert message.endswith("; re-run `dvc repro` on one of them")
    return message


def test_an_extra_paragraph_is_refused() -> None:
    frame = probabilities_frame([*PROBS, [0.3, 0.3, 0.4]], [*GOLD, "none"], [*SOURCES, "Y"])
    assert "1 paragraph only in B (e.g. p4)" in _refusal(version("B", frame))


def test_a_changed_gold_label_is_refused() -> None:
    frame = probabilities_frame(PROBS, ["favor", "against", "favor", "favor"], SOURCES)
    message = _refusal(version("B", frame))
    assert "2 gold labels differ (e.g. p2: none vs favor)" in message


def test_a_changed_text_or_source_is_refused() -> None:
    frame = probabilities_frame(PROBS, GOLD, SOURCES)
    frame.loc[1, "text"] = "Paragraph number 1, edited."
    frame.loc[3, "source"] = "Z"
    message = _refusal(version("B", frame))
    assert "1 paragraph text differs (e.g. p1)" in message
    assert "1 source differs (e.g. p3: Y vs Z)" in message


def test_common_keeps_the_paragraphs_every_version_shares_and_counts_the_rest() -> None:
    more = probabilities_frame([*PROBS, [0.3, 0.3, 0.4]], [*GOLD, "none"], [*SOURCES, "Y"])
    relabelled = probabilities_frame(PROBS, ["favor", "against", "favor", "against"], SOURCES)
    restricted, notes = common_gold([version("A"), version("B", more), version("C", relabelled)])
    assert [list(v.predictions["paragraph_id"]) for v in restricted] == [["p0", "p1", "p3"]] * 3
    assert notes == ["1 of A's 4 left out", "2 of B's 5 left out", "1 of C's 4 left out"]
    check_same_gold(*restricted[:2])  # now comparable
    disjoint = probabilities_frame(PROBS, ["none", "none", "favor", "favor"], SOURCES)
    with pytest.raises(InputDataError, match="no gold paragraph in common"):
        common_gold([version("A"), version("B", disjoint)])


def test_different_labels_are_refused() -> None:
    frame = probabilities_frame(PROBS, GOLD, SOURCES).rename(columns={"prob_none": "prob_other"})
    frame["gold"] = frame["gold"].replace("none", "other")
    with pytest.raises(InputDataError, match="different labels"):
        check_same_gold(version("A"), version("B", frame, labels=["favor", "against", "other"]))


def test_card_differences_flatten_and_leave_out_grouped_cv() -> None:
    a = {
        "model_id": "m-1",
        "settings": {"C": 1.0, "actors": {"russia": ["Moscow"]}},
        "training": {"rows": 10, "options": {"use_weak": True}},
        "grouped_cv": {"macro_f1": 0.5},
        "git": {"commit": "abc"},
    }
    b = {
        "model_id": "m-2",
        "settings": {"C": 2.0, "actors": {"russia": ["Moscow", "Kremlin"]}},
        "training": {"rows": 10, "options": {"use_weak": False}},
        "grouped_cv": {"macro_f1": 0.7},
        "git": {"commit": "abc"},
        "temperature": 0.8,
    }
    assert flatten_card(a)["settings.actors.russia"] == ["Moscow"]
    assert card_differences(a, b) == [
        CardDifference("model_id", "m-1", "m-2"),
        CardDifference("settings.C", 1.0, 2.0),
        CardDifference("settings.actors.russia", ["Moscow"], ["Moscow", "Kremlin"]),
        CardDifference("training.options.use_weak", True, False),
        CardDifference("temperature", ABSENT, 0.8),
    ]
    assert card_differences(a, b)[-1].record() == {"key": "temperature", "b": 0.8}
    assert card_differences(a, a) == []
