"""Paragraphs written from real coverage: training examples and the development set.

Each line of `paths.press` (training) and `paths.dev` (the frozen development set) is a
paragraph the team wrote in its own words from one real page, labelled by the
annotation guidelines, with its provenance:

    {"id": "press-T1-0001", "text": "...", "label": "none", "rule": 7, "note": "...",
     "source_outlet": "...", "source_url": "https://...", "title": "...",
     "genre": "think-tank", "year": 2024, "region": "europe", "position": 3}

Paragraphs written from one page keep its order (`source_url`, `position`), so the
development set also gives per-article stance indices. Both files are human data:
read and validated here, never rewritten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import InputDataError, first_problem
from pipeline.io import display_path
from pipeline.label.annotations import read_jsonl_records

GENRES = (
    "wire",
    "newspaper",
    "op-ed",
    "think-tank",
    "state-media",
    "broadcaster",
    "magazine",
    "blog",
    "newsletter",
    "academic",
    "government",
)


class WrittenRecord(BaseModel):
    """The schema of one line; `label` is checked against `params.labels` separately."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    label: str
    rule: int | None = Field(ge=1, le=17)
    note: str = Field(min_length=1)
    source_outlet: str = Field(min_length=1)
    source_url: str = Field(pattern=r"^https?://\S+$")
    title: str
    genre: str
    year: int = Field(ge=1990, le=2100)
    region: str = Field(pattern=r"^[a-z]+(?:-[a-z]+)*$")  # e.g. europe, south-asia
    position: int = Field(ge=1)


@dataclass(frozen=True)
class WrittenExample:
    """One validated line, with the article (page) it was written from."""

    example_id: str
    text: str
    label: str
    outlet: str
    source_url: str
    article_id: str
    title: str
    genre: str
    year: int
    region: str
    position: int
    rule: int | None
    note: str
    line: int


def article_id(source_url: str) -> str:
    """A stable id for the page a paragraph was written from."""
    return hashlib.sha256(source_url.encode("utf-8")).hexdigest()[:12]


def read_written(path: Path, labels: Sequence[str]) -> list[WrittenExample]:
    """Read and validate a file of written paragraphs; problems are one line naming it."""
    name = display_path(path)
    examples: list[WrittenExample] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in read_jsonl_records(path):
        where = f"{name}:{number}"
        try:
            record = WrittenRecord.model_validate(raw)
        except ValidationError as error:
            raise InputDataError(f"{where}: {first_problem(error, top='(line)')}") from None
        _check_vocabulary(record, where, labels)
        for kind, value in (("id", record.id), ("text", record.text)):
            if (kind, value) in seen:
                raise InputDataError(f"{where}: same {kind} as line {seen[(kind, value)]}")
            seen[(kind, value)] = number
        examples.append(
            WrittenExample(
                example_id=record.id,
                text=record.text,
                label=record.label,
                outlet=record.source_outlet,
                source_url=record.source_url,
                article_id=article_id(record.source_url),
                title=record.title,
                genre=record.genre,
                year=record.year,
                region=record.region,
                position=record.position,
                rule=record.rule,
                note=record.note,
                line=number,
            )
        )
    return examples


def _check_vocabulary(record: WrittenRecord, where: str, labels: Sequence[str]) -> None:
    for key, value, allowed in (
        ("label", record.label, labels),
        ("genre", record.genre, GENRES),
    ):
        if value not in allowed:
            raise InputDataError(f"{where}: {key} {value!r} is not one of {', '.join(allowed)}")
