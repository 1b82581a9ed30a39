"""Fixtures for the label stage: a small annotated corpus and a fake sentence encoder."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.text import sha256_hex


class BagOfWordsEncoder:
    """A deterministic stand-in for MiniLM: hashed bag of lower-cased words, unit length."""

    def __init__(self, dimensions: int = 256) -> None:
        self.dimensions = dimensions
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimensions] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


@pytest.fixture
def fake_encoder() -> BagOfWordsEncoder:
    return BagOfWordsEncoder()


def paragraphs_frame(*texts: str, source: str = "Outlet A") -> pd.DataFrame:
    """A paragraphs table as the segment stage writes it (the columns labelling reads)."""
    return pd.DataFrame(
        {
            "paragraph_id": [f"doc:{index:012d}" for index in range(len(texts))],
            "doc_id": "doc",
            "source": source,
            "text": list(texts),
        }
    )


def gold_line(paragraph_id: str, text: str, label: str, **extra: object) -> str:
    record = {
        "paragraph_id": paragraph_id,
        "text_sha256": sha256_hex(text),
        "label": label,
        "note": "test annotation",
        "annotator": "tests",
        **extra,
    }
    return json.dumps(record)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


ANNOTATED_ARTICLE = {
    "a.txt": (
        "Talks Between Rivals\n\n"
        "Moscow and Beijing have quarrelled over payments, and the strain shows: "
        "Chinese banks refuse transfers from Russian firms.\n\n"
        "The weather in Lisbon was mild for the season.\n"
    ),
    "b.txt": (
        "Old Friends\n\n"
        "Russia and China call their bond unbreakable, and the Kremlin depends on "
        "Chinese buyers with no alternative in sight.\n\n"
        "Subscribe to our newsletter for more.\n"
    ),
}


@pytest.fixture
def annotated_corpus(corpus: Callable[..., Params]) -> Callable[..., Params]:
    """Segment a two-article corpus; gold annotations for its first paragraphs."""
    from pipeline.segment.stage import run_segment

    def build(**label_overrides: object) -> Params:
        params = corpus(ANNOTATED_ARTICLE)
        run_segment(params)
        paragraphs = pd.read_parquet(params.paths.paragraphs)
        first = paragraphs.groupby("doc_id").head(1)
        write_lines(
            params.paths.gold,
            [
                gold_line(row.paragraph_id, row.text, label)
                for row, label in zip(first.itertuples(), ["favor", "against"], strict=True)
            ],
        )
        return params

    return build
