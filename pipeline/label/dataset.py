"""The labelled rows as a Hugging Face dataset (`paths.dataset`), written by `label`.

A `datasets.DatasetDict` saved with `save_to_disk`, three splits of one schema:

- `train`: every row besides gold that a classifier may learn from: written examples
  (`synthetic`), examples written from real coverage (`press`) and all weak labels with
  their confidence. `train.use_*` and `train.min_weak_confidence` choose among them
  (`pipeline/train/data.py`), so the dataset does not change with those settings.
- `gold`: the annotated corpus paragraphs. The final model learns from them too; the
  grouped evaluation tests on them, holding out one source at a time.
- `dev`: the development set, never trained on.

`label` is a `ClassLabel` named after `params.labels`, in that order; `labels_row` is a
row's position in `paths.labels`, so that the train stage reads gold and train rows in
the order it always has. See docs/dataset.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import datasets
import pandas as pd
import pyarrow as pa

from pipeline.errors import InputDataError
from pipeline.io import atomic_folder, display_path
from pipeline.label.annotations import Annotation, SyntheticExample
from pipeline.label.written import WrittenExample

SPLITS = ("train", "gold", "dev")
SPLIT_PROVENANCE: Mapping[str, tuple[str, ...]] = {
    "train": ("synthetic", "press", "weak"),
    "gold": ("gold",),
    "dev": ("dev",),
}
DETAIL_COLUMNS = (
    "source_url",
    "genre",
    "year",
    "region",
    "position",
    "rule",
    "category",
    "note",
)
_INTEGER_COLUMNS = ("year", "position", "rule")
_DESCRIPTION = "Labelled paragraphs of the stance pipeline (see docs/dataset.md)."


def dataset_features(labels: Sequence[str]) -> datasets.Features:
    """The schema every split has; `label` is a ClassLabel in the order of `labels`."""
    string = datasets.Value("string")
    return datasets.Features(
        {
            "paragraph_id": string,
            "text": string,
            "label": datasets.ClassLabel(names=list(labels)),
            "provenance": string,
            "confidence": datasets.Value("float64"),
            "source": string,
            "doc_id": string,
            "title": string,
            "section": string,
            **{
                column: datasets.Value("int32") if column in _INTEGER_COLUMNS else string
                for column in DETAIL_COLUMNS
            },
            "labels_row": datasets.Value("int64"),
        }
    )


def example_details(
    paragraphs: pd.DataFrame,
    annotations: Mapping[str, Annotation],
    synthetic: Sequence[SyntheticExample],
    written: Mapping[str, Sequence[WrittenExample]],
) -> pd.DataFrame:
    """What is known of each row beyond `labels.parquet`, by `paragraph_id`: an
    annotator's note, a written example's page, genre, year, region and rule (the title
    and section heading are in `labels.parquet`)."""
    rows = [
        {"paragraph_id": pid, "note": _note(annotations.get(pid))}
        for pid in paragraphs["paragraph_id"]
    ]
    rows += [
        {"paragraph_id": f"synthetic:{e.example_id}", "category": e.category, "note": e.note}
        for e in synthetic
    ]
    rows += [_written_details(e, kind) for kind, examples in written.items() for e in examples]
    return pd.DataFrame(rows, columns=["paragraph_id", *DETAIL_COLUMNS])


def _note(annotation: Annotation | None) -> str | None:
    return None if annotation is None else annotation.note


def _written_details(example: WrittenExample, provenance: str) -> dict:
    return {
        "paragraph_id": f"{provenance}:{example.example_id}",
        "source_url": example.source_url,
        "genre": example.genre,
        "year": example.year,
        "region": example.region,
        "position": example.position,
        "rule": example.rule,
        "note": example.note,
    }


def build_dataset(
    labels: pd.DataFrame, details: pd.DataFrame, names: Sequence[str]
) -> datasets.DatasetDict:
    """The pure core: `labels.parquet`'s rows (with `details`) split as the module says."""
    features = dataset_features(names)
    frame = labels.reset_index(drop=True).assign(labels_row=lambda f: f.index.astype("int64"))
    frame = frame.merge(details, on="paragraph_id", how="left", validate="many_to_one")
    frame = frame[frame["label"].notna()].assign(
        label=lambda f: f["label"].map({name: index for index, name in enumerate(names)}),
        **{column: lambda f, c=column: f[c].astype("Int32") for column in _INTEGER_COLUMNS},
    )
    return datasets.DatasetDict(
        {
            split: _split(frame[frame["provenance"].isin(kinds)], split, features)
            for split, kinds in SPLIT_PROVENANCE.items()
        }
    )


