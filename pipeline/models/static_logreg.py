"""`static_logreg`: the fast tier. `hybrid_logreg`'s features and actor gate, with the
MiniLM embedding replaced by a static one distilled from it (`pipeline.encoders.static_encoder`).

Everything but the paragraph vector is shared with `hybrid_logreg`: the TF-IDF
block, the actor-mention and rule-vote features, the gate, and the temperature
fitted out of fold. The static table (model2vec's safetensors folder) is copied
into the saved model, so the folder scores on its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from pipeline.encoders.static_encoder import static_encoder
from pipeline.models.hybrid_logreg import HybridLogreg

_STATIC = "static"  # the copy of the distilled table inside a saved model


class StaticLogreg(HybridLogreg):
    """Logistic regression on [static embedding, TF-IDF, actor groups, rule votes], then the gate.

    Settings: those of `hybrid_logreg` (less `encoder_path`) and `static_path`,
    the distilled model folder (`paths.static_encoder`).
    """

    name = "static_logreg"

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return static_encoder(str(self.settings["static_path"])).encode(list(texts))

    def saved_settings(self) -> dict[str, Any]:
        return {**super().saved_settings(), "static_path": _STATIC}

    def save(self, folder: Path) -> None:
        super().save(folder)
        shutil.copytree(self.settings["static_path"], folder / _STATIC)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        return super().load(
            folder, labels=labels, seed=seed, **{**settings, "static_path": str(folder / _STATIC)}
        )
