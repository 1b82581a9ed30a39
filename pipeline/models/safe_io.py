"""Safe serialisation of fitted scikit-learn objects: skops, never pickle.

`load_estimator` refuses a file that contains any type skops does not trust by
default, so a tampered model folder cannot run code on load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import skops.io as sio

from pipeline.errors import InputDataError
from pipeline.io import atomic_output, display_path


def dump_estimator(estimator: Any, path: Path) -> None:
    """Write `estimator` to `path` in the skops format (atomically)."""
    with atomic_output(path) as stream:
        sio.dump(estimator, stream)


def load_estimator(path: Path) -> Any:
    """Read a skops file, refusing any type outside skops' trusted defaults."""
    if not path.is_file():
        raise InputDataError(f"{display_path(path)}: model file not found")
    untrusted = sio.get_untrusted_types(file=path)
    if untrusted:
        raise InputDataError(
            f"{display_path(path)}: refusing to load untrusted types {', '.join(untrusted)}"
        )
    return sio.load(path)
