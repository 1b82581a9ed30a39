"""The I/O shell of the `report` stage.

Reads the paragraphs, the gold labels (from `paths.labels`), the out-of-fold
predictions and the trained model; writes under `paths.reports`:
`sources.csv`, `sources.json`, `articles.csv`, `paragraphs.csv`, `timeline.csv`,
`groups.csv`, `report.html` and `sources.png`.

Gold paragraphs are scored by their out-of-fold predictions (a model that never
saw their source); every other paragraph by the final model.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pandas as pd

from pipeline.artifacts import model_folder, read_card
from pipeline.config import Params
from pipeline.csvfile import frame_to_csv, write_csv
from pipeline.encoders.base import EncodingOptions
from pipeline.errors import InputDataError
from pipeline.io import atomic_output, display_path, read_stage_table
from pipeline.models.base import frame_contexts
from pipeline.models.persist import load_model
from pipeline.report.charts import Trends
from pipeline.report.groups import GROUP_COLUMNS, build_groups
from pipeline.report.html import render_report
from pipeline.report.plot import save_index_chart
from pipeline.report.summary import (
    IndexSettings,
    add_shrinkage,
    add_stance,
    evidence,
    index_settings,
    summarize,
)
from pipeline.report.timeline import TIMELINE_COLUMNS, build_timeline
from pipeline.segment.manifest import is_outlet_column

log = logging.getLogger(__name__)

_PARAGRAPH_COLUMNS = ("paragraph_id", "doc_id", "source", "title", "position", "text")
_OOF_COLUMNS = ("paragraph_id", "model_id", "gold", "label")
INDEX_DEFINITION = (
    "mean over the paragraphs of P(favor) - P(against); gold index: mean of +1 (favor), "
    "-1 (against), 0 (none) over gold-labelled paragraphs"
)


def score_paragraphs(
    paragraphs: pd.DataFrame, oof: pd.DataFrame, params: Params, folder: Path
) -> pd.DataFrame:
    """Every paragraph with probabilities: out-of-fold where gold exists, else the final model."""
    labels = list(params.labels)
    prob_columns = [f"prob_{label}" for label in labels]
    missing = [column for column in prob_columns if column not in oof.columns]
    if missing:
        raise InputDataError(
            f"{display_path(params.paths.oof)}: missing column {missing[0]!r}; "
            "re-run `stance evaluate`"
        )
    held_out = oof.set_index("paragraph_id")[["gold", *prob_columns]]
    metadata = [c for c in paragraphs.columns if c == "date" or is_outlet_column(c)]
    frame = paragraphs[[*_PARAGRAPH_COLUMNS, *metadata]].join(held_out, on="paragraph_id")
    unseen = frame.gold.isna().to_numpy()
    frame["origin"] = "out-of-fold"
    if unseen.any():
        model = load_model(
            folder,
            trusted_encoder=params.encoder.path,
            encoding=EncodingOptions.from_params(params.encoder),
        )
        log.info("report: scoring %d paragraphs without gold with the final model", unseen.sum())
        where = frame_contexts(paragraphs.loc[frame.index[unseen]])  # title, section
        probs = model.predict_proba(frame.loc[unseen, "text"].tolist(), where)
        frame.loc[unseen, prob_columns] = probs
        frame.loc[unseen, "origin"] = "final model"
    frame["gold"] = frame.gold.astype(object).where(frame.gold.notna(), None)
    frame["label"] = [labels[i] for i in frame[prob_columns].to_numpy().argmax(axis=1)]
    return frame.sort_values(["source", "doc_id", "position"], kind="stable").reset_index(drop=True)


def build_report(scored: pd.DataFrame, settings: IndexSettings) -> tuple[dict, dict, pd.DataFrame]:
    """The pure core: (sources, articles, paragraph table with stance columns)."""
    frame = add_stance(scored, settings)
    sources = summarize(frame, "source", settings, by_article=True)
    shrinkage = add_shrinkage(sources, frame, "source")
    for name, summary in sources.items():
        summary["evidence"] = evidence(frame[frame.source == name], settings)
    articles = summarize(frame, "doc_id", settings)
    for doc_id, summary in articles.items():
        first = frame[frame.doc_id == doc_id].iloc[0]
        summary["source"] = first.source
        summary["title"] = first.title if isinstance(first.title, str) else ""
    return {"shrinkage": shrinkage, "sources": sources}, articles, frame


def build_trends(frame: pd.DataFrame, params: Params, settings: IndexSettings) -> Trends:
    """Stance over time and outlets by group, from the paragraph table with stance columns."""
    report = params.report
    timeline = build_timeline(
        frame,
        settings,
        period=report.period,
        min_period_paragraphs=report.min_period_paragraphs,
    )
    groups = build_groups(frame, settings, where=display_path(params.paths.paragraphs))
    return Trends(timeline, groups, report.events)


def _csv_text(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    write_csv(buffer, rows, columns, extrasaction="ignore")
    return buffer.getvalue()


def _flat(name_key: str, name: str, summary: dict, labels: tuple[str, ...]) -> dict:
    row = {name_key: name, **{k: v for k, v in summary.items() if not isinstance(v, dict)}}
    row.update({f"n_{label}": summary["counts"][label] for label in labels})
    row.update({f"share_{label}": summary["share"][label] for label in labels})
    row.update({f"gold_{key}": value for key, value in summary["gold"].items()})
    return row


_SUMMARY_COLUMNS = [
    "n_paragraphs",
    "n_stance",
    "stance_index",
    "ci_low",
    "ci_high",
]


def source_columns(labels: tuple[str, ...]) -> list[str]:
    return [
        "source",
        "n_articles",
        *_SUMMARY_COLUMNS,
        "interval_resamples",
        "shrunk_index",
        "shrinkage_weight",
        *(f"n_{label}" for label in labels),
        *(f"share_{label}" for label in labels),
        "n_out_of_fold",
        "gold_n",
        "gold_stance_index",
        "gold_ci_low",
        "gold_ci_high",
    ]


def article_columns(labels: tuple[str, ...]) -> list[str]:
    return [
        "doc_id",
        "source",
        "title",
        *_SUMMARY_COLUMNS,
        *(f"n_{label}" for label in labels),
        *(f"share_{label}" for label in labels),
        "gold_n",
        "gold_stance_index",
        "gold_ci_low",
        "gold_ci_high",
    ]


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path, "w") as stream:
        stream.write(text)


def run_report(params: Params) -> dict:
    """Run the stage end to end; the CLI and `dvc.yaml` call this."""
    paths = params.paths
    paragraphs = read_stage_table(paths.paragraphs, _PARAGRAPH_COLUMNS, made_by="stance segment")
    oof = read_stage_table(paths.oof, _OOF_COLUMNS, made_by="stance evaluate")
    folder = model_folder(params)
    card = read_card(folder)
    evaluated = sorted(set(oof.model_id))
    if evaluated != [card.get("model_id")]:
        raise InputDataError(
            f"{display_path(paths.oof)}: predictions of {', '.join(evaluated)} but the model in "
            f"{display_path(folder)} is {card.get('model_id')}; re-run `dvc repro`"
        )
    settings = index_settings(
        (params.favor_label, params.against_label, params.neutral_label), params.report
    )
    scored = score_paragraphs(paragraphs, oof, params, folder)
    summary, articles, frame = build_report(scored, settings)
    labels = settings.labels
    document = {
        "proposition": {"id": params.proposition.id, "text": params.proposition.text},
        "model": {"name": card.get("model"), "model_id": card.get("model_id")},
        "index_definition": INDEX_DEFINITION,
        "confidence": settings.confidence,
        "bootstrap_samples": settings.bootstrap_samples,
        **summary,
    }
    reports = paths.reports
    _write_text(reports / "sources.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    _write_text(
        reports / "sources.csv",
        _csv_text(
            [_flat("source", n, s, labels) for n, s in summary["sources"].items()],
            source_columns(labels),
        ),
    )
    _write_text(
        reports / "articles.csv",
        _csv_text(
            [_flat("doc_id", n, s, labels) for n, s in articles.items()], article_columns(labels)
        ),
    )
    paragraph_columns = [
        "paragraph_id",
        "doc_id",
        "source",
        "position",
        "label",
        *(f"prob_{label}" for label in labels),
        "stance",
        "gold",
        "origin",
        "text",
    ]
    rounded = frame.round({f"prob_{label}": 4 for label in labels} | {"stance": 4})
    _write_text(reports / "paragraphs.csv", frame_to_csv(rounded[paragraph_columns]))
    trends = build_trends(frame, params, settings)
    _write_text(reports / "timeline.csv", _csv_text(trends.timeline.rows, TIMELINE_COLUMNS))
    _write_text(reports / "groups.csv", _csv_text(trends.groups.rows, GROUP_COLUMNS))
    page = render_report(document, articles, frame, card, settings, trends)
    _write_text(reports / "report.html", page)
    save_index_chart(
        summary["sources"], reports / "sources.png", params.proposition.text, settings.confidence
    )
    for name, source in summary["sources"].items():
        log.info(
            "report: %s: index %+.2f [%+.2f, %+.2f] over %d paragraphs (gold %s)",
            name,
            source["stance_index"],
            source["ci_low"],
            source["ci_high"],
            source["n_paragraphs"],
            "n/a"
            if source["gold"]["stance_index"] is None
            else f"{source['gold']['stance_index']:+.2f}",
        )
    _log_trends(trends)
    log.info(
        "report: %d sources -> %s", len(summary["sources"]), display_path(reports / "report.html")
    )
    return document


def _log_trends(trends: Trends) -> None:
    timeline = trends.timeline
    if timeline.undated_articles:
        log.info(
            "report: %d of %d articles have no date usable per %s; left out of timeline.csv",
            timeline.undated_articles,
            timeline.n_articles,
            timeline.period,
        )
    if not trends.groups.rows:
        log.info("report: no outlet metadata (country, outlet_type, group_*); groups.csv is empty")
