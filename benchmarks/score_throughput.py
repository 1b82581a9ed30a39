"""How fast `stance score` is, per model and encoder backend, beside the raw sentence encoder.

On the generated corpus (seed paragraphs made unique; see harness.py), measures on CPU:
- `stance score` in-process, end to end (read, segment, score in batches,
  bootstrap, write jsonl), for the default model and every model folder under
  models/zoo/, once per encoder backend (torch, onnx, onnx-int8) where the
  model uses one; each model's load (weights, encoder, ONNX export) is timed
  apart, and the persistent embedding cache is off;
- the raw sentence encoder of each backend on paragraphs of the same mix (each
  truncated to the encoder's 256 word pieces; the models encode sentence
  windows instead, whose count is reported);
- a warm cache: the same articles scored twice by the default model with the
  cache on, each run in its own process; the second run's rate is what a rerun gets.
Every timed step gets paragraphs no cache has seen. The work is split into
rounds that alternate the order of the steps, so other load on the machine
slows them alike. Missing models, backends or options are skipped with a note.
Writes <results-dir>/score_throughput.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    BACKENDS,
    REPO,
    RESULTS_DIR,
    default_model_folder,
    generated_articles,
    generated_paragraphs,
    isolate_stance_cache,
    load_average,
    machine_facts,
    model_kind,
    rate,
    relative,
    seed_paragraphs,
    write_article_folder,
    write_result,
)

from pipeline.score import DEFAULT_BATCH_SIZE

# Fine-tuned models are measured on fewer paragraphs (`--slow-paragraphs`).
SLOW_KINDS = ("cross_encoder", "setfit", "transformer")
_WARM_UP = "A short paragraph that loads the encoder before the first timed batch."
WARM_UP_PARAGRAPHS = 20


@dataclass
class Subject:
    """One thing timed in every round: a model scoring articles, or a raw encoder."""

    label: str
    kind: str  # "stance_score" or "raw_encoder"
    backend: str
    paragraphs: int
    # (scratch folder, tag, paragraphs) -> (paragraphs handled, seconds timed)
    run: Callable[[Path, str, int], tuple[int, float]]
    facts: dict[str, Any] = field(default_factory=dict)
    model: Any = None  # the loaded StanceModel of a stance_score subject
    seconds: float = 0.0
    handled: int = 0

    def record(self) -> dict[str, Any]:
        return {
            "subject": self.label,
            "kind": self.kind,
            "backend": self.backend,
            **self.facts,
            "paragraphs": self.handled,
            "seconds": round(self.seconds, 2),
            "paragraphs_per_s": rate(self.handled, self.seconds),
        }


@contextmanager
def onnx_runtime_runs() -> Iterator[list[int]]:
    """Count ONNX Runtime session runs inside the block: whether a backend is really used."""
    counter = [0]
    try:
        from onnxruntime.capi.onnxruntime_inference_collection import Session
    except ImportError:
        yield counter
        return
    original = Session.run

    def counted(self, *args, **kwargs):
        counter[0] += 1
        return original(self, *args, **kwargs)

    Session.run = counted
    try:
        yield counter
    finally:
        Session.run = original


def first_line(error: BaseException) -> str:
    """An error as one line; the type is left out of this script's own LookupErrors."""
    lines = str(error).strip().splitlines()
    text = lines[0][:200] if lines else ""
    return text if type(error) is LookupError else f"{type(error).__name__}: {text}"


def model_folders(requested: list[Path] | None) -> list[Path]:
    """The default model first, then every folder under models/zoo/, or those requested."""
    if requested:
        return requested
    zoo = REPO / "models" / "zoo"
    return [default_model_folder(), *sorted(p for p in zoo.glob("*") if p.is_dir())]


def score_subject(
    folder: Path, kind: str, backend: str, arguments: argparse.Namespace, sources: list[str]
) -> Subject:
    """Load a model for one backend (timed) and check the backend is the one used."""
    from pipeline.config import load_params
    from pipeline.score.formats import OutputFormat
    from pipeline.score.local_engine import score_paths
    from pipeline.score.model import StanceModel

    params = load_params(REPO / "params.yaml")
    start = time.perf_counter()
    model = StanceModel.load(
        folder, params=params, batch_size=arguments.batch_size, backend=backend, cache=False
    )
    load_seconds = time.perf_counter() - start
    with onnx_runtime_runs() as runs:
        model.predict_proba([f"Probe of {relative(folder)} on {backend}: Moscow and Beijing."])
    if backend != "torch" and runs[0] == 0:
        raise LookupError(
            f"does not run on ONNX Runtime with backend {backend} (a probe paragraph made "
            "no ONNX Runtime call); not measured"
        )

    def run(scratch: Path, tag: str, count: int) -> tuple[int, float]:
        write_article_folder(scratch / "articles", generated_articles(sources, count, tag), tag)
        with onnx_runtime_runs() as runs:
            start = time.perf_counter()
            done = score_paths(
                model,
                [scratch / "articles"],
                output_format=OutputFormat.jsonl,
                output=scratch / "scores.jsonl",
            )
            seconds = time.perf_counter() - start
        facts["onnx_runtime_runs"] += runs[0]  # 0 on torch; more than 0 on onnx, onnx-int8
        return done.totals.paragraphs, seconds

    facts = {
        "model": kind,
        "default": folder.resolve() == default_model_folder().resolve(),
        "load_s": round(load_seconds, 2),
        "onnx_runtime_runs": 0,
    }
    return Subject(
        label=relative(folder),
        kind="stance_score",
        backend=backend,
        paragraphs=arguments.slow_paragraphs if kind in SLOW_KINDS else arguments.paragraphs,
        run=run,
        facts=facts,
        model=model,
    )


