"""Fixtures for the label stage: a small annotated corpus and a fake sentence encoder."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.config import Params, load_params
from pipeline.text import sha256_hex
from tests.conftest import REPO


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


SYNTHETIC = [
    {"id": "s1", "text": "Moscow resents its junior partner role.", "label": "favor"},
    {"id": "s2", "text": "The bond between Russia and China is unbreakable.", "label": "against"},
    {"id": "s3", "text": "The ferry timetable changes in May.", "label": "none"},
]


def update_params(path: Path, **dotted: object) -> Params:
    """Set dotted keys (e.g. `label.prototypes.enabled`) in a params file and reload it."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        section = raw
        for parent in parents:
            section = section.setdefault(parent, {})
        section[leaf] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_params(path)


@pytest.fixture
def annotated_corpus(corpus: Callable[..., Params]) -> Callable[..., Params]:
    """A segmented two-article corpus with the shipped rules, three synthetic examples
    and gold annotations for the first paragraph of each article (favor, against)."""
    from pipeline.segment.stage import run_segment

    def build(**dotted: object) -> Params:
        params = corpus(ANNOTATED_ARTICLE)
        run_segment(params)
        paths = params.paths
        paths.rules.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / "data" / "annotations" / "rules.yaml", paths.rules)
        write_lines(paths.synthetic, [json.dumps({**e, "synthetic": True}) for e in SYNTHETIC])
        paragraphs = pd.read_parquet(paths.paragraphs)
        first = paragraphs.groupby("doc_id").head(1)
        write_lines(
            paths.gold,
            [
                gold_line(row.paragraph_id, row.text, label)
                for row, label in zip(first.itertuples(), ["favor", "against"], strict=True)
            ],
        )
        return update_params(paths.paragraphs.parents[1] / "params.yaml", **dotted)

    return build
