"""`stance report` on a small annotated corpus, and the pure summaries behind it."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.evaluate.stage import run_evaluate
from pipeline.label.stage import run_label
from pipeline.report import stage as report_stage
from pipeline.report.stage import build_report, run_report
from pipeline.report.summary import IndexSettings
from pipeline.train.stage import run_train
from tests.label.conftest import (  # the fixture is shared with the label tests
    BagOfWordsEncoder,
    annotated_corpus,  # noqa: F401
)

SETTINGS = IndexSettings(labels=("favor", "against", "none"), bootstrap_samples=500)


def _scored(rows: list[tuple[str, str, float, float, str | None]]) -> pd.DataFrame:
    """(source, doc_id, P(favor), P(against), gold) -> the frame build_report takes."""
    records = []
    for position, (source, doc, favor, against, gold) in enumerate(rows):
        probs = {"prob_favor": favor, "prob_against": against, "prob_none": 1 - favor - against}
        records.append(
            {
                "paragraph_id": f"{doc}:{position:04d}",
                "doc_id": doc,
                "source": source,
                "title": f"Title {doc}",
                "position": position,
                "text": f"Paragraph {position} of {doc}.",
                **probs,
                "label": max(probs, key=probs.get).removeprefix("prob_"),
                "gold": gold,
                "origin": "out-of-fold" if gold else "final model",
            }
        )
    return pd.DataFrame(records)


CORPUS = _scored(
    [
        ("Herald", "h1", 0.8, 0.1, "favor"),
        ("Herald", "h1", 0.7, 0.1, "favor"),
        ("Herald", "h2", 0.1, 0.1, None),
        ("Herald", "h2", 0.6, 0.3, None),
        ("Courier", "c1", 0.1, 0.8, "against"),
        ("Courier", "c1", 0.05, 0.9, "against"),
        ("Courier", "c1", 0.2, 0.2, "none"),
        ("Gazette", "g1", 0.15, 0.1, "none"),
    ]
)


def test_sources_pool_their_articles_and_articles_are_scored_alone() -> None:
    summary, articles, frame = build_report(CORPUS, SETTINGS)
    sources = summary["sources"]
    assert list(sources) == ["Courier", "Gazette", "Herald"]
    herald = sources["Herald"]
    assert herald["n_articles"] == 2 and herald["n_paragraphs"] == 4
    assert herald["stance_index"] == pytest.approx(np.mean([0.7, 0.6, 0.0, 0.3]), abs=1e-4)
    assert herald["counts"] == {"favor": 3, "against": 0, "none": 1}
    assert herald["n_stance"] == 3
    assert herald["share"]["favor"] - herald["share"]["against"] == pytest.approx(
        herald["stance_index"], abs=1e-3
    )
    assert herald["gold"] == {"n": 2, "stance_index": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    assert sources["Courier"]["gold"]["stance_index"] == pytest.approx(-2 / 3, abs=1e-4)
    assert sources["Gazette"]["gold"]["n"] == 1
    assert set(articles) == {"h1", "h2", "c1", "g1"}
    assert articles["h2"]["source"] == "Herald"
    assert articles["h2"]["stance_index"] == pytest.approx(0.15, abs=1e-4)
    assert articles["h2"]["gold"]["stance_index"] is None  # no gold paragraph in h2
    assert frame.stance.between(-1, 1).all()
    for source in sources.values():
        assert source["ci_low"] <= source["stance_index"] <= source["ci_high"]
        low, high = sorted([source["stance_index"], summary["shrinkage"]["prior_mean"]])
        assert low - 1e-4 <= source["shrunk_index"] <= high + 1e-4


def test_evidence_quotes_the_strongest_paragraphs_each_way_above_the_floor() -> None:
    summary, _, _ = build_report(CORPUS, SETTINGS)
    herald = summary["sources"]["Herald"]["evidence"]
    assert [item["stance"] for item in herald["favor"]] == [0.7, 0.6, 0.3]
    assert herald["against"] == []
    first = herald["favor"][0]
    assert first["paragraph_id"] == "h1:0000" and first["gold"] == "favor"
    assert first["probs"] == {"favor": 0.8, "against": 0.1, "none": 0.1}
    courier = summary["sources"]["Courier"]["evidence"]
    assert [item["stance"] for item in courier["against"]] == [-0.85, -0.7]
    fewer = IndexSettings(labels=SETTINGS.labels, evidence_per_side=1, min_evidence_stance=0.65)
    limited, _, _ = build_report(CORPUS, fewer)
    assert [i["stance"] for i in limited["sources"]["Herald"]["evidence"]["favor"]] == [0.7]
    assert limited["sources"]["Gazette"]["evidence"] == {"favor": [], "against": []}


def test_adding_a_source_leaves_the_other_intervals_unchanged() -> None:
    before, _, _ = build_report(CORPUS, SETTINGS)
    extra = _scored([("Bulletin", "b1", 0.9, 0.05, None), ("Bulletin", "b1", 0.1, 0.5, None)])
    after, _, _ = build_report(pd.concat([CORPUS, extra], ignore_index=True), SETTINGS)
    for name in ("Courier", "Gazette", "Herald"):
        assert (after["sources"][name]["ci_low"], after["sources"][name]["ci_high"]) == (
            before["sources"][name]["ci_low"],
            before["sources"][name]["ci_high"],
        )


@pytest.fixture
def trained(annotated_corpus: Callable[..., Params]) -> Params:  # noqa: F811
    params = annotated_corpus(**{"train.model": "tfidf_logreg"})
    run_label(params, encoder=BagOfWordsEncoder())
    run_evaluate(params)
    run_train(params)
    return params


def test_report_writes_every_output_and_scores_gold_out_of_fold(trained: Params) -> None:
    document = run_report(trained)
    reports = trained.paths.reports
    for name in ("sources.json", "sources.csv", "articles.csv", "paragraphs.csv"):
        assert (reports / name).is_file(), name
    timeline = pd.read_csv(reports / "timeline.csv")
    assert list(timeline.columns[:2]) == ["source", "period"] and "thin" in timeline.columns
    assert pd.read_csv(reports / "groups.csv").empty  # the fixture has no outlet metadata
    assert (reports / "sources.png").read_bytes().startswith(b"\x89PNG")
    html = (reports / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"(src|href)=[\"']?(https?:|//)", html)
    assert json.loads((reports / "sources.json").read_text(encoding="utf-8")) == document
    paragraphs = pd.read_csv(reports / "paragraphs.csv")
    oof = pd.read_parquet(trained.paths.oof).set_index("paragraph_id")
    gold_rows = paragraphs[paragraphs.paragraph_id.isin(oof.index)]
    assert len(gold_rows) == len(oof) and set(gold_rows.origin) == {"out-of-fold"}
    expected = oof.loc[gold_rows.paragraph_id, "prob_favor"].round(4).to_numpy()
    assert gold_rows.prob_favor.to_numpy() == pytest.approx(expected, abs=1e-4)
    assert set(paragraphs.origin) == {"out-of-fold", "final model"}
    sources = pd.read_csv(reports / "sources.csv")
    assert len(sources) == len(document["sources"]) == paragraphs.source.nunique()
    assert {"stance_index", "ci_low", "ci_high", "shrunk_index", "gold_stance_index"} <= set(
        sources.columns
    )
    assert len(pd.read_csv(reports / "articles.csv")) == paragraphs.doc_id.nunique()


def test_report_twice_gives_identical_files(trained: Params) -> None:
    run_report(trained)
    reports = trained.paths.reports
    first = {p.name: p.read_bytes() for p in sorted(reports.iterdir())}
    run_report(trained)
    assert {p.name: p.read_bytes() for p in sorted(reports.iterdir())} == first


def test_report_refuses_predictions_of_another_model(trained: Params) -> None:
    oof = pd.read_parquet(trained.paths.oof)
    oof["model_id"] = "tfidf_logreg-0000000000"
    oof.to_parquet(trained.paths.oof)
    with pytest.raises(InputDataError, match=r"oof.parquet: predictions of tfidf_logreg-0+ but"):
        run_report(trained)


def test_report_without_a_model_says_how_to_make_one(trained: Params) -> None:
    shutil.rmtree(trained.paths.models / "tfidf_logreg")
    with pytest.raises(InputDataError, match=r"no trained model; run `stance train` first"):
        run_report(trained)


def test_report_scores_unlabelled_paragraphs_on_the_configured_backend(
    trained: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    real_load = report_stage.load_model

    def spy(folder: object, **options: Any) -> object:
        seen.append(options["encoding"].backend)
        return real_load(folder, **options)

    encoder = trained.encoder.model_copy(update={"backend": "onnx-int8"})
    params = trained.model_copy(update={"encoder": encoder})
    monkeypatch.setattr(report_stage, "load_model", spy)
    run_report(params)
    assert seen == ["onnx-int8"]
