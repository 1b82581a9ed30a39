"""Cue-pattern rules read from a versioned YAML file, and what they say about a paragraph.

Each rule names a label, a weight in (0, 1] and conditions on the paragraph text:
regular expressions (`any`, `all`, `unless`, case-insensitive) and entity
conditions over named groups (`mentions`, `mentions_any`, `absent`). Groups
come from `proposition.actors` in params plus the file's own `entities`. The
format is described in docs/labeling.md; editing the file needs no Python.

The `rules` labeler (`pipeline.label.rules`) votes with a `RuleSet`; `hybrid_logreg`
uses the same votes as features.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.config import read_yaml
from pipeline.errors import ConfigError
from pipeline.io import display_path
from pipeline.lexicon.entities import EntityMatcher
from pipeline.lexicon.prefilter import Prefiltered, folded
from pipeline.lexicon.vote import ABSTAIN, Vote

RULES_FORMAT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One labelling function: if every condition holds, vote `label` with `weight`."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    label: str
    weight: float = Field(default=0.6, gt=0, le=1)
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    mentions_any: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    @field_validator("any", "all", "unless")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
        return patterns


class RuleFile(_Strict):
    """The whole rules file."""

    version: Literal[1]
    description: str = ""
    entities: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = Field(min_length=1)


def load_rules(
    path: Path, labels: Sequence[str], actors: Mapping[str, Sequence[str]]
) -> tuple[RuleFile, dict[str, tuple[str, ...]]]:
    """Read and check the rules file; return it with the merged entity groups."""
    name = display_path(path)
    raw = read_yaml(path, what="rules file")
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: expected a mapping with 'version' and 'rules'")
    try:
        rule_file = RuleFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        if key == "version":
            message = f"must be {RULES_FORMAT_VERSION} (the format this version reads)"
        raise ConfigError(f"{name}: {key}: {message}") from None
    groups = {**{group: tuple(terms) for group, terms in actors.items()}, **rule_file.entities}
    names: set[str] = set()
    for index, rule in enumerate(rule_file.rules):
        where = f"{name}: rules.{index} ({rule.name})"
        if rule.name in names:
            raise ConfigError(f"{where}: duplicate rule name")
        names.add(rule.name)
        if rule.label not in labels:
            raise ConfigError(f"{where}: label {rule.label!r} is not one of {', '.join(labels)}")
        if not (rule.any or rule.all or rule.mentions or rule.mentions_any or rule.absent):
            raise ConfigError(f"{where}: a rule needs at least one condition")
        unknown = sorted(set(rule.mentions + rule.mentions_any + rule.absent) - set(groups))
        if unknown:
            raise ConfigError(
                f"{where}: unknown entity group {unknown[0]!r} "
                "(define it under proposition.actors in params or entities in the rules file)"
            )
    return rule_file, groups


_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def _any_matcher(patterns: Sequence[str]) -> list[re.Pattern]:
    """Patterns to search for "any of these matches": one alternation when that is the same
    thing (one search instead of many: scoring calls this for every paragraph), else each."""
    separate = [re.compile(p, re.IGNORECASE) for p in patterns]
    if len(patterns) < 2 or any(_BACKREFERENCE.search(p) for p in patterns):
        return separate  # joining would renumber the groups a backreference points to
    try:
        return [re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)]
    except re.error:  # e.g. a global inline flag that must stay first in its pattern
        return separate


def _prefiltered_any(patterns: Sequence[str]) -> list[Prefiltered]:
    """Patterns for "any of these matches", fastest first: each pattern with a literal
    prefilter on its own (only those whose literal the text contains are searched),
    the others joined by `_any_matcher`."""
    separate = [Prefiltered(re.compile(p, re.IGNORECASE)) for p in patterns]
    rest = [p for p, compiled in zip(patterns, separate, strict=True) if compiled.needs is None]
    return [
        *(compiled for compiled in separate if compiled.needs is not None),
        *(Prefiltered(joined) for joined in _any_matcher(rest)),
    ]


class RuleSet:
    """Votes from cue-pattern rules; rules that fire are combined per label.

    Within a label, rule weights combine as a noisy-or, 1 - prod(1 - weight).
    The vote goes to the strongest label, with the gap to the runner-up as its
    score; a tie abstains.
    """

    def __init__(self, rule_file: RuleFile, groups: Mapping[str, Sequence[str]]) -> None:
        self.rule_file = rule_file
        self.groups = groups
        self._entities = EntityMatcher(groups)
        self._compiled = [
            (
                rule,
                _prefiltered_any(rule.any),
                [Prefiltered(re.compile(p, re.IGNORECASE)) for p in rule.all],
                _prefiltered_any(rule.unless),
            )
            for rule in rule_file.rules
        ]

    def fired(self, text: str) -> list[Rule]:
        """The rules whose conditions all hold for `text`."""
        mentioned = self._entities.mentioned(text)
        lowered = folded(text)  # for the patterns' literal prefilters
        hits = []
        for rule, any_of, all_of, unless in self._compiled:
            # The entity conditions first: they cost a set operation, the patterns a search.
            if not set(rule.mentions) <= mentioned or set(rule.absent) & mentioned:
                continue
            if rule.mentions_any and not set(rule.mentions_any) & mentioned:
                continue
            if rule.any and not any(p.search(text, lowered) for p in any_of):
                continue
            if not all(p.search(text, lowered) for p in all_of):
                continue
            if any(p.search(text, lowered) for p in unless):
                continue
            hits.append(rule)
        return hits

    def vote_text(self, text: str) -> Vote:
        """The rules' verdict on one paragraph."""
        strength: dict[str, float] = {}
        for rule in self.fired(text):
            strength[rule.label] = 1 - (1 - strength.get(rule.label, 0.0)) * (1 - rule.weight)
        if not strength:
            return ABSTAIN
        ranked = [*sorted(strength.values(), reverse=True), 0.0]
        gap = ranked[0] - ranked[1]
        if gap <= 1e-9:
            return ABSTAIN
        best = max(strength, key=strength.__getitem__)
        return Vote(best, round(gap, 6))
