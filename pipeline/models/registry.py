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
    "static_logreg": ("pipeline.models.static_logreg", "StaticLogreg"),
    "cascade": ("pipeline.models.cascade", "CascadeClassifier"),
    "setfit": ("pipeline.models.setfit_model", "SetFitClassifier"),
    "transformer": ("pipeline.models.transformer_model", "TransformerClassifier"),
    "cross_encoder": ("pipeline.models.cross_encoder", "CrossEncoderClassifier"),
    "ensemble": ("pipeline.models.ensemble", "EnsembleClassifier"),
}


def model_class(name: str) -> type[StanceClassifier]:
    """The class registered under `name`."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    module, attribute = MODELS[name]
    return getattr(import_module(module), attribute)


def model_settings(params: Params, name: str | None = None) -> dict[str, Any]:
    """Constructor settings of a model from params (encoder, actors and rules included)."""
    name = name or params.train.model
    settings = getattr(params.train.models, name).model_dump()
    if name == "cascade":
        for part in ("fast", "slow"):
            settings[f"{part}_settings"] = model_settings(params, settings[part])
        return settings
    if name == "ensemble":
        settings["members"] = list(settings["members"])
        settings["weights"] = list(settings["weights"])
        settings["member_settings"] = {
            member: model_settings(params, member) for member in settings["members"]
        }
        return settings
    if name in ("embed_logreg", "hybrid_logreg", "setfit", "transformer", "cross_encoder"):
        settings["encoder_path"] = str(params.encoder.path) if params.encoder.path else None
    if name == "cross_encoder":
        settings["proposition"] = params.proposition.text
    if name == "static_logreg":
        settings["static_path"] = str(params.paths.static_encoder)
    if name in ("hybrid_logreg", "static_logreg"):
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