def _split(frame: pd.DataFrame, name: str, features: datasets.Features) -> datasets.Dataset:
    """One split, fingerprinted by its content (datasets would otherwise hash its state)."""
    table = pa.Table.from_pandas(
        frame[list(features)], schema=features.arrow_schema, preserve_index=False
    ).replace_schema_metadata(features.arrow_schema.metadata)
    info = datasets.DatasetInfo(description=_DESCRIPTION, features=features)
    return datasets.Dataset(
        table, info=info, split=datasets.NamedSplit(name), fingerprint=_fingerprint(table)
    )


def _fingerprint(table: pa.Table) -> str:
    """16 hex digits of SHA-256 over the table's Arrow stream: the same rows, the same id."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]


def write_dataset(dataset: datasets.DatasetDict, folder: Path) -> None:
    """Save `dataset` to `folder` atomically: into a sibling folder, then swapped in."""
    with atomic_folder(folder) as staging, _progress_bars_off():
        # One shard per split, even an empty one: with no shard at all (what datasets
        # writes for zero rows) `load_from_disk` fails on the split.
        dataset.save_to_disk(str(staging), num_shards={split: 1 for split in dataset})


@contextmanager
def _progress_bars_off() -> Iterator[None]:
    """Silence datasets' progress bars for a moment (the stage logs its own progress)."""
    was_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_on:
            datasets.enable_progress_bars()


def load_dataset(folder: Path, labels: Sequence[str]) -> datasets.DatasetDict:
    """Read `paths.dataset`, checking its splits and features; problems are one line."""
    name = display_path(folder)
    if not (folder / datasets.config.DATASETDICT_JSON_FILENAME).is_file():
        raise InputDataError(f"{name}: not a saved dataset; run `stance label` (or `dvc repro`)")
    try:
        with _progress_bars_off():
            dataset = datasets.load_from_disk(str(folder))
    except Exception as error:  # datasets and pyarrow raise many types for a damaged folder
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputDataError(
            f"{name}: not a readable dataset ({reason}); re-run `stance label`"
        ) from None
    expected = dataset_features(labels)
    for split in SPLITS:
        if split not in dataset:
            raise InputDataError(f"{name}: no split {split!r}; re-run `stance label`")
        problem = _feature_problem(dataset[split].features, expected)
        if problem:
            raise InputDataError(f"{name}: split {split!r} {problem}; re-run `stance label`")
    return dataset


def _feature_problem(found: datasets.Features, expected: datasets.Features) -> str | None:
    for column, feature in expected.items():
        if column not in found:
            return f"has no feature {column!r}"
        if found[column] != feature:
            return f"has feature {column!r} as {_describe(found[column])}, not {_describe(feature)}"
    return None


def _describe(feature: object) -> str:
    if isinstance(feature, datasets.ClassLabel):
        return f"ClassLabel({', '.join(feature.names)})"
    return str(getattr(feature, "dtype", type(feature).__name__))


def split_examples(dataset: datasets.DatasetDict, split: str) -> tuple[list[str], list[str]]:
    """(texts, label names) of one split, in its order: what a classifier's `fit` takes."""
    part = dataset[split]
    names = part.features["label"].names
    return list(part["text"]), [names[index] for index in part["label"]]


def rows_frame(dataset: datasets.DatasetDict, splits: Sequence[str]) -> pd.DataFrame:
    """The rows of `splits` as one frame in `labels.parquet` order (indexed by
    `labels_row`), with label names instead of ClassLabel indices."""
    frames = [dataset[split].to_pandas() for split in splits]
    frame = pd.concat(frames, ignore_index=True).sort_values("labels_row", kind="stable")
    names = dataset[splits[0]].features["label"].names
    frame["label"] = [names[index] for index in frame["label"]]
    return frame.set_index("labels_row", drop=False).rename_axis(None)
