"""A classifier configured from params: its settings section, what it reads elsewhere
in params, and the run's encoding options (`pipeline.models.registry` names it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.config import Params
from pipeline.encoders.base import EncodingOptions
from pipeline.models.base import StanceClassifier
from pipeline.models.registry import model_class


def _encoder_path(params: Params) -> str | None:
    return str(params.encoder.path) if params.encoder.path else None


def _actors(params: Params) -> dict[str, list[str]]:
    return {group: list(terms) for group, terms in params.proposition.actors.items()}


# What a settings class may list in `from_params`: values from elsewhere in params.
FROM_PARAMS: dict[str, Callable[[Params], Any]] = {
    "encoder_path": _encoder_path,
    "static_path": lambda params: str(params.paths.static_encoder),
    "proposition": lambda params: params.proposition.text,
    "actors": _actors,
    "rules_path": lambda params: str(params.paths.rules),
}


@dataclass(frozen=True)
class _ParamsLookup:
    """`SettingsLookup` over one `Params`."""

    params: Params

    def value(self, key: str) -> Any:
        return FROM_PARAMS[key](self.params)

    def model_settings(self, name: str) -> dict[str, Any]:
        return model_settings(self.params, name)


def model_settings(params: Params, name: str | None = None) -> dict[str, Any]:
    """Constructor settings of a model from params (encoder, actors and rules included)."""
    name = name or params.train.model
    return getattr(params.train.models, name).constructor_settings(_ParamsLookup(params))


def build_model(params: Params, name: str | None = None) -> StanceClassifier:
    """An unfitted classifier configured from params (its encoders run as `encoder` says)."""
    name = name or params.train.model
    return model_class(name)(
        labels=params.labels,
        seed=params.train.seed,
        encoding=EncodingOptions.from_params(params.encoder),
        **model_settings(params, name),
    )
