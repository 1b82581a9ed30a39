"""benchmarks/dev_fit.py keeps the runs of models it does not measure this time."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load_dev_fit():
    sys.path.insert(0, str(BENCHMARKS))  # dev_fit imports its sibling `harness`
    try:
        spec = importlib.util.spec_from_file_location(
            "benchmarks_dev_fit", BENCHMARKS / "dev_fit.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


dev_fit = _load_dev_fit()


def test_runs_of_other_models_are_kept_and_remeasured_ones_dropped(tmp_path: Path) -> None:
    runs = [{"model": "setfit", "use_press": True}, {"model": "transformer", "use_press": True}]
    (tmp_path / "dev_fit.json").write_text(json.dumps({"runs": runs}), encoding="utf-8")
    assert dev_fit.kept_runs(tmp_path, ["transformer"]) == [runs[0]]
    assert dev_fit.kept_runs(tmp_path, ["cross_encoder"]) == runs


def test_no_earlier_file_keeps_nothing(tmp_path: Path) -> None:
    assert dev_fit.kept_runs(tmp_path, ["setfit"]) == []