def raw_encoder(backend: str, batch_size: int, cache_root: Path):
    """The bare sentence encoder of a backend: PyTorch, or the ONNX one when present."""
    from pipeline.config import load_params

    path = load_params(REPO / "params.yaml").encoder.path
    if backend == "torch":
        from pipeline.encoders.torch_encoder import SentenceEncoder

        return SentenceEncoder(path, batch_size=batch_size)
    from pipeline.encoders.onnx_encoder import OnnxSentenceEncoder

    return OnnxSentenceEncoder(
        path, batch_size=batch_size, quantized=backend == "onnx-int8", cache_root=cache_root
    )


def encoder_subject(
    backend: str, arguments: argparse.Namespace, sources: list[str], cache_root: Path
) -> Subject:
    """A raw encoder, loaded (timed) by encoding one short text."""
    from pipeline.config import load_params

    batch_size = load_params(REPO / "params.yaml").encoder.batch_size
    start = time.perf_counter()
    encoder = raw_encoder(backend, batch_size, cache_root)
    encoder.encode([_WARM_UP])
    load_seconds = time.perf_counter() - start

    def run(scratch: Path, tag: str, count: int) -> tuple[int, float]:
        texts = generated_paragraphs(sources, count, tag)
        start = time.perf_counter()
        encoder.encode(texts)
        return len(texts), time.perf_counter() - start

    return Subject(
        label="raw encoder",
        kind="raw_encoder",
        backend=backend,
        paragraphs=arguments.paragraphs,
        run=run,
        facts={"encoder": type(encoder).__name__, "load_s": round(load_seconds, 2)},
    )


def count_windows(texts: list[str]) -> int:
    """How many sentence windows the embedding models cut these paragraphs into."""
    from pipeline.encoders.torch_encoder import SentenceEncoder
    from pipeline.models.chunking import chunk_texts

    encoder = SentenceEncoder()
    tokenizer, limit = encoder.tokenizer(), encoder.max_seq_length - 2

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    return len(chunk_texts(texts, count, limit)[0])


def split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal whole numbers."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def run_rounds(subjects: list[Subject], rounds: int, scratch: Path) -> None:
    """Time every subject once per round, the order reversed every other round.

    Each subject first scores a few paragraphs untimed, so one-off costs of a
    first real batch (lazy imports, first allocations) fall on no round.
    """
    for number, subject in enumerate(subjects):
        folder = scratch / f"warm-up-s{number}"
        folder.mkdir()
        subject.run(folder, f"warm-up-{number}-", min(WARM_UP_PARAGRAPHS, subject.paragraphs))
    shares = {id(subject): split(subject.paragraphs, rounds) for subject in subjects}
    for round_index in range(rounds):
        order = subjects if round_index % 2 == 0 else subjects[::-1]
        for subject in order:
            count = shares[id(subject)][round_index]
            if not count:
                continue
            number = subjects.index(subject)
            folder = scratch / f"r{round_index}-s{number}"
            folder.mkdir()
            # A tag per round and subject: no two steps see the same paragraph.
            handled, seconds = subject.run(folder, f"{round_index}-{number}-", count)
            subject.handled += handled
            subject.seconds += seconds


def warm_cache(
    arguments: argparse.Namespace, folder: Path, sources: list[str], scratch: Path
) -> dict[str, Any]:
    """The default model scoring the same articles twice, cache on, each in a new process."""
    articles = generated_articles(sources, arguments.warm_paragraphs, "warm-")
    write_article_folder(scratch / "warm", articles, "warm-")
    env = {**os.environ, "STANCE_CACHE_DIR": str(scratch / "warm-cache")}
    command = [sys.executable, __file__, "--score-once", str(scratch / "warm")]
    command += ["--models", str(folder), "--batch-size", str(arguments.batch_size)]
    runs = []
    for _ in ("cold", "warm"):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
            raise LookupError(f"warm cache: the scoring process failed ({tail[0][:200]})")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        "model": relative(folder),
        "backend": "torch",
        "paragraphs": runs[1]["paragraphs"],
        "first_run_paragraphs_per_s": rate(runs[0]["paragraphs"], runs[0]["seconds"]),
        "second_run_paragraphs_per_s": rate(runs[1]["paragraphs"], runs[1]["seconds"]),
        "second_run_load_s": runs[1]["load_s"],
    }


