"""Names used in `train.model` mapped to classifier classes and their typed settings.

`params.yaml` (`train.model`, `train.models.<name>`, `compare.models`), `stance zoo`
and loading a model folder all read this table. A built-in model is an entry in
`MODELS`, its classifier imported only when used (heavy libraries load with their
model); any other model registers itself with `register_model`. Building one from
params is `pipeline.models.factory`. `pipeline.config` validates `train.models` and the
model names with `ModelSettings` and `ModelName` from here, so this module imports the
settings classes only (and classifiers are typed `type`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from pipeline.models.settings import (
    CascadeSettings,
    ClassifierSettings,
    CrossEncoderSettings,
    EmbedLogregSettings,
    EnsembleSettings,
    HybridLogregSettings,
    SetFitSettings,
    StaticLogregSettings,
    TfidfLogregSettings,
    TransformerSettings,
)

Classifier = TypeVar("Classifier", bound=type)  # a `StanceClassifier` subclass


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its settings class, and its classifier or "module:Class"."""

    settings: type[ClassifierSettings]
    classifier: str | type

    def load_class(self) -> type:
        """The classifier class, importing its module on first use."""
        if not isinstance(self.classifier, str):
            return self.classifier
        module, attribute = self.classifier.split(":")
        return getattr(import_module(module), attribute)


# In registration order: the order `train.model`'s error message lists them in.
MODELS: dict[str, ModelEntry] = {
    "tfidf_logreg": ModelEntry(TfidfLogregSettings, "pipeline.models.tfidf_logreg:TfidfLogreg"),
    "embed_logreg": ModelEntry(EmbedLogregSettings, "pipeline.models.embed_logreg:EmbedLogreg"),
    "hybrid_logreg": ModelEntry(HybridLogregSettings, "pipeline.models.hybrid_logreg:HybridLogreg"),
    "static_logreg": ModelEntry(StaticLogregSettings, "pipeline.models.static_logreg:StaticLogreg"),
    "cascade": ModelEntry(CascadeSettings, "pipeline.models.cascade:CascadeClassifier"),
    "setfit": ModelEntry(SetFitSettings, "pipeline.models.setfit_model:SetFitClassifier"),
    "transformer": ModelEntry(
        TransformerSettings, "pipeline.models.transformer_model:TransformerClassifier"
    ),
    "cross_encoder": ModelEntry(
        CrossEncoderSettings, "pipeline.models.cross_encoder:CrossEncoderClassifier"
    ),
    "ensemble": ModelEntry(EnsembleSettings, "pipeline.models.ensemble:EnsembleClassifier"),
}


def register_model(
    name: str, settings: type[ClassifierSettings]
) -> Callable[[Classifier], Classifier]:
    """Class decorator: make a classifier available as `train.model: <name>`, its
    `train.models.<name>` section validated by `settings`."""

    def register(cls: Classifier) -> Classifier:
        if name in MODELS:
            raise ValueError(f"a model named {name!r} is already registered")
        cls.name = name
        MODELS[name] = ModelEntry(settings, cls)
        return cls

    return register


def model_names() -> tuple[str, ...]:
    """Every registered model name, in registration order."""
    return tuple(MODELS)


def settings_class(name: str) -> type[ClassifierSettings]:
    """The settings class of model `name` (what `train.models.<name>` must match)."""
    return _entry(name).settings


def model_class(name: str) -> type:
    """The class registered under `name`."""
    return _entry(name).load_class()


def _entry(name: str) -> ModelEntry:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]


def _registered_model(name: str) -> str:
    """A registered name (looked up when params are read, so a model registered after
    `pipeline.config` was imported counts); otherwise the error a `Literal` gives."""
    names = model_names()
    if name not in names:
        expected = ", ".join(repr(known) for known in names[:-1]) + f" or {names[-1]!r}"
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": expected}
        )
    return name


ModelName = Annotated[str, AfterValidator(_registered_model)]  # `train.model`, `compare.models`


class ModelSettings(BaseModel):
    """`train.models` in params: one section per registered model, each validated by that
    model's settings class, errors under its dotted key (`train.models.<name>.<key>`);
    `train.model` picks one. Sections read as attributes: `params.train.models.cascade`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _registered_sections(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw  # pydantic refuses it with the usual message
        names = model_names()
        problems = [
            InitErrorDetails(type="extra_forbidden", loc=(name,), input=raw[name])
            for name in raw
            if name not in names
        ]
        sections = {}
        for name in names:
            section = raw.get(name, {})
            try:  # the names as context: a cascade's parts, an ensemble's members
                sections[name] = settings_class(name).model_validate(
                    section, context={"models": names}
                )
            except ValidationError as error:
                problems += [_located(problem, name) for problem in error.errors()]
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return sections


def _located(problem: Any, name: str) -> InitErrorDetails:
    """A settings class's error, placed under its model's section."""
    kind = problem["type"]
    error = (
        kind
        if kind in ("extra_forbidden", "missing")
        else PydanticCustomError(kind, problem["msg"])
    )
    return InitErrorDetails(type=error, loc=(name, *problem["loc"]), input=problem["input"])
