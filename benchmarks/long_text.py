"""A long text with few sentence breaks, cut into MiniLM windows (issue 21, D11).

The window cutter once re-tokenized every growing prefix of an overlong sentence,
about 60 s per MB; it now counts each distinct word's pieces once. This times
`sentence_windows` with the bundled tokenizer on texts of `--megabytes` MB made of
seed words with no sentence break at all (the worst case), and checks every word
survives. Writes <results-dir>/long_text.json and prints it.
"""

from __future__ import annotations

import argparse
import random
import time

from harness import RESULTS_DIR, machine_facts, seed_paragraphs, write_result

from pipeline.encoders.torch_encoder import SentenceEncoder
from pipeline.models.chunking import TokenCounter, sentence_windows


def long_text(megabytes: float, seed: int = 0) -> str:
    words = " ".join(seed_paragraphs()).replace(".", "").split()
    rng, parts, size = random.Random(seed), [], 0
    while size < megabytes * 1e6:
        word = rng.choice(words)
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, nargs="+", default=[1.0, 20.0])
    parser.add_argument("--results-dir", type=type(RESULTS_DIR), default=RESULTS_DIR)
    arguments = parser.parse_args()
    encoder = SentenceEncoder()
    limit = encoder.max_seq_length - 2
    runs = []
    for megabytes in arguments.megabytes:
        text = long_text(megabytes)
        counter = TokenCounter(encoder.tokenizer())
        started = time.perf_counter()
        windows = sentence_windows(text, counter, limit)
        seconds = time.perf_counter() - started
        assert " ".join(windows).split() == text.split()
        runs.append(
            {
                "megabytes": megabytes,
                "words": len(text.split()),
                "windows": len(windows),
                "seconds": round(seconds, 2),
                "megabytes_per_second": round(megabytes / seconds, 2),
            }
        )
    write_result(arguments.results_dir, "long_text", {"machine": machine_facts(), "runs": runs})


if __name__ == "__main__":
    main()
