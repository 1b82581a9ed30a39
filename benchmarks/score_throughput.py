"""How fast `stance score` is, beside the raw sentence encoder on the same paragraphs.

Builds temporary folders of articles from the seed paragraphs (each paragraph
made unique, so no embedding cache can help), then measures on CPU:
- `stance score` in-process, end to end (read, segment, score in batches,
  bootstrap, write jsonl), with the model's load (weights and encoder) timed
  separately; once per `--batch-size` given, each on its own fresh paragraphs;
- the raw `SentenceEncoder` on the same paragraph texts (each truncated to the
  encoder's 256 word pieces; the model encodes sentence windows instead, whose
  count is reported);
- with `--cli`, also the command as a user runs it (`python -m pipeline score
  DIR -o FILE`), process start and model load included.
The work is split into rounds that alternate the order of the measurements, so
other load on the machine slows them alike. About 5 minutes for the default
2000 paragraphs on a 2-core CPU. Writes benchmarks/results/score_throughput.json
and prints it. Run: `python benchmarks/score_throughput.py [--paragraphs N]
[--batch-size N [N ...]] [--model DIR] [--cli]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from pipeline.config import load_params
from pipeline.encoder import SentenceEncoder, use_offline_hub
from pipeline.io import display_path
from pipeline.models.chunking import chunk_texts
from pipeline.score import DEFAULT_BATCH_SIZE
from pipeline.score.formats import OutputFormat
from pipeline.score.inputs import ReadOptions, read_documents
from pipeline.score.model import StanceModel
from pipeline.score.stage import score_paths

OUT = Path(__file__).parent / "results" / "score_throughput.json"
PARAGRAPHS_PER_ARTICLE = 20
ROUNDS = 4
_WARM_UP = "A short paragraph that loads the encoder before the first batch."


def seed_paragraphs(options: ReadOptions) -> list[str]:
    """The seed corpus's paragraphs, segmented by the pipeline."""
    seeds = load_params().paths.corpus_dir
    return [p.text for d in read_documents([seeds], options).documents for p in d.paragraphs]


