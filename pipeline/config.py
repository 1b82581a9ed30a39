"""The one place that reads `params.yaml` and turns it into a typed object.

Every stage receives a `Params`; no other module opens the file. Unknown keys
and wrong types fail with the dotted name of the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError

DEFAULT_PARAMS = Path("params.yaml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Proposition(_Section):
    """The claim whose stance is measured, with a short id used in model cards."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: str = Field(min_length=3)


class Paths(_Section):
    """Where the corpus lives and where each stage writes (relative to params.yaml)."""

    corpus_dir: Path
    manifest: Path
    paragraphs: Path
    segment_metrics: Path


class SegmentParams(_Section):
    """Knobs of the `segment` stage."""

    extensions: tuple[str, ...] = (".txt", ".md", ".markdown", ".html", ".htm")
    max_file_mb: float = Field(default=20.0, gt=0)
    min_words: int = Field(default=1, ge=1)
    extra_chrome_patterns: tuple[str, ...] = ()

    @field_validator("extensions")
    @classmethod
    def _dotted_lowercase(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one extension is needed")
        return tuple(ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in value)

    @field_validator("extra_chrome_patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
        return value


class Params(_Section):
    """Everything `params.yaml` configures."""

    proposition: Proposition
    labels: tuple[str, ...]
    paths: Paths
    segment: SegmentParams = SegmentParams()

    @field_validator("labels")
    @classmethod
    def _distinct_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) < 2:
            raise ValueError("at least two labels are needed")
        if len(set(value)) != len(value):
            raise ValueError("labels must be distinct")
        if any(not re.fullmatch(r"[a-z][a-z0-9_]*", label) for label in value):
            raise ValueError("labels must be lowercase identifiers (e.g. favor, against, none)")
        return value

    def resolved(self, root: Path) -> Params:
        """Return a copy whose relative paths are anchored at `root` (params.yaml's folder)."""
        anchored = {
            name: (path if path.is_absolute() else root / path)
            for name, path in self.paths.model_dump().items()
        }
        return self.model_copy(update={"paths": Paths(**anchored)})


def load_params(path: Path = DEFAULT_PARAMS) -> Params:
    """Read and validate `path`; relative paths inside it are resolved against its folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: params file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read params file ({error})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return parse_params(raw, source=str(path)).resolved(path.resolve().parent)


def parse_params(raw: dict[str, Any], *, source: str = "params") -> Params:
    """Validate a params mapping; the first problem is reported by its dotted key."""
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required key is missing"
        raise ConfigError(f"{source}: {key}: {message}") from None
