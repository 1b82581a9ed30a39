"""`stance compare` through the real entry point: formats, --output, options, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.compare.formats import CompareFormat, choose_format
from tests.compare.conftest import MODEL_A, MODEL_B, stance
from tests.conftest import write_params


@pytest.fixture
def pair(models: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A and B as arguments, run from a folder without params.yaml or git."""
    monkeypatch.chdir(tmp_path)
    return [str(models[0]), str(models[1])]


def _json(*args: str) -> dict:
    code, out, err = stance("compare", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_json_has_every_section(pair: list[str]) -> None:
    record = _json(*pair)
    assert record["labels"] == ["favor", "against", "none"]
    assert record["settings"] == {
        "bootstrap_samples": 2000,
        "confidence": 0.95,
        "seed": 13,
        "calibration_bins": 10,
    }
    assert [v["model_id"] for v in record["versions"]] == [
        MODEL_A["model_id"],
        MODEL_B["model_id"],
    ]
    (comparison,) = record["comparisons"]
    assert set(comparison) >= {"metrics", "macro_f1_difference", "mcnemar", "sources", "flips"}
    metrics = comparison["metrics"]
    assert set(metrics) == {"macro_f1", "f_avg", "accuracy", "brier", "ece"} | {
        "f1_favor",
        "f1_against",
        "f1_none",
    }
    accuracy = metrics["accuracy"]
    assert accuracy["difference"] == pytest.approx(accuracy["b"] - accuracy["a"], abs=1e-4)
    difference = comparison["macro_f1_difference"]
    assert difference["low"] <= difference["estimate"] <= difference["high"]
    assert difference["estimate"] == pytest.approx(metrics["macro_f1"]["difference"], abs=2e-4)
    assert comparison["mcnemar"]["a_right_b_wrong"] == 1
    assert comparison["mcnemar"]["a_wrong_b_right"] == 2
    # b=1, c=2: P(X <= 1; n=3) = 4/8, p = min(1, 2 * 4/8) = 1.
    assert comparison["mcnemar"]["p_exact"] == 1.0
    assert [s["source"] for s in comparison["sources"]] == [
        "Harbor Gazette",
        "Northern Wire",
        "Steppe Review",
    ]
    flip = comparison["flips"][0]
    assert set(flip) == {"paragraph_id", "source", "gold", "effect", "text", "a", "b"}
    assert flip["a"]["label"] != flip["b"]["label"]
    assert list(flip["a"]["probs"]) == ["favor", "against", "none"]
    keys = {d["key"] for d in comparison["card_differences"]}
    assert {"model_id", "settings.C", "training.rows", "training.data_sha256"} <= keys
    assert not any(key.startswith("grouped_cv") for key in keys)


def test_json_is_deterministic_under_the_seed(pair: list[str]) -> None:
    assert _json(*pair, "--seed", "3") == _json(*pair, "--seed", "3")
    low = _json(*pair, "--seed", "3", "--bootstrap-samples", "300")
    assert low["settings"]["seed"] == 3 and low["settings"]["bootstrap_samples"] == 300


def test_identical_versions_show_no_difference(pair: list[str]) -> None:
    comparison = _json(pair[0], pair[0])["comparisons"][0]
    assert comparison["macro_f1_difference"] | {"confidence": 0, "samples": 0} == {
        "estimate": 0.0,
        "low": 0.0,
        "high": 0.0,
        "share_b_better": 0.0,
        "confidence": 0,
        "samples": 0,
    }
    assert comparison["mcnemar"]["p_exact"] == 1.0
    assert comparison["flips"] == [] and comparison["card_differences"] == []
    assert all(s["change"] == 0.0 for s in comparison["sources"])


def test_markdown_is_the_default_off_a_terminal(pair: list[str]) -> None:
    code, out, _ = stance("compare", *pair)
    assert code == 0
    record = _json(*pair)
    comparison = record["comparisons"][0]
    assert "| metric | A | B | B − A |" in out
    assert "| --- | ---: | ---: | ---: |" in out
    assert f"| macro-F1 | {comparison['metrics']['macro_f1']['a']:.4f} |" in out
    assert "McNemar: A right, B wrong on 1; A wrong, B right on 2; exact p = 1.0000" in out
    assert "#### Flipped paragraphs: 3 (2 fixed, 1 broke, 0 changed)" in out
    assert f"`{comparison['flips'][0]['paragraph_id']}`" in out


def test_table_has_the_key_numbers(pair: list[str]) -> None:
    code, out, _ = stance("compare", *pair, "-f", "table")
    comparison = _json(*pair)["comparisons"][0]
    assert code == 0
    assert f"A = {pair[0]} ({MODEL_A['model_id']})" in out
    assert "macro-F1" in out and f"{comparison['metrics']['macro_f1']['b']:.4f}" in out
    interval = comparison["macro_f1_difference"]
    assert f"[{interval['low']:+.4f}, {interval['high']:+.4f}]" in out
    assert "exact p = 1.0000" in out
    assert "Harbor Gazette" in out and "settings.C" in out
    assert "┃" in out  # a Rich table, not markdown


def test_max_flips_limits_table_and_markdown_not_json(pair: list[str]) -> None:
    _, out, _ = stance("compare", *pair, "--max-flips", "1")
    assert "first 1 shown, all in --format json" in out
    flips = _json(*pair, "--max-flips", "1")["comparisons"][0]["flips"]
    assert len(flips) == 3
    assert [flip["paragraph_id"] in out for flip in flips] == [True, False, False]


def test_output_is_written_whole_and_its_suffix_picks_the_format(
    pair: list[str], tmp_path: Path
) -> None:
    target = tmp_path / "out" / "compare.json"
    code, out, _ = stance("compare", *pair, "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["comparisons"]
    assert [path.name for path in target.parent.iterdir()] == ["compare.json"]
    report = tmp_path / "compare.md"
    assert stance("compare", *pair, "-o", str(report))[0] == 0
    assert report.read_text(encoding="utf-8").startswith("### `stance compare`")


def test_choose_format() -> None:
    assert choose_format(None, None, stdout_is_terminal=True) is CompareFormat.table
    assert choose_format(None, None, stdout_is_terminal=False) is CompareFormat.markdown
    assert choose_format(None, Path("x.json"), stdout_is_terminal=True) is CompareFormat.json
    assert choose_format(None, Path("x.txt"), stdout_is_terminal=False) is CompareFormat.table
    assert choose_format(CompareFormat.json, Path("x.md"), stdout_is_terminal=False) == "json"


def test_three_versions_compare_each_with_the_first(pair: list[str]) -> None:
    record = _json(pair[0], pair[1], pair[0])
    assert [(c["a"], c["b"]) for c in record["comparisons"]] == [
        (pair[0], pair[1]),
        (pair[0], pair[0]),
    ]


def test_params_supply_the_seed_and_samples(pair: list[str], tmp_path: Path) -> None:
    params = yaml.safe_load(write_params(tmp_path).read_text(encoding="utf-8"))
    params["report"].update(bootstrap_samples=400, seed=21)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    settings = _json(*pair)["settings"]  # ./params.yaml is read when present
    assert (settings["bootstrap_samples"], settings["seed"]) == (400, 21)


def test_an_unknown_version_is_one_line_exit_3(pair: list[str]) -> None:
    code, out, err = stance("compare", pair[0], "no-such-version")
    assert code == 3 and out == ""
    assert err == (
        "stance: error: no-such-version: not a model folder, git revision or DVC experiment\n"
    )


def test_one_version_is_a_usage_error_exit_2(pair: list[str]) -> None:
    code, _, err = stance("compare", pair[0])
    assert code == 2
    assert err.count("\n") == 1 and "at least two versions" in err


def test_help_documents_the_command() -> None:
    result = CliRunner().invoke(app, ["compare", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--format", "--output", "--bootstrap-samples", "--seed", "--max-flips"):
        assert option in result.output
    assert "DVC experiment" in result.output


def test_several_versions_start_with_an_overview_table(pair: list[str]) -> None:
    code, out, err = stance("compare", pair[0], pair[1], pair[0], "--format", "markdown")
    assert code == 0, err
    overview = out.split("### `stance compare`")[0]
    assert overview.startswith("### All versions side by side")
    rows = [line for line in overview.splitlines() if line.startswith("| `")]
    assert len(rows) == 3 and "(baseline)" in rows[0]
    # The baseline compared with itself: no difference, p = 1, no flips.
    assert rows[2].endswith("| +0.0000 [+0.0000, +0.0000] | 1.0000 | 0 |")
    assert out.count("### `stance compare`") == 2


def test_common_compares_a_version_with_more_gold_on_the_paragraphs_both_have(
    models: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    grown = tmp_path / "grown"
    shutil.copytree(models[1], grown)
    oof = pd.read_parquet(grown / "oof.parquet")
    extra = oof.iloc[[0]].assign(paragraph_id="new:000000000001", text="A newly labelled one.")
    pd.concat([oof, extra], ignore_index=True).to_parquet(grown / "oof.parquet")

    code, _, err = stance("compare", str(models[0]), str(grown), "-f", "json")
    assert code == 3 and "1 paragraph only in" in err
    code, out, err = stance("compare", str(models[0]), str(grown), "-f", "json", "--common")
    assert code == 0, err
    assert f"on the {len(oof)} gold paragraphs every version was evaluated on" in err
    assert f"1 of {grown}'s {len(oof) + 1} left out" in err
    assert json.loads(out)["versions"][1]["model_id"]