def score_once(folder: Path, model_folder: Path, batch_size: int) -> None:
    """Helper of `warm_cache`, run in a child process: load (timed), score once, print JSON."""
    from pipeline.config import load_params
    from pipeline.score.formats import OutputFormat
    from pipeline.score.local_engine import score_paths
    from pipeline.score.model import StanceModel

    start = time.perf_counter()
    model = StanceModel.load(
        model_folder,
        params=load_params(REPO / "params.yaml"),
        batch_size=batch_size,
        backend="torch",
        cache=True,
    )
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    output = folder.with_suffix(".jsonl")
    done = score_paths(model, [folder], output_format=OutputFormat.jsonl, output=output)
    seconds = time.perf_counter() - start
    record = {"load_s": round(load_seconds, 2), "seconds": seconds}
    print(json.dumps({**record, "paragraphs": done.totals.paragraphs}))


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--paragraphs", type=int, default=2000, help="per model and backend (default 2000)"
    )
    parser.add_argument(
        "--slow-paragraphs",
        type=int,
        default=500,
        help=f"for the fine-tuned models ({', '.join(SLOW_KINDS)}; default 500)",
    )
    parser.add_argument(
        "--warm-paragraphs", type=int, default=500, help="for the warm-cache runs (default 500)"
    )
    parser.add_argument(
        "--models",
        type=Path,
        nargs="+",
        help="model folders (default: the default model, then every folder in models/zoo/)",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        default=list(BACKENDS),
        choices=BACKENDS,
        help="encoder backends to measure (default: all three)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"paragraphs per model call (default {DEFAULT_BATCH_SIZE}, as stance score)",
    )
    parser.add_argument("--rounds", type=int, default=4, help="rounds of alternating order")
    parser.add_argument("--no-warm-cache", action="store_true", help="skip the warm-cache runs")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write")
    parser.add_argument("--score-once", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    if arguments.score_once:
        score_once(arguments.score_once, arguments.models[0], arguments.batch_size)
        return
    cache_root = isolate_stance_cache()
    from pipeline.encoders.base import use_offline_hub

    use_offline_hub()
    load_before = load_average()
    skipped: list[str] = []
    backends = list(arguments.backends)
    default = default_model_folder()
    sources = seed_paragraphs()
    subjects: list[Subject] = []
    for folder in model_folders(arguments.models):
        kind = model_kind(folder)
        if kind is None:
            skipped.append(f"{relative(folder)}: no model there")
            continue
        for backend in backends:
            try:
                subjects.append(score_subject(folder, kind, backend, arguments, sources))
            except Exception as error:
                skipped.append(f"{relative(folder)} on {backend}: {first_line(error)}")
    for backend in backends:
        try:
            subjects.append(encoder_subject(backend, arguments, sources, cache_root))
        except Exception as error:
            skipped.append(f"raw encoder on {backend}: {first_line(error)}")

    import torch

    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as scratch:
        run_rounds(subjects, arguments.rounds, Path(scratch))
        for subject in subjects:
            runs = subject.facts.get("onnx_runtime_runs")
            if runs is not None and (subject.backend == "torch") != (runs == 0):
                skipped.append(f"{subject.label} on {subject.backend}: ran {runs} ONNX sessions")
        busy = (time.process_time() - cpu) / (time.perf_counter() - wall)
        warm = None
        if arguments.no_warm_cache:
            skipped.append("warm cache: not asked for (--no-warm-cache)")
        else:
            try:
                warm = warm_cache(arguments, default, sources, Path(scratch))
            except LookupError as error:
                skipped.append(str(error))

    windows = count_windows(generated_paragraphs(sources, arguments.paragraphs, "w-"))
    result = {
        "settings": {
            "paragraphs": arguments.paragraphs,
            "slow_paragraphs": arguments.slow_paragraphs,
            "rounds": arguments.rounds,
            "batch_size": arguments.batch_size,
            "backends": backends,
        },
        "default_model": relative(default),
        "measurements": [subject.record() for subject in subjects],
        "windows_per_paragraph": round(windows / arguments.paragraphs, 3),
        "warm_cache": warm,
        "skipped": skipped,
        "notes": [
            "stance_score: in-process read, segment, score, bootstrap and jsonl write with the "
            "persistent cache off; load_s (weights, encoder, any ONNX export) is apart. A "
            "model loaded after another on the same backend may reuse its encoder.",
            "raw_encoder: encode() on paragraphs of the same mix, each truncated to 256 word "
            "pieces; windows_per_paragraph: sentence windows the models encode instead "
            "(nothing truncated)",
            "warm_cache: the default model scores the same articles in two fresh processes "
            "sharing one cache folder; load time excluded",
        ],
        "machine": {
            **machine_facts(),
            "load_average_before": load_before,
            # CPU time this process got over wall time x usable cores while measuring:
            # well below 1 means other work took cores from it.
            "cpu_share_while_measuring": round(busy / len(os.sched_getaffinity(0)), 2),
            "torch_threads": torch.get_num_threads(),
        },
    }
    write_result(arguments.results_dir, "score_throughput", result)


if __name__ == "__main__":
    main()
