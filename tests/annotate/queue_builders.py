"""Builders for the queue tests: a mini project, scored files, gold lines and votes."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.config import Params
from pipeline.segment.stage import PARAGRAPH_SCHEMA
from pipeline.text import sha256_hex
from tests.conftest import write_params
from tests.label.conftest import update_params

LABELS = ("favor", "against", "none")
# Words for made-up paragraphs: two random 14-word draws share (almost) no word 5-gram.
_VOCABULARY = (
    "harbour",
    "ministry",
    "pipeline",
    "grain",
    "tariff",
    "summit",
    "envoy",
    "border",
    "rouble",
    "yuan",
    "freight",
    "railway",
    "treaty",
    "customs",
    "export",
    "credit",
    "bond",
    "convoy",
    "tanker",
    "reactor",
)


def words(seed: int, count: int = 14) -> str:
    """A sentence of `count` words drawn with `seed`: unlike any other seed's."""
    draw = random.Random(seed)
    return " ".join(draw.choice(_VOCABULARY) for _ in range(count)).capitalize() + "."


def paragraph(
    paragraph_id: str,
    text: str,
    *,
    source: str = "Outlet A",
    doc_id: str | None = None,
    position: int = 0,
    title: str = "A title",
    section: str = "",
) -> dict:
    """One row of `paragraphs.parquet`."""
    return {
        "paragraph_id": paragraph_id,
        "doc_id": doc_id or paragraph_id.rsplit(":", 1)[0],
        "source": source,
        "title": title,
        "date": None,
        "position": position,
        "section": section,
        "text": text,
        "n_words": len(text.split()),
    }


def make_project(root: Path, rows: Sequence[dict], **dotted: object) -> Params:
    """A params file in `root` with `rows` as the corpus paragraphs (no model, no gold)."""
    params_path = write_params(root)
    params = update_params(params_path, **dotted)
    frame = pd.DataFrame(list(rows), columns=PARAGRAPH_SCHEMA.names)
    params.paths.paragraphs.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(params.paths.paragraphs, index=False)
    return params


def write_scored_jsonl(
    path: Path, rows: Sequence[dict], probs: Sequence[Sequence[float]], *, model: str = "m-1"
) -> Path:
    """A `stance score --format jsonl` output: a model line, then per article a document
    line followed by its paragraph lines."""
    lines = [{"type": "model", "name": "tfidf_logreg", "version": model, "card_hash": None}]
    by_doc: dict[str, list[tuple[dict, Sequence[float]]]] = {}
    for row, row_probs in zip(rows, probs, strict=True):
        by_doc.setdefault(row["doc_id"], []).append((row, row_probs))
    for doc_id, members in by_doc.items():
        doc = f"corpus/{doc_id}.txt"
        lines.append({"type": "document", "doc": doc, "source": members[0][0]["source"]})
        for row, row_probs in members:
            lines.append(
                {
                    "type": "paragraph",
                    "doc": doc,
                    "paragraph_id": row["paragraph_id"],
                    "position": row["position"],
                    "text": row["text"],
                    "label": LABELS[max(range(3), key=lambda i: row_probs[i])],
                    "probs": dict(zip(LABELS, row_probs, strict=True)),
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def gold_record(paragraph_id: str, text: str, label: str = "none") -> dict:
    return {
        "paragraph_id": paragraph_id,
        "text_sha256": sha256_hex(text),
        "label": label,
        "annotator": "tests",
    }


def write_jsonl(path: Path, records: Sequence[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_votes(path: Path, votes: dict[str, dict[str, str | None]]) -> Path:
    """`votes.parquet` with the rules and prototypes labelers (None: abstained)."""
    rows = []
    for paragraph_id, by_labeler in votes.items():
        row: dict = {"paragraph_id": paragraph_id, "synthetic": False, "gold": None}
        row["gold_score"] = 0.0
        for labeler in ("rules", "prototypes"):
            row[labeler] = by_labeler.get(labeler)
            row[f"{labeler}_score"] = 0.0 if row[labeler] is None else 0.9
        rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).astype({"gold": "string"}).to_parquet(path, index=False)
    return path


def read_queue(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
