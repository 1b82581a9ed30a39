"""Behavioural tests of the trained model (CheckList style): minimal pairs per guideline
rule and invariance groups, scored into `paths.behaviour_metrics`.

Each line of `paths.behaviour` is one paragraph written for these tests:

    {"id": "r07-a-1", "kind": "pair", "group": "r07-a", "rule": 7, "perturbation": null,
     "text": "...", "label": "none", "note": "..."}

A `pair` group holds two paragraphs that differ minimally and take different labels
under one rule of the annotation guidelines (`rule`); an `invariance` group holds two or
more paragraphs that differ only by a surface change (`perturbation`: another outlet,
date, city or name for the same actor) and share one label. The file is human data:
read and validated here, never rewritten. See docs/behaviour.md.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.artifacts import model_folder
from pipeline.config import Params
from pipeline.encoders.base import EncodingOptions
from pipeline.errors import InputDataError, first_problem
from pipeline.headline import behaviour_headline, write_headlines
from pipeline.io import atomic_output, display_path
from pipeline.label.annotations import read_jsonl_records
from pipeline.models.base import StanceClassifier
from pipeline.models.persist import load_model

log = logging.getLogger(__name__)

DIGITS = 4  # metrics are rounded to this many decimals


class BehaviourRecord(BaseModel):
    """The schema of one line; `label` is checked against `params.labels` separately."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Literal["pair", "invariance"]
    group: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    rule: int | None = Field(ge=1)
    perturbation: str | None = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str = Field(min_length=1)
    label: str
    note: str = Field(min_length=1)


@dataclass(frozen=True)
class BehaviourCase:
    """One validated line, with its line number for messages."""

    case_id: str
    kind: str
    group: str
    rule: int | None
    perturbation: str | None
    text: str
    label: str
    line: int


def read_cases(path: Path, labels: Sequence[str]) -> list[BehaviourCase]:
    """Read and validate the cases file; every problem is one line naming `file:line`."""
    name = display_path(path)
    if not path.is_file():
        raise InputDataError(f"{name}: behaviour cases not found (paths.behaviour)")
    cases: list[BehaviourCase] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in read_jsonl_records(path):
        where = f"{name}:{number}"
        case = _parse_case(raw, where, number, labels)
        for key, value in (("id", case.case_id), ("text", case.text)):
            if (key, value) in seen:
                raise InputDataError(f"{where}: same {key} as line {seen[(key, value)]}")
            seen[(key, value)] = number
        cases.append(case)
    if not cases:
        raise InputDataError(f"{name}: no behaviour cases")
    for members in groups(cases).values():
        _check_group(members, name)
    return cases


def _parse_case(raw: dict, where: str, number: int, labels: Sequence[str]) -> BehaviourCase:
    try:
        record = BehaviourRecord.model_validate(raw)
    except ValidationError as error:
        raise InputDataError(f"{where}: {first_problem(error, top='(line)')}") from None
    if record.label not in labels:
        raise InputDataError(f"{where}: label {record.label!r} is not one of {', '.join(labels)}")
    if record.kind == "pair" and (record.rule is None or record.perturbation is not None):
        raise InputDataError(f"{where}: a pair names its rule and no perturbation")
    if record.kind == "invariance" and record.perturbation is None:
        raise InputDataError(f"{where}: an invariance case names its perturbation")
    return BehaviourCase(
        case_id=record.id,
        kind=record.kind,
        group=record.group,
        rule=record.rule,
        perturbation=record.perturbation,
        text=record.text,
        label=record.label,
        line=number,
    )


def groups(cases: Sequence[BehaviourCase]) -> dict[str, list[BehaviourCase]]:
    """Cases by group, groups and members in file order."""
    by_group: dict[str, list[BehaviourCase]] = defaultdict(list)
    for case in cases:
        by_group[case.group].append(case)
    return dict(by_group)


def _check_group(members: Sequence[BehaviourCase], name: str) -> None:
    """A pair is two cases of one rule with different labels; an invariance group is two
    or more cases of one perturbation with one label."""
    first = members[0]
    for case in members[1:]:
        where = f"{name}:{case.line}: group {case.group!r}"
        if (case.kind, case.rule, case.perturbation) != (
            first.kind,
            first.rule,
            first.perturbation,
        ):
            raise InputDataError(
                f"{where}: kind, rule and perturbation differ from line {first.line}"
            )
        if first.kind == "invariance" and case.label != first.label:
            raise InputDataError(f"{where}: an invariance group keeps one label")
    last = members[-1]
    where = f"{name}:{last.line}: group {first.group!r}"
    if first.kind == "pair" and len(members) != 2:
        raise InputDataError(f"{where}: a pair has exactly 2 cases, not {len(members)}")
    if first.kind == "pair" and first.label == last.label:
        raise InputDataError(f"{where}: the two cases of a pair take different labels")
    if first.kind == "invariance" and len(members) < 2:
        raise InputDataError(f"{where}: an invariance group has at least 2 cases")


def _rate(passed: Sequence[bool]) -> float | None:
    return round(float(np.mean(passed)), DIGITS) if len(passed) else None


