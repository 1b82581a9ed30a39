"""Names used in `params.yaml` (label.<name>) mapped to the labelers they build.

To add a labeler: write one `Labeler` subclass in its own module, add its
settings to `LabelParams` in `pipeline/config.py`, and add a builder here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pipeline.config import Params
from pipeline.encoders.base import EncodingOptions, TextEncoder
from pipeline.encoders.factory import make_encoder
from pipeline.label.annotations import Annotation
from pipeline.label.base import Labeler


@dataclass
class LabelerContext:
    """What builders may need besides params: current annotations and a shared encoder."""

    params: Params
    annotations: Mapping[str, Annotation]
    encoder: TextEncoder | None = None

    def shared_encoder(self) -> TextEncoder:
        if self.encoder is None:
            options = EncodingOptions.from_params(self.params.encoder)
            self.encoder = make_encoder(self.params.encoder.path, options)
        return self.encoder


def _gold(context: LabelerContext) -> Labeler:
    from pipeline.label.gold import GoldLabeler

    return GoldLabeler(context.annotations)


def _rules(context: LabelerContext) -> Labeler:
    from pipeline.label.rules import RulesLabeler
    from pipeline.lexicon.rules import load_rules

    params = context.params
    rule_file, groups = load_rules(params.paths.rules, params.labels, params.proposition.actors)
    return RulesLabeler(rule_file, groups)


def _prototypes(context: LabelerContext) -> Labeler:
    from pipeline.label.prototypes import PrototypeLabeler

    params = context.params
    return PrototypeLabeler(
        context.shared_encoder(),
        params.proposition.statements,
        params.proposition.actors,
        params.neutral_label,
        params.label.prototypes,
    )


def _nli(context: LabelerContext) -> Labeler:
    from pipeline.label.nli import NliLabeler

    settings = context.params.label.nli
    return NliLabeler.from_settings(settings, settings.hypotheses)


LABELERS: dict[str, Callable[[LabelerContext], Labeler]] = {
    "gold": _gold,
    "rules": _rules,
    "prototypes": _prototypes,
    "nli": _nli,
}


def build_labelers(context: LabelerContext) -> list[Labeler]:
    """The labelers switched on in params, in registry order."""
    settings = context.params.label
    return [build(context) for name, build in LABELERS.items() if getattr(settings, name).enabled]


def labeler_weights(params: Params) -> dict[str, float]:
    """Weight of each labeler in the aggregate vote, from params."""
    return {name: getattr(params.label, name).weight for name in LABELERS}
