"""benchmarks/models_table.py: the one table of every model, from measured files only."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("models_table", BENCHMARKS / "models_table.py")
models_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(models_table)


def dev(macro_f1: float) -> dict:
    per_class = {label: {"f1": macro_f1} for label in ("favor", "against", "none")}
    return {
        "macro_f1": macro_f1,
        "macro_f1_interval": {"low": macro_f1 - 0.05, "high": macro_f1 + 0.05},
        "f_avg": macro_f1 - 0.1,
        "per_class": per_class,
        "ece": 0.04,
        "articles": {"sign_right": 40, "leaning": 50},
    }


def write(root: Path, relative: str, content: dict) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content), encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path, "metrics/eval.json", {"model": "ensemble", "macro_f1": 0.7, "dev": dev(0.66)})
    write(tmp_path, "metrics/zoo/tfidf_logreg.json", {"model": "tfidf_logreg", "macro_f1": 0.5,
                                                      "dev": dev(0.62)})  # fmt: skip
    write(tmp_path, "metrics/zoo/setfit.json", {"model": "setfit", "macro_f1": 0.4, "dev": None})
    run = {"model": "setfit", "use_press": True, **dev(0.57), "f1": dict.fromkeys(
        ("favor", "against", "none"), 0.57)}  # fmt: skip
    write(tmp_path, "benchmarks/results/dev_fit.json", {"runs": [run]})
    machine = {"cpu_model": "AMD EPYC", "cpu_flags": {"avx512f": True, "avx512_vnni": True}}
    measurements = [
        {"kind": "raw_encoder", "backend": "torch", "paragraphs_per_s": 60.0},
        {"kind": "stance_score", "backend": "torch", "model": "ensemble", "paragraphs_per_s": 54.0},
    ]
    write(tmp_path, "benchmarks/results/score_throughput.json",
          {"machine": machine, "measurements": measurements})  # fmt: skip
    return tmp_path


def test_every_model_once_best_first_with_where_it_comes_from(root: Path) -> None:
    rows = models_table.collect_rows(root)
    assert [row["model"] for row in rows] == ["ensemble", "tfidf_logreg", "setfit"]
    assert rows[0]["default"] and rows[0]["source"] == "`dvc repro`, calibrated"
    assert rows[2]["seeds"] is None and "one fit" in rows[2]["source"]  # zoo had no dev
    table = models_table.render(rows)
    assert "| **`ensemble` (default)** | **0.660** [0.610, 0.710] | 0.560 |" in table
    assert "| 54.0 (0.90×) / – |" in table  # over the raw encoder of the same run
    assert "Measured on: AMD EPYC, avx512f avx512_vnni." in table


def test_the_block_between_the_markers_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    text = f"intro\n{models_table.START}\nold\n{models_table.END}\noutro\n"
    replaced = models_table.replace_block(text, "new", "README.md")
    assert replaced == f"intro\n{models_table.START}\nnew\n{models_table.END}\noutro\n"
    with pytest.raises(SystemExit, match=r"README\.md: no"):
        models_table.replace_block("no markers", "new", "README.md")
    first = models_table.replace_block("pairs\n", "new", "models.md", prepend=True)
    assert first.startswith(models_table.START) and first.endswith("pairs\n")


def test_the_committed_tables_are_up_to_date() -> None:
    """README.md and reports/models.md show what the committed results say."""
    assert models_table.main(["--check"]) == 0


def test_a_one_fit_row_is_the_run_with_the_configured_settings(root: Path) -> None:
    fits = json.loads((root / "benchmarks/results/dev_fit.json").read_text(encoding="utf-8"))
    base = {"model": "cross_encoder", "use_press": True, "f1": dict.fromkeys(
        ("favor", "against", "none"), 0.6)}  # fmt: skip
    variant = {**base, **dev(0.69), "name": "cross_encoder context", "settings": {"context": True}}
    plain = {**base, **dev(0.61), "name": "cross_encoder", "settings": {"context": False}}
    fits["runs"] += [variant, plain]
    write(root, "benchmarks/results/dev_fit.json", fits)
    configured = {"cross_encoder": {"context": False}}
    assert models_table._as_configured(plain, configured)
    assert not models_table._as_configured(variant, configured)
    rows = {row["model"]: row for row in models_table.collect_rows(root)}
    assert rows["cross_encoder"]["macro_f1"] == 0.61  # without params.yaml: by run name


def test_a_legacy_run_stands_in_only_while_no_run_records_settings(root: Path) -> None:
    fits = json.loads((root / "benchmarks/results/dev_fit.json").read_text(encoding="utf-8"))
    base = {"model": "cross_encoder", "use_press": True, "f1": dict.fromkeys(
        ("favor", "against", "none"), 0.6)}  # fmt: skip
    legacy = {**base, **dev(0.63)}  # measured before runs recorded their settings
    fits["runs"].append(legacy)
    write(root, "benchmarks/results/dev_fit.json", fits)
    rows = {row["model"]: row for row in models_table.collect_rows(root)}
    assert rows["cross_encoder"]["macro_f1"] == 0.63

    fits["runs"].append({**base, **dev(0.65), "name": "cross_encoder", "settings": {}})
    write(root, "benchmarks/results/dev_fit.json", fits)
    rows = {row["model"]: row for row in models_table.collect_rows(root)}
    assert rows["cross_encoder"]["macro_f1"] == 0.65
    assert not models_table._as_configured(legacy, {"cross_encoder": {}}, {"cross_encoder"})
