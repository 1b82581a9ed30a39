"""The versions `stance compare` compares, and the checks that make them comparable.

A version is a trained model's card and its out-of-fold predictions of every
gold paragraph, with the paragraph's text. It is named on the command line as
  1. a model folder (`models/hybrid_logreg`, with card.json and oof.parquet);
  2. a DVC experiment name (a git ref `refs/exps/<xx>/<baseline>/<name>`);
  3. a git revision (`HEAD~1`, a tag, a branch, a commit),
tried in that order. A revision's model is `<paths.models>/<train.model>` of the
params.yaml committed there, read through DVC's file system: git-tracked files
from git, DVC outputs from the local cache, the workspace left untouched. This
is the one module of `pipeline/` that reads another revision's files.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.artifacts import CARD_FILE, OOF_FILE, parse_card
from pipeline.config import Paths, TrainParams, parse_yaml_bytes
from pipeline.errors import ConfigError, InputDataError
from pipeline.io import display_path
from pipeline.text import sha256_hex

# What each version must provide for every gold paragraph, besides prob_<label>.
PREDICTION_COLUMNS = ("paragraph_id", "source", "gold", "text")
# A DVC experiment ref: refs/exps/<first 2 of baseline>/<rest of baseline>/<name>.
_EXPERIMENT_REF_PARTS = 5


@dataclass(frozen=True)
class Version:
    """One evaluated model: its card and out-of-fold predictions, named as the user named it."""

    name: str  # the argument as given: a folder, a revision or an experiment name
    origin: str  # where it was read, e.g. "model folder models/x" or "revision 1a2b3c4d"
    card: dict[str, Any]
    labels: tuple[str, ...]
    predictions: pd.DataFrame  # PREDICTION_COLUMNS and prob_<label>, one row per paragraph

    @property
    def model_id(self) -> str:
        """The card's model id (model kind plus a hash of its settings)."""
        return str(self.card.get("model_id") or self.card.get("model") or "unknown model")

    @property
    def display(self) -> str:
        """How tables name the version: the argument and its model id."""
        return f"{self.name} ({self.model_id})"

    def probabilities(self) -> np.ndarray:
        """Calibrated out-of-fold probabilities, columns in `labels` order."""
        return self.predictions[[f"prob_{label}" for label in self.labels]].to_numpy(dtype=float)

    def targets(self) -> np.ndarray:
        """Gold labels as column indices of `probabilities`."""
        return np.asarray([self.labels.index(gold) for gold in self.predictions["gold"]])


@dataclass(frozen=True)
class Revision:
    """A git commit to read a version from, and the experiment name it came from, if any."""

    root: Path
    commit: str
    experiment: str | None = None

    @property
    def origin(self) -> str:
        short = self.commit[:8]
        return f"experiment {self.experiment} ({short})" if self.experiment else f"revision {short}"


# --- finding a version -------------------------------------------------------------------


def resolve_version(argument: str) -> Path | Revision:
    """A model folder, else an experiment's commit, else a revision's commit; else one line.

    Revisions and experiments are looked up in the git repository around the
    working folder, as git itself would.
    """
    folder = Path(argument)
    if folder.is_dir():
        return folder
    root = git_root(Path.cwd())
    if root is not None:
        experiment = experiment_commit(root, argument)
        if experiment is not None:
            return Revision(root, experiment, experiment=argument)
        commit = revision_commit(root, argument)
        if commit is not None:
            return Revision(root, commit)
    raise InputDataError(f"{argument}: not a model folder, git revision or DVC experiment")


