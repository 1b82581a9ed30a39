"""Where the time of `stance score` goes: a cProfile of scoring generated articles.

Scores `--paragraphs` paragraphs of the generated corpus (see harness.py) with
a model (default: the default model) in-process, cache off, for each encoder
backend: once without the profiler (the honest wall time) and once under
cProfile on other paragraphs of the same mix. Each profile is summarised as
the share of time in each part of the work: encoder forward pass,
tokenisation, sentence windows and pooling, TF-IDF, rules and actor matching,
logistic regression, bootstrap interval, segmentation, writing the output, and
the rest. A function's own time goes to the nearest part on its call path
(gprof's rule: a function called from two parts is split in proportion to the
time each caller spent in it), so tokenising inside sentence windowing counts
as tokenisation. cProfile adds a cost to every Python call, so pure-Python
parts weigh a little more here than in the unprofiled run. Also lists the
functions with the most own time.
Writes <results-dir>/profile_score.json and prints it.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import inspect
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    BACKENDS,
    REPO,
    RESULTS_DIR,
    default_model_folder,
    generated_articles,
    isolate_stance_cache,
    load_average,
    machine_facts,
    rate,
    relative,
    seed_paragraphs,
    write_article_folder,
    write_result,
)

from pipeline.score import DEFAULT_BATCH_SIZE

# The parts of the work, each named by the functions that start it ("module:Class.name"),
# or by how cProfile names a built-in method.
PARTS: dict[str, tuple[str, ...]] = {
    "encoder forward pass": (
        "torch.nn.modules.module:Module._wrapped_call_impl",
        "onnxruntime.capi.onnxruntime_inference_collection:Session.run",
    ),
    "tokenisation": (
        "transformers.tokenization_utils_base:PreTrainedTokenizerBase.__call__",
        "transformers.tokenization_utils_base:PreTrainedTokenizerBase.pad",
    ),
    "static encoder (model2vec)": ("pipeline.encoders.static_encoder:StaticEncoder.encode",),
    "sentence windows and pooling": (
        "pipeline.models.chunking:chunk_texts",
        "pipeline.models.chunking:pool",
    ),
    "TF-IDF": ("sklearn.feature_extraction.text:TfidfVectorizer.transform",),
    "rules and actor matching": (
        "pipeline.lexicon.rules:RuleSet.vote_text",
        "pipeline.lexicon.entities:EntityMatcher.mentioned",
    ),
    "logistic regression": ("sklearn.linear_model._logistic:LogisticRegression.predict_proba",),
    "bootstrap interval": ("pipeline.report.index:bootstrap_interval",),
    "segmentation": (
        "pipeline.segment.stage:segment_document",
        "pipeline.segment.stage:segment_article_text",
    ),
    "writing output": (
        "pipeline.score.formats:_dumps",
        "pipeline.score.core:ScoredDocument.record",
        "pipeline.score.core:ScoredParagraph.record",
        "<method 'write' of '_io.TextIOWrapper' objects>",
        "<method 'flush' of '_io.TextIOWrapper' objects>",
        "<built-in method posix.fsync>",
    ),
}
OTHER = "other"

Key = tuple[str, int, str]  # cProfile's (file, first line, function name)


def function_keys(target: str) -> list[Key]:
    """cProfile's keys for a "module:Class.name" target (none when it cannot be imported)."""
    if ":" not in target:  # a built-in method, named as cProfile names it
        return [("~", 0, target)]
    module_name, attribute = target.split(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return []
    keys = []
    for function in {found, inspect.unwrap(found)}:
        code = getattr(function, "__code__", None)
        if code is not None:
            keys.append((code.co_filename, code.co_firstlineno, code.co_name))
    return keys


def part_of_each_root() -> dict[Key, str]:
    return {
        key: part for part, targets in PARTS.items() for t in targets for key in function_keys(t)
    }


def attribute_time(stats: dict, roots: dict[Key, str]) -> dict[str, float]:
    """Seconds of own time per part: each function's own time goes to its nearest root.

    `stats` is `pstats.Stats.stats`: key -> (calls, primitive calls, own time,
    cumulative time, {caller key: (same four for that caller)}). A function
    called from several places is split by the cumulative time each caller
    spent in it; a call cycle that reaches no root counts as other.
    """
    memo: dict[Key, dict[str, float]] = {}
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

    def shares(key: Key, visiting: frozenset[Key]) -> dict[str, float]:
        if key in roots:
            return {roots[key]: 1.0}
        if key in memo:
            return memo[key]
        if key in visiting or key not in stats:
            return {}
        callers = {caller: edge for caller, edge in stats[key][4].items() if caller in stats}
        weights = {caller: edge[3] for caller, edge in callers.items()}
        if sum(weights.values()) <= 0:  # too fast to time: split by call counts
            weights = {caller: edge[1] for caller, edge in callers.items()}
        total = sum(weights.values())
        result: dict[str, float] = {}
        for caller, weight in weights.items():
            if weight <= 0:
                continue
            for part, share in shares(caller, visiting | {key}).items():
                result[part] = result.get(part, 0.0) + share * weight / total
        memo[key] = result
        return result

    seconds = dict.fromkeys([*PARTS, OTHER], 0.0)
    for key, (_, _, own, _, _) in stats.items():
        assigned = shares(key, frozenset())
        for part, share in assigned.items():
            seconds[part] += own * share
        seconds[OTHER] += own * (1.0 - sum(assigned.values()))
    return seconds


def top_functions(stats: dict, count: int) -> list[dict[str, Any]]:
    """The functions with the most own time."""
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:count]
    return [
        {
            "function": f"{Path(file).name}:{line}({name})" if file != "~" else name,
            "own_s": round(own, 3),
            "cumulative_s": round(cumulative, 3),
            "calls": calls,
        }
        for (file, line, name), (_, calls, own, cumulative, _) in rows
    ]