def margin_shift(
    members: Sequence[BehaviourCase], probs: dict[str, np.ndarray], labels: Sequence[str]
) -> float:
    """How much the margin of the second member's label over the first's grows from the
    first paragraph to the second; above 0 meets the directional expectation."""
    first, second = members
    towards, away = labels.index(second.label), labels.index(first.label)
    before, after = probs[first.case_id], probs[second.case_id]
    return float((after[towards] - after[away]) - (before[towards] - before[away]))


def score_behaviour(classifier: StanceClassifier, cases: Sequence[BehaviourCase]) -> dict:
    """The pure core: overall, per-rule and per-perturbation pass rates (4 decimals)."""
    labels = list(classifier.labels)
    matrix = classifier.predict_proba([case.text for case in cases])
    probs = {case.case_id: row for case, row in zip(cases, matrix, strict=True)}
    predicted = {case.case_id: labels[int(probs[case.case_id].argmax())] for case in cases}
    right = {case.case_id: predicted[case.case_id] == case.label for case in cases}
    rules: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    perturbations: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for members in groups(cases).values():
        first = members[0]
        bucket = rules[first.rule] if first.kind == "pair" else perturbations[first.perturbation]
        bucket["labels"] += [right[case.case_id] for case in members]
        bucket["groups"].append(all(right[case.case_id] for case in members))
        if first.kind == "pair":
            shift = margin_shift(members, probs, labels)
            bucket["directional"].append(shift > 0)
            bucket["shift"].append(shift)
        else:
            rows = np.stack([probs[case.case_id] for case in members])
            bucket["unchanged"].append(len({predicted[case.case_id] for case in members}) == 1)
            bucket["shift"].append(float((rows.max(axis=0) - rows.min(axis=0)).max()))
    return {
        "cases": len(cases),
        "overall": _overall(rules, perturbations),
        "rules": {str(rule): _rule_summary(rules[rule]) for rule in sorted(rules)},
        "invariance": {
            name: _invariance_summary(perturbations[name]) for name in sorted(perturbations)
        },
        "failed": sorted(case.case_id for case in cases if not right[case.case_id]),
    }


def _rule_summary(bucket: dict[str, list]) -> dict:
    return {
        "cases": len(bucket["labels"]),
        "pairs": len(bucket["groups"]),
        "label_pass_rate": _rate(bucket["labels"]),
        "pair_pass_rate": _rate(bucket["groups"]),
        "directional_pass_rate": _rate(bucket["directional"]),
        "mean_margin_shift": round(float(np.mean(bucket["shift"])), DIGITS),
    }


def _invariance_summary(bucket: dict[str, list]) -> dict:
    return {
        "cases": len(bucket["labels"]),
        "groups": len(bucket["groups"]),
        "label_pass_rate": _rate(bucket["labels"]),
        "unchanged_rate": _rate(bucket["unchanged"]),
        "max_probability_shift": round(max(bucket["shift"]), DIGITS),
    }


def _overall(rules: dict, perturbations: dict) -> dict:
    def pooled(source: dict, key: str) -> list:
        return [value for bucket in source.values() for value in bucket[key]]

    return {
        "label_pass_rate": _rate(pooled(rules, "labels") + pooled(perturbations, "labels")),
        "pairs": len(pooled(rules, "groups")),
        "pair_pass_rate": _rate(pooled(rules, "groups")),
        "directional_pass_rate": _rate(pooled(rules, "directional")),
        "invariance_groups": len(pooled(perturbations, "groups")),
        "invariance_rate": _rate(pooled(perturbations, "unchanged")),
    }


def write_metrics(metrics: dict, path: Path) -> None:
    """Write the metrics JSON atomically (no timestamps: identical runs, identical bytes)."""
    with atomic_output(path, "w") as stream:
        json.dump(metrics, stream, indent=2)
        stream.write("\n")


def run_behaviour(params: Params) -> dict:
    """Run the stage end to end; the CLI and `dvc.yaml` call this."""
    cases = read_cases(params.paths.behaviour, params.labels)
    folder = model_folder(params)
    trained = load_model(
        folder,
        trusted_encoder=params.encoder.path,
        encoding=EncodingOptions.from_params(params.encoder),
    )
    if list(trained.labels) != list(params.labels):
        raise InputDataError(
            f"{display_path(folder)}: model labels {list(trained.labels)} are not "
            f"params labels {list(params.labels)}; re-run `dvc repro`"
        )
    # The uncalibrated classifier: the behaviour tests score the same object they train.
    metrics = {
        "model_id": trained.card.get("model_id"),
        **score_behaviour(trained.classifier, cases),
    }
    write_metrics(metrics, params.paths.behaviour_metrics)
    write_headlines(params.paths.headline_metrics, {"behaviour.json": behaviour_headline(metrics)})
    overall = metrics["overall"]
    log.info(
        "behaviour: %d cases; pass rates: labels %s, pairs %s, invariance %s -> %s",
        len(cases),
        overall["label_pass_rate"],
        overall["pair_pass_rate"],
        overall["invariance_rate"],
        display_path(params.paths.behaviour_metrics),
    )
    return metrics
