"""Names used in `train.model` mapped to classifier classes (imported on demand)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from pipeline.config import Params
from pipeline.models.base import StanceClassifier

# name -> (module, class); heavy libraries load only when their model is used.
MODELS: dict[str, tuple[str, str]] = {
    "tfidf_logreg": ("pipeline.models.tfidf_logreg", "TfidfLogreg"),
    "embed_logreg": ("pipeline.models.embed_logreg", "EmbedLogreg"),
    "hybrid_logreg": ("pipeline.models.hybrid_logreg", "HybridLogreg"),
    "setfit": ("pipeline.models.setfit_model", "SetFitClassifier"),
    "transformer": ("pipeline.models.transformer_model", "TransformerClassifier"),
}


def model_class(name: str) -> type[StanceClassifier]:
    """The class registered under `name`."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    module, attribute = MODELS[name]
    return getattr(import_module(module), attribute)


def model_settings(params: Params, name: str | None = None) -> dict[str, Any]:
    """Constructor settings of a model from params (the encoder path included)."""
    name = name or params.train.model
    settings = getattr(params.train.models, name).model_dump()
    if name != "tfidf_logreg":
        settings["encoder_path"] = str(params.encoder.path) if params.encoder.path else None
    if name == "hybrid_logreg":
        settings["actors"] = {
            group: list(terms) for group, terms in params.proposition.actors.items()
        }
        settings["rules_path"] = str(params.paths.rules)
    return settings


def build_model(params: Params, name: str | None = None) -> StanceClassifier:
    """An unfitted classifier configured from params."""
    name = name or params.train.model
    return model_class(name)(
        labels=params.labels, seed=params.train.seed, **model_settings(params, name)
    )
