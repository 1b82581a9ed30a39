"""Data tests of the committed annotation files: complete, current, valid, and original."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_params
from pipeline.label.annotations import match_annotations, read_gold, read_synthetic
from pipeline.lexicon.rules import load_rules
from pipeline.segment.files import discover_documents
from pipeline.segment.stage import segment_corpus
from tests.conftest import REPO

PARAMS = load_params(REPO / "params.yaml")


@pytest.fixture(scope="module")
def seed_paragraphs() -> pd.DataFrame:
    documents = discover_documents(
        PARAMS.paths.corpus_dir, PARAMS.paths.manifest, PARAMS.segment.extensions
    )
    return pd.DataFrame(segment_corpus(documents, PARAMS.segment).rows)


def test_every_seed_paragraph_has_a_current_gold_label(seed_paragraphs: pd.DataFrame) -> None:
    annotations = read_gold(PARAMS.paths.gold, PARAMS.labels)
    match = match_annotations(annotations, seed_paragraphs)
    assert match.stale == []
    assert set(match.current) == set(seed_paragraphs.paragraph_id)
    counts = Counter(a.label for a in annotations)
    assert all(counts[label] >= 10 for label in PARAMS.labels), counts


def _eight_grams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 8]) for i in range(len(words) - 7)}


def test_synthetic_examples_are_many_varied_and_not_copied_from_seeds() -> None:
    examples = read_synthetic(PARAMS.paths.synthetic, PARAMS.labels)
    counts = Counter(e.label for e in examples)
    assert len(examples) >= 300 and all(counts[label] >= 100 for label in PARAMS.labels), counts
    assert len({e.category for e in examples}) >= 30
    seed_grams: set[tuple[str, ...]] = set()
    for path in Path(PARAMS.paths.corpus_dir).glob("*.txt"):
        seed_grams |= _eight_grams(path.read_text(encoding="utf-8"))
    copied = [e.example_id for e in examples if _eight_grams(e.text) & seed_grams]
    assert copied == []


def test_shipped_rules_load() -> None:
    rule_file, groups = load_rules(PARAMS.paths.rules, PARAMS.labels, PARAMS.proposition.actors)
    assert {rule.label for rule in rule_file.rules} == set(PARAMS.labels)
    assert set(PARAMS.proposition.actors) <= set(groups)