def _git(root: Path, *arguments: str) -> str | None:
    """Standard output of a git command, or None when git fails or is missing."""
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_root(cwd: Path) -> Path | None:
    """The top of the git work tree around `cwd`, or None outside one."""
    top = _git(cwd, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def experiment_commit(root: Path, name: str) -> str | None:
    """The commit of the DVC experiment called `name`, or None when there is none."""
    listing = _git(root, "for-each-ref", "refs/exps", "--format=%(refname) %(objectname)") or ""
    commits = set()
    for line in listing.splitlines():
        ref, _, commit = line.partition(" ")
        parts = ref.split("/")
        if len(parts) == _EXPERIMENT_REF_PARTS and parts[-1] == name:
            commits.add(commit)
    if len(commits) > 1:
        raise InputDataError(
            f"{name}: {len(commits)} DVC experiments have this name; name one by its commit "
            "(`dvc exp show`)"
        )
    return commits.pop() if commits else None


def revision_commit(root: Path, revision: str) -> str | None:
    """The commit a git revision names, or None when it names none."""
    return _git(
        root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
    )


# --- reading a version -------------------------------------------------------------------


def load_version(argument: str) -> Version:
    """Find the version the argument names and read its card and predictions."""
    where = resolve_version(argument)
    if isinstance(where, Path):
        return load_model_folder(where, name=argument)
    return load_revision(where, name=argument)


def load_model_folder(folder: Path, *, name: str) -> Version:
    """A version from a model folder written by `stance train` (card.json, oof.parquet)."""
    shown = display_path(folder)
    card_path, oof_path = folder / CARD_FILE, folder / OOF_FILE
    if not card_path.is_file():
        raise InputDataError(f"{shown}: not a model folder (no {CARD_FILE})")
    if not oof_path.is_file():
        raise InputDataError(
            f"{shown}: no {OOF_FILE} (out-of-fold predictions); re-run `stance train` "
            "(or `dvc repro`) to save them with the model"
        )
    card = parse_card(card_path.read_bytes(), name=f"{shown}/{CARD_FILE}")
    oof = parse_parquet(oof_path.read_bytes(), name=f"{shown}/{OOF_FILE}")
    return make_version(name, f"model folder {shown}", card, oof)


def load_revision(revision: Revision, *, name: str) -> Version:
    """A version from a commit: its params name the model folder; older commits, whose
    folder has no oof.parquet, give the evaluate stage's predictions and the labels' text."""
    files = RevisionFiles(revision, name=name)
    where = revision.origin
    params = files.require("params.yaml", missing=f"{where} has no params.yaml")
    settings = revision_settings(params, name=name)
    folder = f"{settings['models']}/{settings['model']}"
    card_bytes = files.require(
        f"{folder}/{CARD_FILE}",
        missing=f"{where} has no trained model ({folder}/{CARD_FILE} is not there)",
    )
    card = parse_card(card_bytes, name=f"{name}:{folder}/{CARD_FILE}")
    data = files.read(f"{folder}/{OOF_FILE}")
    if data is not None:
        return make_version(
            name, where, card, parse_parquet(data, name=f"{name}:{folder}/{OOF_FILE}")
        )
    no_predictions = (
        f"{where} has no out-of-fold predictions (neither {folder}/{OOF_FILE} nor "
        f"{settings['oof']}); was `stance evaluate` run and dvc.lock committed?"
    )
    predictions = files.require(settings["oof"], missing=no_predictions)
    labels = files.require(settings["labels"], missing=f"{where} has no {settings['labels']}")
    oof = with_text(
        parse_parquet(predictions, name=f"{name}:{settings['oof']}"),
        parse_parquet(labels, name=f"{name}:{settings['labels']}"),
        name=f"{name}:{settings['oof']}",
    )
    return make_version(name, where, card, oof)


class RevisionFiles:
    """Files of one commit, read without checking it out: git-tracked ones from git,
    DVC outputs from the local cache (`dvc.api.DVCFileSystem`)."""

    def __init__(self, revision: Revision, *, name: str) -> None:
        from dvc.api import DVCFileSystem

        self.revision = revision
        self.name = name
        self._fs = DVCFileSystem(url=str(revision.root), rev=revision.commit)

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when the commit has no such file."""
        from dvc_data.index import DataIndexError

        try:
            return self._fs.read_bytes(path)
        except DataIndexError:  # a DVC-tracked folder whose listing is not in the cache
            raise self._not_cached(path) from None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            if self._tracked(path):
                raise self._not_cached(path) from None
            return None

    def require(self, path: str, *, missing: str) -> bytes:
        """The file's bytes; without it, `missing` is the error (after the version's name)."""
        data = self.read(path)
        if data is None:
            raise InputDataError(f"{self.name}: {missing}")
        return data

    def _tracked(self, path: str) -> bool:
        from dvc_data.index import DataIndexError

        try:
            return bool(self._fs.exists(path))
        except DataIndexError:
            return True

    def _not_cached(self, path: str) -> InputDataError:
        if self.revision.experiment:
            fix = f"`dvc exp pull <remote> {self.name}`, or re-run it with `dvc exp run`"
        else:
            fix = "`dvc pull` with that commit checked out, or `dvc fetch --all-commits`"
        return InputDataError(
            f"{self.name}: {path} of {self.revision.origin} is not in the local DVC cache; "
            f"fetch it ({fix})"
        )


def revision_settings(data: bytes, *, name: str) -> dict[str, str]:
    """From a revision's params.yaml: where its model, predictions and labels live.

    Only these keys are read, tolerantly, because an older params.yaml need not
    match today's schema; missing ones take today's defaults (`pipeline.config`).
    """
    try:
        raw = parse_yaml_bytes(data, name=f"{name}: params.yaml") or {}
    except ConfigError as error:
        raise InputDataError(str(error)) from None
    paths, train = _section(raw, "paths"), _section(raw, "train")

    def path_of(key: str) -> str:
        value = paths.get(key) or Paths.model_fields[key].default
        return Path(value).as_posix()

    return {
        "models": path_of("models"),
        "model": str(train.get("model") or TrainParams.model_fields["model"].default),
        "oof": path_of("oof"),
        "labels": path_of("labels"),
    }


def _section(raw: Any, key: str) -> dict[str, Any]:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, dict) else {}


def parse_parquet(data: bytes, *, name: str) -> pd.DataFrame:
    """A parquet table from its bytes; damage is one line naming it."""
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputDataError(f"{name}: not a readable parquet file ({error})") from None


def with_text(predictions: pd.DataFrame, labels: pd.DataFrame, *, name: str) -> pd.DataFrame:
    """The evaluate stage's predictions with each paragraph's text from the labels table,
    as `stance train` now saves them beside the model."""
    if "paragraph_id" not in predictions.columns:
        raise InputDataError(f"{name}: missing column 'paragraph_id'")
    if not {"paragraph_id", "text"} <= set(labels.columns):
        raise InputDataError(f"{name}: the labels table has no paragraph_id and text columns")
    text = labels.drop_duplicates("paragraph_id").set_index("paragraph_id")["text"]
    missing = sorted(set(predictions["paragraph_id"]) - set(text.index))
    if missing:
        raise InputDataError(
            f"{name}: {len(missing)} paragraphs have no text in the labels table "
            f"(e.g. {missing[0]})"
        )
    frame = predictions.copy()
    frame["text"] = text.loc[frame["paragraph_id"]].to_numpy()
    return frame


def make_version(name: str, origin: str, card: dict[str, Any], oof: pd.DataFrame) -> Version:
    """Check a version's predictions against its card and keep what the comparison needs."""
    labels = tuple(card.get("labels") or _probability_labels(oof))
    if len(labels) < 2:
        raise InputDataError(f"{name}: the card names no labels and the predictions have none")
    columns = [*PREDICTION_COLUMNS, *(f"prob_{label}" for label in labels)]
    missing = [column for column in columns if column not in oof.columns]
    if missing:
        raise InputDataError(
            f"{name}: the out-of-fold predictions have no column {missing[0]!r}; "
            "re-run `stance train` (or `dvc repro`)"
        )
    if "model_id" in oof.columns and card.get("model_id"):
        made_by = sorted(set(oof["model_id"].astype(str)))
        if made_by != [card["model_id"]]:
            raise InputDataError(
                f"{name}: the out-of-fold predictions are from {', '.join(made_by)} but the "
                f"card is for {card['model_id']}; re-run `dvc repro` there"
            )
    _check_predictions(oof, labels, name=name)
    frame = oof[columns].reset_index(drop=True)
    return Version(name, origin, card, labels, frame)