def score_folder(
    model: Any,
    folder: Path,
    sources: list[str],
    arguments: argparse.Namespace,
    *,
    paragraphs: int | None = None,
    profiler: cProfile.Profile | None = None,
) -> tuple[int, float]:
    """Score fresh generated articles (under `profiler` if given): paragraphs and seconds."""
    from pipeline.score.formats import OutputFormat
    from pipeline.score.local_engine import score_paths

    tag = f"{folder.name}-"
    count = paragraphs or arguments.paragraphs
    write_article_folder(folder, generated_articles(sources, count, tag), tag)
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    try:
        done = score_paths(
            model, [folder], output_format=OutputFormat.jsonl, output=folder.with_suffix(".jsonl")
        )
    finally:
        if profiler is not None:
            profiler.disable()
    return done.totals.paragraphs, time.perf_counter() - start


def profile_backend(
    folder: Path, backend: str, sources: list[str], arguments: argparse.Namespace
) -> dict[str, Any]:
    """Load the model on one backend, score untimed, timed and profiled: the summary."""
    from pipeline.config import load_params
    from pipeline.score.model import StanceModel

    model = StanceModel.load(
        folder,
        params=load_params(REPO / "params.yaml"),
        batch_size=arguments.batch_size,
        backend=backend,
        cache=False,
    )
    with tempfile.TemporaryDirectory(prefix="stance-profile-") as temp:
        scratch = Path(temp)
        score_folder(model, scratch / "warm-up", sources, arguments, paragraphs=20)
        plain = score_folder(model, scratch / "plain", sources, arguments)
        profiler = cProfile.Profile()
        profiled = score_folder(model, scratch / "profiled", sources, arguments, profiler=profiler)
    stats = pstats.Stats(profiler).stats
    seconds = attribute_time(stats, part_of_each_root())
    total = sum(seconds.values())
    return {
        "model": relative(folder),
        "backend": backend,
        "paragraphs": profiled[0],
        "unprofiled_s": round(plain[1], 2),
        "unprofiled_paragraphs_per_s": rate(*plain),
        "profiled_s": round(profiled[1], 2),
        "parts": {
            part: {"seconds": round(value, 3), "share": round(value / total, 4) if total else None}
            for part, value in sorted(seconds.items(), key=lambda item: -item[1])
        },
        "top_functions": top_functions(stats, arguments.top),
    }


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paragraphs", type=int, default=500, help="paragraphs (default 500)")
    parser.add_argument("--model", type=Path, help="model folder (default: the default model)")
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=BACKENDS,
        default=list(BACKENDS),
        help="encoder backends, one profile each (default: all three)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"paragraphs per model call (default {DEFAULT_BATCH_SIZE}, as stance score)",
    )
    parser.add_argument("--top", type=int, default=15, help="functions to list by own time")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write")
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    isolate_stance_cache()
    from pipeline.encoders.base import use_offline_hub

    use_offline_hub()
    load_before = load_average()
    folder = arguments.model or default_model_folder()
    backends, notes = list(arguments.backends), []
    sources = seed_paragraphs()
    profiles = [profile_backend(folder, backend, sources, arguments) for backend in backends]
    import torch

    result = {
        "profiles": profiles,
        "notes": [
            *notes,
            "parts: own time of each function given to the nearest listed function on its "
            "call path (gprof's proportional rule); see PARTS in profile_score.py",
            "cProfile slows Python calls, so the profiled run takes longer than the "
            "unprofiled one and pure-Python parts weigh a little more",
            "the persistent cache is off; 20 paragraphs are scored untimed first",
        ],
        "machine": {
            **machine_facts(),
            "load_average_before": load_before,
            "torch_threads": torch.get_num_threads(),
        },
    }
    write_result(arguments.results_dir, "profile_score", result)


if __name__ == "__main__":
    main()
