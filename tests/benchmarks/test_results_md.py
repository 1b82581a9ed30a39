"""RESULTS.md is rendered from the result files alone, and marks each target correctly.

Runs the writer on small made-up result files; no model is loaded.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load_writer():
    """benchmarks/results_md.py as a module (benchmarks/ is a folder of scripts, not a package),
    with results_text, the sibling it imports the machine's wording from."""
    sys.path.insert(0, str(BENCHMARKS))  # results_md imports its siblings `results_*`
    try:
        name = "benchmarks_results_md"
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / "results_md.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module, importlib.import_module("results_text")
    finally:
        sys.path.remove(str(BENCHMARKS))


results_md, results_text = _load_writer()

MACHINE = {"cpu_model": "Test CPU", "cpu_count": 2, "cpus_usable": 2, "ram_gb": 8.0}


def score(backend: str, rate: float, *, default: bool = True) -> dict:
    return {
        "subject": "models/hybrid_logreg" if default else "models/zoo/tfidf_logreg",
        "kind": "stance_score",
        "backend": backend,
        "model": "hybrid_logreg",
        "default": default,
        "load_s": 3.0,
        "paragraphs": 2000,
        "seconds": 2000 / rate,
        "paragraphs_per_s": rate,
    }


def raw(backend: str, rate: float) -> dict:
    return {
        "subject": "raw encoder",
        "kind": "raw_encoder",
        "backend": backend,
        "load_s": 0.2,
        "paragraphs": 2000,
        "seconds": 2000 / rate,
        "paragraphs_per_s": rate,
    }


def memory_run(size: int, wall: float, rss: float) -> dict:
    return {
        "paragraphs_requested": size,
        "paragraphs": size,
        "done": True,
        "wall_s": wall,
        "paragraphs_per_s": size / wall,
        "peak_rss_mb_polled": rss,
        "peak_rss_mb_rusage": rss - 10,
        "load_average_before": [0.5, 0.5, 0.5],
    }


def results(zero_shot_rate: float = 0.3) -> dict[str, dict]:
    """A full set: torch overhead 30% (missed), onnx 7.7% (met), 100k at 2000 MiB."""
    profile = {
        "model": "models/hybrid_logreg",
        "backend": "torch",
        "paragraphs": 500,
        "unprofiled_s": 12.5,
        "unprofiled_paragraphs_per_s": 40.0,
        "profiled_s": 14.0,
        "parts": {
            "encoder forward pass": {"seconds": 11.2, "share": 0.8},
            "tokenisation": {"seconds": 1.4, "share": 0.1},
            "rules and actor matching": {"seconds": 1.4, "share": 0.1},
        },
        "top_functions": [{"function": "linear", "own_s": 9.0, "cumulative_s": 9.0, "calls": 100}],
    }
    return {
        "score_throughput": {
            "settings": {
                "paragraphs": 2000,
                "slow_paragraphs": 500,
                "rounds": 4,
                "batch_size": 128,
                "backends": ["torch", "onnx"],
            },
            "default_model": "models/hybrid_logreg",
            "measurements": [
                score("torch", 40.0),
                score("onnx", 65.0),
                score("torch", 900.0, default=False),
                raw("torch", 52.0),
                raw("onnx", 70.0),
            ],
            "windows_per_paragraph": 1.03,
            "warm_cache": None,
            "skipped": ["models/zoo/setfit on onnx: not used"],
            "notes": [],
            "machine": {**MACHINE, "load_average_before": [1.0, 1.0, 1.0], "torch_threads": 2},
        },
        "profile_score": {"profiles": [profile], "notes": [], "machine": MACHINE},
        "zero_shot": {
            "model": "random BART",
            "parameters_millions": 407.3,
            "tokenizer": "WordPiece",
            "hypotheses": ["a", "b", "c"],
            "multi_label": False,
            "paragraphs": 24,
            "mean_tokens_per_pair": 110.0,
            "seconds": 24 / zero_shot_rate,
            "paragraphs_per_s": zero_shot_rate,
            "seconds_per_paragraph": 1 / zero_shot_rate,
            "machine": {**MACHINE, "torch_threads": 2},
        },
        "memory_scaling": {
            "model": "models/hybrid_logreg",
            "backend": "torch",
            "input": "article table (.jsonl)",
            "runs": [
                memory_run(1000, 30.0, 800.0),
                memory_run(10_000, 255.0, 850.0),
                memory_run(100_000, 2505.0, 2000.0),
            ],
            "notes": [],
            "machine": MACHINE,
        },
        "repro_timing": {
            "commit": "abc1234",
            "target": "all stages",
            "clean": {
                "returncode": 0,
                "seconds": 200.0,
                "up_to_date": False,
                "stages": {"label": 50.0, "evaluate": 120.0},
                "output_tail": [],
            },
            "no_op": {
                "returncode": 0,
                "seconds": 7.0,
                "up_to_date": True,
                "stages": {},
                "output_tail": ["Data and pipelines are up to date."],
            },
            "notes": [],
            "machine": MACHINE,
        },
    }