def _probability_labels(oof: pd.DataFrame) -> list[str]:
    return [column.removeprefix("prob_") for column in oof.columns if column.startswith("prob_")]


def _check_predictions(oof: pd.DataFrame, labels: Sequence[str], *, name: str) -> None:
    duplicated = oof["paragraph_id"][oof["paragraph_id"].duplicated()]
    if len(duplicated):
        raise InputDataError(f"{name}: paragraph {duplicated.iloc[0]} is predicted twice")
    unknown = sorted(set(oof["gold"].astype(str)) - set(labels))
    if unknown:
        raise InputDataError(f"{name}: gold label {unknown[0]!r} is not one of {list(labels)}")
    probabilities = oof[[f"prob_{label}" for label in labels]].to_numpy(dtype=float)
    if not np.isfinite(probabilities).all():
        raise InputDataError(f"{name}: some out-of-fold probabilities are missing or not finite")


# --- making two versions comparable ------------------------------------------------------


def gold_set_differences(a: Version, b: Version) -> list[str]:
    """What differs between the gold paragraphs two versions were evaluated on, one phrase
    per kind of difference with an example; empty when they are the same set."""
    left = a.predictions.set_index("paragraph_id")
    right = b.predictions.set_index("paragraph_id")
    only_a = [pid for pid in left.index if pid not in right.index]
    only_b = [pid for pid in right.index if pid not in left.index]
    shared = [pid for pid in left.index if pid in right.index]
    left, right = left.loc[shared], right.loc[shared]
    texts = [pid for pid in shared if _text_hash(left, pid) != _text_hash(right, pid)]
    differences = [
        _phrase(only_a, f"paragraph only in {a.name}", f"paragraphs only in {a.name}"),
        _phrase(only_b, f"paragraph only in {b.name}", f"paragraphs only in {b.name}"),
        _changed(left, right, "gold", "gold label differs", "gold labels differ"),
        _changed(left, right, "source", "source differs", "sources differ"),
        _phrase(texts, "paragraph text differs", "paragraph texts differ"),
    ]
    return [phrase for phrase in differences if phrase]


