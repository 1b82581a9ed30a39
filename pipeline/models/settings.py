"""The typed settings of each built-in model: `train.models.<name>` in params.yaml.

One class per model, registered with its classifier in `pipeline.models.registry`.
Each says which of its keys `params.yaml` may set (with their defaults and bounds)
and, in `from_params`, what else the classifier takes from params (the encoder
folder, the actors, the rules file). This module imports pydantic only, so
validating params never loads scikit-learn or torch.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator


class SettingsLookup(Protocol):
    """What `constructor_settings` may ask of params (`pipeline.models.factory`)."""

    def value(self, key: str) -> Any:
        """A value from elsewhere in params, by a name `from_params` may list."""

    def model_settings(self, name: str) -> dict[str, Any]:
        """The constructor settings of another model (a cascade's part, a member)."""


class ClassifierSettings(BaseModel):
    """Base of a model's settings: unknown keys and wrong types fail with their name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # What the classifier also takes from params, in this order (`factory.FROM_PARAMS`).
    from_params: ClassVar[tuple[str, ...]] = ()

    def constructor_settings(self, lookup: SettingsLookup) -> dict[str, Any]:
        """The classifier's constructor settings: these keys, then `from_params`. What this
        returns is hashed into the model id and saved in model.json."""
        return {**self.model_dump(), **{key: lookup.value(key) for key in self.from_params}}


def _model_names(info: ValidationInfo, *excluded: str) -> set[str] | None:
    """The registered model names less `excluded`, which params validation passes as
    context (None when a settings object is built directly: names are not checked)."""
    names = (info.context or {}).get("models")
    return None if names is None else set(names) - set(excluded)


class TfidfLogregSettings(ClassifierSettings):
    """TF-IDF of word n-grams + logistic regression."""

    ngram_max: int = Field(default=2, ge=1, le=4)
    min_df: int = Field(default=1, ge=1)
    C: float = Field(default=4.0, gt=0)


class EmbedLogregSettings(ClassifierSettings):
    """Frozen sentence embeddings (the encoder) + logistic regression."""

    C: float = Field(default=1.0, gt=0)

    from_params = ("encoder_path",)


class HybridLogregSettings(ClassifierSettings):
    """Embeddings + actor mentions + rule votes, then the actor gate (docs/training.md)."""

    C: float = Field(default=0.3, gt=0)
    feature_scale: float = Field(default=2.0, gt=0)
    gate_strength: float = Field(default=0.5, ge=0, le=1)
    min_actor_groups: int = Field(default=2, ge=1)
    lexical_weight: float = Field(default=1.0, ge=0)
    lexical_min_df: int = Field(default=2, ge=1)

    from_params = ("encoder_path", "actors", "rules_path")


class StaticLogregSettings(HybridLogregSettings):
    """`hybrid_logreg`'s features and gate on the distilled static embeddings (the fast tier)."""

    from_params = ("static_path", "actors", "rules_path")


class CascadeSettings(ClassifierSettings):
    """The fast model scores every paragraph; those whose top probability is under
    `threshold` are scored again by the slow one."""

    fast: str = "static_logreg"
    slow: str = "hybrid_logreg"
    threshold: float = Field(default=0.6, ge=0, le=1)

    @model_validator(mode="after")
    def _two_distinct_models(self, info: ValidationInfo) -> CascadeSettings:
        allowed = _model_names(info, "cascade")
        for key in ("fast", "slow"):
            if allowed is not None and getattr(self, key) not in allowed:
                raise ValueError(
                    f"{key}: {getattr(self, key)!r} is not one of {', '.join(sorted(allowed))}"
                )
        if self.fast == self.slow:
            raise ValueError("fast and slow must be different models")
        return self

    def constructor_settings(self, lookup: SettingsLookup) -> dict[str, Any]:
        return {
            **self.model_dump(),
            "fast_settings": lookup.model_settings(self.fast),
            "slow_settings": lookup.model_settings(self.slow),
        }


class SetFitSettings(ClassifierSettings):
    """SetFit: contrastive fine-tuning of the encoder, then a logistic-regression head."""

    max_steps: int = Field(default=64, ge=1)
    batch_size: int = Field(default=16, ge=2)
    body_learning_rate: float = Field(default=2e-5, gt=0)
    C: float = Field(default=1.0, gt=0)

    from_params = ("encoder_path",)


class TransformerSettings(ClassifierSettings):
    """The encoder fine-tuned end to end with a classification layer (transformers' Trainer)."""

    epochs: float = Field(default=3.0, gt=0)
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float = Field(default=5e-5, gt=0)
    weight_decay: float = Field(default=0.01, ge=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    label_smoothing: float = Field(default=0.0, ge=0, lt=1)  # ε of the smoothed targets

    from_params = ("encoder_path",)


class CrossEncoderSettings(TransformerSettings):
    """`transformer` reading (proposition, paragraph) pairs: the claim's text comes along."""

    context: bool = False  # also read the article title and section heading

    from_params = ("encoder_path", "proposition")


class EnsembleSettings(ClassifierSettings):
    """The weighted mean of several models' probabilities."""

    members: tuple[str, ...] = ("hybrid_logreg", "tfidf_logreg")
    weights: tuple[float, ...] = ()  # one per member (normalised); empty: equal weights

    @model_validator(mode="after")
    def _known_distinct_members(self, info: ValidationInfo) -> EnsembleSettings:
        allowed = _model_names(info, "cascade", "ensemble")
        unknown = [name for name in self.members if allowed is not None and name not in allowed]
        if unknown:
            raise ValueError(f"members: {unknown[0]!r} is not one of {', '.join(sorted(allowed))}")
        if len(self.members) < 2 or len(set(self.members)) != len(self.members):
            raise ValueError("members: list two or more models, each once")
        if self.weights and len(self.weights) != len(self.members):
            raise ValueError("weights: give one weight per member, or none")
        if self.weights and (min(self.weights) < 0 or sum(self.weights) <= 0):
            raise ValueError("weights: must be non-negative with a positive sum")
        return self

    def constructor_settings(self, lookup: SettingsLookup) -> dict[str, Any]:
        members = list(self.members)
        return {
            "members": members,
            "weights": list(self.weights),
            "member_settings": {member: lookup.model_settings(member) for member in members},
        }