def write(folder: Path, parts: dict[str, dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in parts.items():
        (folder / f"{name}.json").write_text(json.dumps(content), encoding="utf-8")
    return results_md.write_results_md(folder, folder / "RESULTS.md")


def status_of(markdown: str, target: str) -> str:
    """The status cell of a target's row in the markdown."""
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {target} |")]
    assert len(rows) == 1, f"{target!r}: {len(rows)} rows"
    return rows[0].rstrip(" |").rsplit("| ", 1)[1]


def test_each_target_is_marked_met_or_not_met(tmp_path: Path) -> None:
    markdown = write(tmp_path, results()).read_text(encoding="utf-8")
    expected = {
        "overhead over the raw encoder (torch)": "**NOT met**",  # 52/40 - 1 = 30%
        "overhead over the raw encoder (onnx)": "met",  # 70/65 - 1 = 7.7%
        "default model vs zero-shot speed (torch)": "met",  # 40/0.3 = 133x
        "default model vs zero-shot speed (onnx)": "met",  # 65/0.3 = 217x
        "default model, fastest path": "**NOT met**",  # 65 p/s on onnx
        "peak RSS at 100,000 paragraphs": "**NOT met**",  # 2000 MiB
        "time linear": "met",  # 25 ms per paragraph both steps
        "memory flat": "**NOT met**",  # 2000/800
        "`dvc repro` from clean": "met",  # 200 s
        "second `dvc repro` (no-op)": "**NOT met**",  # 7 s
    }
    for target, status in expected.items():
        assert status_of(markdown, target) == status, target
    missed = [t for t in expected.values() if t != "met"]
    assert markdown.count("**What limits it (") == len(missed)
    # The overhead paragraph is built from the profile's numbers.
    assert "encoder forward pass 80%" in markdown
    assert "evaluate 120.0 s" not in markdown  # the clean run met its target: no paragraph


def test_zero_shot_ratio_below_target_is_not_met(tmp_path: Path) -> None:
    markdown = write(tmp_path, results(zero_shot_rate=0.5)).read_text(encoding="utf-8")
    assert status_of(markdown, "default model vs zero-shot speed (torch)") == "**NOT met**"  # 80x
    assert status_of(markdown, "default model vs zero-shot speed (onnx)") == "met"  # 130x
    assert "What limits it (default model vs zero-shot speed (torch))" in markdown


def test_boundaries_count_as_met() -> None:
    parts = results()
    parts["score_throughput"]["measurements"][3] = raw("torch", 46.0)  # 46/40 - 1 = 15%
    parts["zero_shot"]["paragraphs_per_s"] = 0.4  # exactly 100x
    parts["repro_timing"]["no_op"]["seconds"] = 5.0
    targets = {t.name: t.met for t in results_md.all_targets(parts)}
    assert targets["overhead over the raw encoder (torch)"] is True
    assert targets["default model vs zero-shot speed (torch)"] is True
    parts["score_throughput"]["measurements"][1] = score("onnx", 150.0)
    assert {t.name: t.met for t in results_md.all_targets(parts)}["default model, fastest path"]
    assert targets["second `dvc repro` (no-op)"] is True


def test_no_results_means_nothing_measured(tmp_path: Path) -> None:
    markdown = write(tmp_path, {}).read_text(encoding="utf-8")
    assert "NOT met" not in markdown
    assert all(t.met is None for t in results_md.all_targets({}))
    assert "not measured" in markdown


def test_partial_runs_are_not_measured() -> None:
    reason = "estimated over 60 min"
    parts = results()
    parts["memory_scaling"]["runs"][2] = {
        "paragraphs_requested": 100_000,
        "done": False,
        "reason": reason,
        "estimated_s": 4000.0,
    }
    parts["repro_timing"]["target"] = "segment"
    targets = {t.name: t for t in results_md.all_targets(parts)}
    rss = targets["peak RSS at 100,000 paragraphs"]
    assert rss.met is None and reason in rss.measured
    assert targets["time linear"].met is None  # two sizes give one marginal cost
    assert targets["memory flat"].met is True  # 850/800 over the two that ran
    assert targets["`dvc repro` from clean"].met is None


def test_markdown_has_machine_facts_and_no_timestamps(tmp_path: Path) -> None:
    parts = results()
    parts["run_all"] = {
        "parts": {
            "zero_shot": {"exit_code": 0, "wall_s": 99.0, "load_average_before": [3.5, 2.0, 1.0]}
        }
    }
    markdown = write(tmp_path, parts).read_text(encoding="utf-8")
    assert markdown.index("## Machine") < markdown.index("## 1. Scoring throughput")
    assert "Test CPU" in markdown and "3.5 / 2.0 / 1.0" in markdown
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", markdown)


def test_a_file_in_an_older_format_is_left_out(tmp_path: Path) -> None:
    old_throughput = {"paragraphs": 2000, "stance_score": {"batch_size_128": {}}}
    markdown = write(tmp_path, {"score_throughput": old_throughput}).read_text(encoding="utf-8")
    assert "## 1. Scoring throughput\n\nNot run." in markdown


def test_machine_prose_comes_from_the_recorded_machine() -> None:
    assert results_text.machine_words({"machine": MACHINE}) == "2 cores (Test CPU)"
    assert results_text.machine_words({"machine": {"cpu_model": "Other"}}) == "Other"
    assert results_text.machine_words(None) == "the measuring machine"
    for writer in BENCHMARKS.glob("results_*.py"):  # results_md.py and its siblings
        source = writer.read_text(encoding="utf-8")
        assert "AVX2" not in source and "VNNI" not in source and "this machine" not in source


def test_the_cpu_is_named_with_its_flags() -> None:
    flags = {"avx2": True, "avx512f": True, "avx512_vnni": True, "avx_vnni": False,
             "amx_int8": False}  # fmt: skip
    assert results_text.cpu_text({"cpu_model": "AMD EPYC", "cpu_flags": flags}) == (
        "AMD EPYC (avx2, avx512f, avx512_vnni)"
    )
    assert results_text.cpu_text({"cpu_model": "Old"}) == "Old (flags not recorded)"
