"""The Hugging Face dataset the label stage saves: splits, features, bytes, bad folders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import datasets
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.label.dataset import (
    SPLIT_PROVENANCE,
    SPLITS,
    load_dataset,
    split_examples,
)
from pipeline.label.stage import run_label
from pipeline.train.data import training_rows, training_rows_from_dataset
from tests.label.conftest import BagOfWordsEncoder, update_params, write_lines

AnnotatedCorpus = Callable[..., Params]


def written_line(number: int, outlet: str, label: str, **extra: object) -> str:
    """One line of press.jsonl or dev.jsonl, with its provenance."""
    record = {
        "id": f"{outlet[:3].lower()}-{number}",
        "text": f"Paragraph {number} from {outlet} on Moscow and Beijing.",
        "label": label,
        "rule": 3,
        "note": f"note {number}",
        "source_outlet": outlet,
        "source_url": f"https://{outlet.lower()}.example/page",
        "title": f"{outlet} page",
        "genre": "newspaper",
        "year": 2024,
        "region": "europe",
        "position": number,
        **extra,
    }
    return json.dumps(record)


@pytest.fixture
def labelled(annotated_corpus: AnnotatedCorpus, fake_encoder: BagOfWordsEncoder) -> Params:
    """The annotated mini corpus with press and dev examples, labelled once."""
    params = annotated_corpus()
    write_lines(params.paths.press, [written_line(1, "Herald", "favor")])
    write_lines(
        params.paths.dev,
        [written_line(1, "Courier", "against"), written_line(2, "Courier", "none", rule=None)],
    )
    run_label(params, encoder=fake_encoder)
    return params


def test_splits_match_labels_by_provenance(labelled: Params) -> None:
    dataset = load_dataset(labelled.paths.dataset, labelled.labels)
    labels = pd.read_parquet(labelled.paths.labels)
    assert list(dataset) == list(SPLITS)
    for split, kinds in SPLIT_PROVENANCE.items():
        expected = labels[labels.provenance.isin(kinds) & labels.label.notna()]
        assert dataset[split]["paragraph_id"][:] == list(expected.paragraph_id)
        assert split_examples(dataset, split) == (list(expected.text), list(expected.label))
    assert len(dataset["gold"]) == 2 and len(dataset["dev"]) == 2
    assert set(dataset["train"]["provenance"]) >= {"synthetic", "press"}


def test_label_is_a_class_label_in_params_order(labelled: Params) -> None:
    features = load_dataset(labelled.paths.dataset, labelled.labels)["gold"].features
    assert isinstance(features["label"], datasets.ClassLabel)
    assert features["label"].names == list(labelled.labels) == ["favor", "against", "none"]


def test_provenance_columns_are_kept(labelled: Params) -> None:
    dataset = datasets.load_from_disk(str(labelled.paths.dataset))
    dev = dataset["dev"].to_pandas().set_index("paragraph_id")
    row = dev.loc["dev:cou-2"]
    assert (row.source, row.source_url, row.genre, row.year, row.region) == (
        "Courier",
        "https://courier.example/page",
        "newspaper",
        2024,
        "europe",
    )
    assert (row.note, row.position, row.title) == ("note 2", 2, "Courier page")
    assert pd.isna(row.section)  # a page's opening has no section heading here
    assert pd.isna(row.rule) and dev.loc["dev:cou-1", "rule"] == 3
    train = dataset["train"].to_pandas().set_index("paragraph_id")
    assert train.loc["synthetic:s1", "source"] == "synthetic"
    gold = dataset["gold"].to_pandas()
    assert set(gold.note) == {"test annotation"} and gold.title.notna().all()


def test_two_runs_are_byte_identical(labelled: Params, fake_encoder: BagOfWordsEncoder) -> None:
    first = labelled.paths.dataset
    params = update_params(first.parents[1] / "params.yaml", **{"paths.dataset": "again/dataset"})
    second = params.paths.dataset
    assert second != first
    run_label(params, encoder=BagOfWordsEncoder())
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert {"dataset_dict.json", "train/state.json", "gold/dataset_info.json"} <= {
        str(f) for f in files
    }
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_rerun_replaces_the_folder_whole(labelled: Params, fake_encoder: BagOfWordsEncoder) -> None:
    before = {p: p.read_bytes() for p in labelled.paths.dataset.rglob("*") if p.is_file()}
    (labelled.paths.dataset / "stray.txt").write_text("left by hand", encoding="utf-8")
    run_label(labelled, encoder=fake_encoder)
    after = {p: p.read_bytes() for p in labelled.paths.dataset.rglob("*") if p.is_file()}
    assert after == before
    leftovers = [p.name for p in labelled.paths.dataset.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_training_rows_are_the_same_from_either_file(labelled: Params) -> None:
    labels = pd.read_parquet(labelled.paths.labels)
    dataset = load_dataset(labelled.paths.dataset, labelled.labels)
    settings = labelled.train.model_copy(update={"min_weak_confidence": 0.0})
    for held_out in (None, "Outlet a"):
        expected = training_rows(labels, settings, held_out_source=held_out)
        found = training_rows_from_dataset(dataset, settings, held_out_source=held_out)
        assert list(found.index) == list(expected.index)
        for column in ("paragraph_id", "text", "label", "provenance", "source", "confidence"):
            assert list(found[column]) == list(expected[column]), column
    assert len(expected) < len(training_rows(labels, settings))
    assert {"gold", "weak", "synthetic", "press"} <= set(labels.provenance)


def test_missing_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"dataset: not a saved dataset") as error:
        load_dataset(tmp_path / "dataset", ["favor", "against", "none"])
    assert "\n" not in str(error.value)


def test_missing_split_is_one_line(labelled: Params) -> None:
    folder = labelled.paths.dataset
    shutil.rmtree(folder / "dev")
    (folder / "dataset_dict.json").write_text('{"splits": ["train", "gold"]}', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"dataset: no split 'dev'") as error:
        load_dataset(folder, labelled.labels)
    assert "\n" not in str(error.value)


def test_other_label_names_are_refused(labelled: Params) -> None:
    with pytest.raises(
        InputDataError, match=r"feature 'label' as ClassLabel\(favor, against, none\)"
    ):
        load_dataset(labelled.paths.dataset, ["pro", "con", "none"])


def test_damaged_folder_is_one_line(labelled: Params) -> None:
    (labelled.paths.dataset / "gold" / "state.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"dataset: not a readable dataset") as error:
        load_dataset(labelled.paths.dataset, labelled.labels)
    assert "\n" not in str(error.value)


def test_an_empty_split_is_written_and_read_back(
    annotated_corpus: AnnotatedCorpus, fake_encoder: BagOfWordsEncoder
) -> None:
    params = annotated_corpus()  # no press or development file: the `dev` split is empty
    run_label(params, encoder=fake_encoder)
    dataset = load_dataset(params.paths.dataset, params.labels)
    assert dataset["dev"].num_rows == 0
    assert dataset["gold"].num_rows > 0
    assert list(dataset["dev"].features) == list(dataset["gold"].features)