def write_articles(folder: Path, paragraphs: list[str], count: int, tag: str) -> None:
    """Articles of 20 seed paragraphs each, every paragraph made unique by a dispatch note."""
    folder.mkdir(parents=True)
    for index in range(-(-count // PARAGRAPHS_PER_ARTICLE)):
        size = min(PARAGRAPHS_PER_ARTICLE, count - index * PARAGRAPHS_PER_ARTICLE)
        chosen = [paragraphs[(index * 7 + k) % len(paragraphs)] for k in range(size)]
        body = [f"{text} (Dispatch {tag}{index}.{k}.)" for k, text in enumerate(chosen)]
        text = "\n\n".join([f"Dispatch number {tag}{index}", *body]) + "\n"
        (folder / f"article_{index:05d}.txt").write_text(text, encoding="utf-8")


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def timed(step: Callable[[], int]) -> tuple[float, int]:
    """Seconds a step takes, and the paragraphs it handled."""
    start = time.perf_counter()
    count = step()
    return time.perf_counter() - start, count


def score_step(model: StanceModel, folder: Path, batch_size: int) -> Callable[[], int]:
    def step() -> int:
        model.batch_size = batch_size
        output = folder.with_suffix(".jsonl")
        run = score_paths(model, [folder], output_format=OutputFormat.jsonl, output=output)
        return run.totals.paragraphs

    return step


def encoder_step(encoder: SentenceEncoder, texts: list[str]) -> Callable[[], int]:
    def step() -> int:
        encoder.encode(texts)
        return len(texts)

    return step


def count_windows(encoder: SentenceEncoder, texts: list[str]) -> int:
    """How many sentence windows the embedding models cut these paragraphs into."""
    tokenizer, limit = encoder.tokenizer(), encoder.max_seq_length - 2

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    return len(chunk_texts(texts, count, limit)[0])


def paragraph_texts(folder: Path, options: ReadOptions) -> list[str]:
    return [p.text for d in read_documents([folder], options).documents for p in d.paragraphs]


def time_cli(folder: Path, model_folder: Path, batch_size: int) -> float:
    command = [sys.executable, "-m", "pipeline", "--quiet", "score", str(folder)]
    command += ["--model", str(model_folder), "--batch-size", str(batch_size)]
    command += ["-o", str(folder.with_name("cli.jsonl"))]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=2000, help="how many to score")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[DEFAULT_BATCH_SIZE])
    parser.add_argument("--model", type=Path, help="model folder (default: from params)")
    parser.add_argument("--cli", action="store_true", help="also time `python -m pipeline`")
    arguments = parser.parse_args()
    use_offline_hub()
    load_before = os.getloadavg()  # other work on the machine slows every measurement
    params = load_params()
    model_folder = arguments.model or params.paths.models / params.train.model

    start = time.perf_counter()
    model = StanceModel.load(model_folder, params=params)
    load_seconds = time.perf_counter() - start
    encoder = SentenceEncoder(params.encoder.path, batch_size=params.encoder.batch_size)
    encoder_load, _ = timed(encoder_step(encoder, [_WARM_UP]))
    sources = seed_paragraphs(model.read)
    totals: dict[str, list[float]] = {}
    windows = 0
    cli = None
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as temp:
        per_round = -(-arguments.paragraphs // ROUNDS)
        for round_index in range(ROUNDS):
            count = min(per_round, arguments.paragraphs - round_index * per_round)
            steps: list[tuple[str, Callable[[], int]]] = []
            for batch_size in arguments.batch_size:
                folder = Path(temp) / f"r{round_index}-b{batch_size}"
                write_articles(folder, sources, count, f"{round_index}-{batch_size}-")
                steps.append((f"batch_size_{batch_size}", score_step(model, folder, batch_size)))
                if len(steps) == 1:  # the raw encoder gets the first score step's paragraphs
                    texts = paragraph_texts(folder, model.read)
                    steps.append(("encoder", encoder_step(encoder, texts)))
                    windows += count_windows(encoder, texts)
            for name, step in steps if round_index % 2 == 0 else steps[::-1]:
                seconds, handled = timed(step)
                total = totals.setdefault(name, [0.0, 0])
                total[0] += seconds
                total[1] += handled
        busy = (time.process_time() - cpu) / (time.perf_counter() - wall) / torch.get_num_threads()
        if arguments.cli:
            first = Path(temp) / f"r0-b{arguments.batch_size[0]}"
            seconds = time_cli(first, model_folder, arguments.batch_size[0])
            count = len(paragraph_texts(first, model.read))
            cli = {
                "paragraphs": count,
                "seconds": round(seconds, 2),
                "paragraphs_per_s": rate(count, seconds),
            }

    encoder_seconds, paragraphs = totals.pop("encoder")
    encoder_rate = rate(int(paragraphs), encoder_seconds)
    result = {
        "paragraphs": int(paragraphs),
        "model": {
            "folder": display_path(model_folder),
            "name": model.info.name,
            "version": model.info.version,
        },
        "model_load_s": round(load_seconds, 2),
        "stance_score": {
            name: {
                "seconds": round(seconds, 2),
                "paragraphs_per_s": rate(int(count), seconds),
                "share_of_raw_encoder_speed": round(rate(int(count), seconds) / encoder_rate, 3),
            }
            for name, (seconds, count) in totals.items()
        },
        "raw_encoder": {
            "load_s": round(encoder_load, 2),
            "seconds": round(encoder_seconds, 2),
            "paragraphs_per_s": encoder_rate,
        },
        "windows_scored": windows,
        "stance_score_cli": cli,
        "notes": [
            "stance_score: in-process read, segment, score, bootstrap and jsonl write; "
            "model load excluded",
            "raw_encoder: SentenceEncoder.encode on the same paragraphs, each truncated to "
            "256 word pieces",
            "windows_scored: sentence windows the model encodes for them (nothing truncated)",
            "stance_score_cli: `python -m pipeline score DIR -o FILE` on the first round's "
            "articles, process start-up and model load included",
        ],
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(load, 2) for load in load_before],
            # CPU time this process got over wall time x threads while measuring: well
            # below 1 means other work on the machine took cores from it.
            "cpu_share_while_measuring": round(busy, 2),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
