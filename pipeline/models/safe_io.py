"""Safe serialisation of fitted scikit-learn objects: skops, never pickle.

`load_estimator` refuses a file that contains any type skops does not trust by
default, so a tampered model folder cannot run code on load.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from pipeline.errors import InputDataError
from pipeline.io import atomic_output, display_path


def dump_estimator(estimator: Any, path: Path) -> None:
    """Write `estimator` to `path` in the skops format (atomically, byte-reproducibly)."""
    with atomic_output(path) as stream:
        stream.write(_reproducible_zip(sio.dumps(_without_process_state(estimator))))


# Attributes that hold a value of this process only: scikit-learn's text vectorizers
# cache `id(self.stop_words)` (a memory address) to avoid re-checking stop words.
_PROCESS_ATTRIBUTES = ("_stop_words_id",)


def _parts(estimator: Any) -> list[Any]:
    """The estimator and the objects among its (deep) parameters, e.g. a Pipeline's steps."""
    parts = [estimator]
    if hasattr(estimator, "get_params"):
        values = estimator.get_params(deep=True).values()
        parts += [v for v in values if hasattr(v, "__dict__") and not isinstance(v, type)]
    return parts


def _without_process_state(estimator: Any) -> Any:
    """A copy of `estimator` without per-process caches, so two runs save the same bytes."""
    if not any(name in vars(p) for p in _parts(estimator) for name in _PROCESS_ATTRIBUTES):
        return estimator
    estimator = copy.deepcopy(estimator)
    for part in _parts(estimator):
        for name in _PROCESS_ATTRIBUTES:
            vars(part).pop(name, None)
    return estimator
    estimator = copy.deepcopy(estimator)
    parts = [estimator]
    if hasattr(estimator, "get_params"):
        values = estimator.get_params(deep=True).values()
        parts += [v for v in values if hasattr(v, "__dict__") and not isinstance(v, type)]
    for part in parts:
        for name in _PROCESS_ATTRIBUTES:
            if name in vars(part):
                delattr(part, name)
    return estimator


def _reproducible_zip(data: bytes) -> bytes:
    """The same skops archive, byte-reproducible: object ids renumbered in order of
    appearance and timestamps fixed (skops names members by `id()` and stamps them with
    the current time, so equal models would otherwise differ and change DVC's hash)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    numbers: dict[str, int] = {}

    def number(old: object) -> int:
        return numbers.setdefault(str(old), len(numbers) + 1)

    def renumber(node: Any) -> Any:
        if isinstance(node, list):
            return [renumber(item) for item in node]
        if not isinstance(node, dict):
            return node
        fixed = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int):
                fixed[key] = number(value)
            elif key == "file" and isinstance(value, str) and value.endswith(".npy"):
                fixed[key] = f"{number(value.removesuffix('.npy'))}.npy"
            else:
                fixed[key] = renumber(value)
        return fixed

    schema = renumber(json.loads(source.read("schema.json")))
    members = {"schema.json": json.dumps(schema, indent=2, sort_keys=True).encode()}
    for name in source.namelist():
        if name.endswith(".npy"):
            members[f"{number(name.removesuffix('.npy'))}.npy"] = source.read(name)
        elif name != "schema.json":
            members[name] = source.read(name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        for name in sorted(members):
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), members[name])
    return buffer.getvalue()


def load_estimator(path: Path) -> Any:
    """Read a skops file, refusing any type outside skops' trusted defaults."""
    if not path.is_file():
        raise InputDataError(f"{display_path(path)}: model file not found")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, json.JSONDecodeError) as error:
        raise InputDataError(f"{display_path(path)}: damaged model file ({error})") from None
    if untrusted:
        raise InputDataError(
            f"{display_path(path)}: refusing to load untrusted types {', '.join(untrusted)}"
        )
    try:
        return sio.load(path)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, json.JSONDecodeError) as error:
        raise InputDataError(f"{display_path(path)}: damaged model file ({error})") from None
