"""The `distill` stage: write `paths.static_encoder` from the encoder with model2vec.

Reads the sentence encoder (`encoder.path`, default the bundled MiniLM) and the
`distill` params; writes model2vec's folder (`model.safetensors`,
`tokenizer.json`, `config.json`) atomically. About 15 s on 2 cores: one
forward pass per token of the encoder's ~30k-token vocabulary.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.config import Params
from pipeline.encoders.static_encoder import distill_static
from pipeline.io import atomic_folder, display_path

log = logging.getLogger(__name__)


def run_distill(params: Params) -> Path:
    """Distil the static model and save it under `paths.static_encoder`; return the folder."""
    static = distill_static(
        params.encoder.path,
        pca_dims=params.distill.pca_dims,
        sif_coefficient=params.distill.sif_coefficient,
    )
    folder = params.paths.static_encoder
    with atomic_folder(folder) as staging:
        static.save_pretrained(staging, model_name=static.base_model_name)
    vocabulary, dims = static.embedding.shape
    log.info("distill: %d tokens x %d dimensions -> %s", vocabulary, dims, display_path(folder))
    return folder
