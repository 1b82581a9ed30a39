"""Stance over time (timeline.csv), outlets by group (groups.csv) and what intervals resample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.config import parse_params
from pipeline.errors import ConfigError, InputDataError
from pipeline.report.groups import build_groups
from pipeline.report.stage import build_report
from pipeline.report.summary import add_stance
from pipeline.report.timeline import CORPUS_ROW, build_timeline, period_of
from tests.conftest import REPO
from tests.report.test_stage import SETTINGS

# outlet -> (country, outlet_type, group_bloc, stance of its paragraphs); None: unknown
OUTLETS = {
    "Wire A": ("US", "wire", "west", 0.6),
    "Paper B": ("US", "newspaper", "west", 0.4),
    "State C": ("RU", "state media", "east", -0.5),
    "State D": ("CN", "state media", "east", -0.7),
    "Blog E": (None, None, None, 0.0),
}


def dated_corpus() -> pd.DataFrame:
    """Five outlets, two articles a year in 2020-2022 each (three paragraphs an article),
    plus one undated article and one dated only by its year (Blog E)."""
    records = []
    for outlet, (country, kind, bloc, stance) in OUTLETS.items():
        articles = [
            (f"{outlet[-1]}{year}{n}", f"{year}-{3 * n + 2:02d}-15")
            for year in (2020, 2021, 2022)
            for n in (1, 2)
        ]
        if outlet == "Blog E":
            articles += [("E-undated", None), ("E-year", "2021")]
        for doc_id, day in articles:
            for position in range(3):
                shift = 0.1 * (position - 1)  # some spread within an article
                favor = max(0.0, stance + shift) + 0.1
                against = max(0.0, -(stance + shift)) + 0.1
                records.append(
                    {
                        "paragraph_id": f"{doc_id}:{position}",
                        "doc_id": doc_id,
                        "source": outlet,
                        "title": doc_id,
                        "date": day,
                        "position": position,
                        "text": f"Paragraph {position} of {doc_id}.",
                        "prob_favor": favor,
                        "prob_against": against,
                        "prob_none": 1 - favor - against,
                        "label": "favor" if favor > against else "against",
                        "gold": None,
                        "origin": "final model",
                        "country": country,
                        "outlet_type": kind,
                        "group_bloc": bloc,
                    }
                )
    return pd.DataFrame(records)


def stance_frame(corpus: pd.DataFrame) -> pd.DataFrame:
    return add_stance(corpus, SETTINGS)


def test_periods_of_dates() -> None:
    assert period_of("2022-02-24", "year")[0] == "2022"
    assert period_of("2022-02-24", "quarter")[0] == "2022-Q1"
    assert period_of("2022-11-01", "quarter")[1:] == (
        pd.Timestamp("2022-10-01").date(),
        pd.Timestamp("2023-01-01").date(),
    )
    assert period_of("2022-12-05", "month")[0] == "2022-12"
    assert period_of("2022", "year")[0] == "2022"
    assert period_of("2022", "month") is None  # too coarse for a month: undated
    assert period_of("2022-13-01", "quarter") is None
    assert period_of(None, "year") is None


def test_timeline_rows_per_source_and_period_with_the_corpus_first() -> None:
    frame = stance_frame(dated_corpus())
    timeline = build_timeline(frame, SETTINGS, period="year", min_period_paragraphs=20)
    rows = pd.DataFrame(timeline.rows)
    corpus = rows[rows.source == CORPUS_ROW]
    assert list(corpus.period) == ["2020", "2021", "2022"]
    assert rows.source.iloc[0] == CORPUS_ROW
    year_2021 = corpus[corpus.period == "2021"].iloc[0]
    assert year_2021.n_articles == 11 and year_2021.n_paragraphs == 33  # E-year counts here
    dated = frame[frame.date.notna()]
    expected = dated[dated.date.str.startswith("2021")].stance.mean()
    assert year_2021.stance_index == pytest.approx(expected, abs=1e-4)
    wire = rows[rows.source == "Wire A"]
    assert list(wire.period) == ["2020", "2021", "2022"] and set(wire.n_articles) == {2}
    assert timeline.undated_articles == 1 and timeline.n_articles == 32
    assert (rows.ci_low <= rows.stance_index + 1e-9).all()
    assert (rows.stance_index <= rows.ci_high + 1e-9).all()


def test_a_year_only_date_is_undated_for_months() -> None:
    frame = stance_frame(dated_corpus())
    timeline = build_timeline(frame, SETTINGS, period="month", min_period_paragraphs=1)
    assert timeline.undated_articles == 2
    periods = {row["period"] for row in timeline.rows}
    assert periods == {f"{y}-{m:02d}" for y in (2020, 2021, 2022) for m in (5, 8)}


def test_thin_periods_are_marked_not_hidden() -> None:
    frame = stance_frame(dated_corpus())
    timeline = build_timeline(frame, SETTINGS, period="year", min_period_paragraphs=7)
    rows = pd.DataFrame(timeline.rows)
    assert rows.thin.tolist() == (rows.n_paragraphs < 7).tolist()
    blog = rows[rows.source == "Blog E"].set_index("period")
    assert not blog.loc["2021", "thin"]  # 3 articles, 9 paragraphs
    assert blog.loc["2020", "thin"]  # 2 articles, 6 paragraphs: kept, marked
    assert not rows[rows.source == CORPUS_ROW].thin.any()


def _one_long_one_short(source: str = "Mixed", day: str = "2021-05-01") -> pd.DataFrame:
    """One article of twelve favor paragraphs and one of a single against paragraph."""
    rows = [("long", 0.95, 0.0)] * 12 + [("short", 0.0, 0.95)]
    return pd.DataFrame(
        [
            {
                "paragraph_id": f"{doc}:{i}",
                "doc_id": doc,
                "source": source,
                "title": doc,
                "date": day,
                "position": i,
                "text": f"Paragraph {i}.",
                "prob_favor": favor,
                "prob_against": against,
                "prob_none": 0.05,
                "label": "favor" if favor > against else "against",
                "gold": None,
                "origin": "final model",
            }
            for i, (doc, favor, against) in enumerate(rows)
        ]
    )


def test_intervals_resample_articles_not_just_paragraphs() -> None:
    corpus = _one_long_one_short()
    summary, articles, _ = build_report(corpus, SETTINGS)
    source = summary["sources"]["Mixed"]
    # Resampling articles draws the short against article twice a quarter of the time:
    # the interval reaches down to its -0.95; resampling paragraphs alone would stay near +0.8.
    assert source["ci_low"] == pytest.approx(-0.95, abs=1e-6)
    assert source["interval_resamples"] == "articles, then paragraphs within them"
    assert articles["long"]["ci_low"] == articles["long"]["ci_high"] == 0.95
    timeline = build_timeline(
        add_stance(corpus, SETTINGS), SETTINGS, period="year", min_period_paragraphs=1
    )
    assert all(row["ci_low"] == pytest.approx(-0.95, abs=1e-6) for row in timeline.rows)


def test_a_single_article_source_says_its_interval_covers_one_article() -> None:
    corpus = _one_long_one_short()
    summary, _, _ = build_report(corpus[corpus.doc_id == "long"], SETTINGS)
    assert summary["sources"]["Mixed"]["interval_resamples"] == "paragraphs of its one article"


def test_groups_average_their_outlets_and_differ_from_the_rest() -> None:
    frame = stance_frame(dated_corpus())
    groups = build_groups(frame, SETTINGS, where="paragraphs.parquet")
    rows = pd.DataFrame(groups.rows).set_index(["grouping", "group"])
    assert set(rows.index.get_level_values(0)) == {"country", "outlet_type", "group_bloc"}
    assert groups.unplaced == {"country": 1, "outlet_type": 1, "group_bloc": 1}  # Blog E
    index = {s: frame[frame.source == s].stance.mean() for s in OUTLETS}
    west = rows.loc[("group_bloc", "west")]
    assert west.n_outlets == 2 and west.rest_n_outlets == 2 and west.n_articles == 12
    assert west.stance_index == pytest.approx((index["Wire A"] + index["Paper B"]) / 2, abs=1e-4)
    east_index = (index["State C"] + index["State D"]) / 2
    assert west.rest_index == pytest.approx(east_index, abs=1e-4)
    assert west.difference == pytest.approx(west.stance_index - east_index, abs=1e-4)
    assert 0 < west.difference_ci_low <= west.difference <= west.difference_ci_high
    state = rows.loc[("outlet_type", "state media")]
    assert state.difference < 0 and state.difference_ci_high < 0
    us = rows.loc[("country", "US")]
    assert us.rest_n_outlets == 2  # RU and CN outlets; Blog E has no country
    assert us.ci_low <= us.stance_index <= us.ci_high


def test_a_lone_group_has_no_difference_and_no_metadata_no_groups() -> None:
    frame = stance_frame(dated_corpus())
    frame["country"] = frame.country.where(frame.country.isna(), "US")
    frame = frame.drop(columns=["outlet_type", "group_bloc"])
    groups = build_groups(frame, SETTINGS, where="paragraphs.parquet")
    (row,) = groups.rows
    assert row["group"] == "US" and row["difference"] is None and row["rest_n_outlets"] == 0
    bare = frame.drop(columns=["country"])
    assert build_groups(bare, SETTINGS, where="paragraphs.parquet").rows == []


def test_an_outlet_with_two_values_is_an_error_naming_it() -> None:
    frame = stance_frame(dated_corpus())
    frame.loc[frame.doc_id == "A20201", "country"] = "UK"
    with pytest.raises(InputDataError, match=r"^paragraphs.parquet: source 'Wire A' has 2 "):
        build_groups(frame, SETTINGS, where="paragraphs.parquet")


def test_interval_seeds_make_groups_and_timeline_reproducible() -> None:
    frame = stance_frame(dated_corpus())
    first = build_groups(frame, SETTINGS, where="x").rows
    assert build_groups(frame, SETTINGS, where="x").rows == first
    timeline = build_timeline(frame, SETTINGS, period="quarter", min_period_paragraphs=5)
    again = build_timeline(frame, SETTINGS, period="quarter", min_period_paragraphs=5)
    assert timeline.rows == again.rows
    assert np.isfinite([row["ci_low"] for row in timeline.rows]).all()


def _params(**report: object) -> dict:
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["report"].update(report)
    return raw


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"period": "week"}, r"^params: report\.period: 'week' is not known"),
        ({"events": ["24 February 2022: invasion"]}, r"^params: report\.events: .*YYYY-MM-DD"),
        ({"events": ["2022-02-30: no such day"]}, r"^params: report\.events: .*calendar date"),
        ({"events": ["2022-02-24:"]}, r"^params: report\.events: .*YYYY-MM-DD: label"),
        ({"min_period_paragraphs": 0}, r"^params: report\.min_period_paragraphs: "),
    ],
)
def test_bad_report_params_name_the_key(report: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        parse_params(_params(**report))
    assert "\n" not in str(error.value)


def test_good_report_params_are_read() -> None:
    params = parse_params(_params(period="quarter", events=["2022-02-24: invasion of Ukraine"]))
    assert params.report.period == "quarter"
    assert params.report.events == ("2022-02-24: invasion of Ukraine",)