def check_same_gold(a: Version, b: Version) -> None:
    """Refuse to compare versions evaluated on different labels or gold paragraphs."""
    if a.labels != b.labels:
        raise InputDataError(
            f"{a.name} and {b.name} have different labels ({', '.join(a.labels)} vs "
            f"{', '.join(b.labels)}); only versions with the same labels can be compared"
        )
    differences = gold_set_differences(a, b)
    if differences:
        raise InputDataError(
            f"{a.name} and {b.name} were evaluated on different gold sets: "
            f"{'; '.join(differences)}; re-run `dvc repro` on one of them"
        )


def common_gold(versions: Sequence[Version]) -> tuple[list[Version], list[str]]:
    """Every version restricted to the gold paragraphs all of them were evaluated on with
    the same gold label, source and text (for versions before and after new labels), and
    one phrase per version saying what was left out of it."""
    first = versions[0].predictions.set_index("paragraph_id")

    def key(frame: pd.DataFrame, pid: str) -> tuple[str, str, str]:
        return (str(frame.at[pid, "gold"]), str(frame.at[pid, "source"]), _text_hash(frame, pid))

    shared = list(first.index)
    for version in versions[1:]:
        other = version.predictions.set_index("paragraph_id")
        shared = [
            pid for pid in shared if pid in other.index and key(other, pid) == key(first, pid)
        ]
    if not shared:
        raise InputDataError(
            "the versions have no gold paragraph in common (same id, gold label, source and "
            "text); nothing to compare"
        )
    kept = set(shared)
    restricted, notes = [], []
    for version in versions:
        frame = version.predictions
        left_out = int((~frame["paragraph_id"].isin(kept)).sum())
        if left_out:
            notes.append(f"{left_out} of {version.name}'s {len(frame)} left out")
        restricted.append(
            Version(
                version.name,
                version.origin,
                version.card,
                version.labels,
                frame[frame["paragraph_id"].isin(kept)].reset_index(drop=True),
            )
        )
    return restricted, notes


def aligned(version: Version, order: pd.Series) -> Version:
    """The version with its predictions in the paragraph order of `order`."""
    frame = version.predictions.set_index("paragraph_id").loc[order].reset_index()
    return Version(version.name, version.origin, version.card, version.labels, frame)


def _phrase(ids: list[str], singular: str, plural: str, example: Callable[[str], str] = str) -> str:
    """ "2 gold labels differ (e.g. <first one>)", or "" when there are none."""
    if not ids:
        return ""
    return f"{len(ids)} {singular if len(ids) == 1 else plural} (e.g. {example(ids[0])})"


def _changed(
    left: pd.DataFrame, right: pd.DataFrame, column: str, singular: str, plural: str
) -> str:
    ids = [pid for pid in left.index if left.at[pid, column] != right.at[pid, column]]
    return _phrase(
        ids,
        singular,
        plural,
        lambda pid: f"{pid}: {left.at[pid, column]} vs {right.at[pid, column]}",
    )


def _text_hash(frame: pd.DataFrame, paragraph_id: str) -> str:
    return sha256_hex(str(frame.at[paragraph_id, "text"]))
