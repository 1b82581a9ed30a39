"""Data tests of the paragraphs written from real coverage (`paths.press`, `paths.dev`).

The development set measures the model on outlets it has never seen, so nothing of it
may leak into training: no shared outlet, no near-duplicate paragraph. No written
paragraph may repeat the seeds, and none may come from the hidden evaluation set
(checked with the project's guard where `../shared` is present).
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from pipeline.config import load_params
from pipeline.label.written import WrittenExample, read_written
from tests.conftest import REPO

PARAMS = load_params(REPO / "params.yaml")
GUARD = REPO.parent / "shared" / "tools" / "heldout-guard"


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", folded)


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.fixture(scope="module")
def train() -> list[WrittenExample]:
    return read_written(PARAMS.paths.press, PARAMS.labels)


@pytest.fixture(scope="module")
def dev() -> list[WrittenExample]:
    return read_written(PARAMS.paths.dev, PARAMS.labels)


def test_volume_and_spread(train: list[WrittenExample], dev: list[WrittenExample]) -> None:
    assert len(train) >= 2000 and len({e.outlet for e in train}) >= 150
    assert len(dev) >= 400 and len({e.outlet for e in dev}) >= 40
    for examples in (train, dev):
        share = Counter(e.label for e in examples)
        assert all(share[label] >= 0.1 * len(examples) for label in PARAMS.labels), share


def test_train_and_dev_share_no_outlet(train: list[WrittenExample], dev: list[WrittenExample]):
    def key(name: str) -> str:
        return " ".join(_words(re.sub(r"^the\s+", "", name, flags=re.I)))

    assert not {key(e.outlet) for e in train} & {key(e.outlet) for e in dev}


def test_no_near_duplicate_across_train_and_dev(
    train: list[WrittenExample], dev: list[WrittenExample]
) -> None:
    """Word 5-gram Jaccard below 0.5 for every (train, dev) pair."""
    grams = [_grams(e.text, 5) for e in train]
    index: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for number, items in enumerate(grams):
        for gram in items:
            index[gram].add(number)
    for example in dev:
        mine = _grams(example.text, 5)
        shared = Counter(number for gram in mine for number in index.get(gram, ()))
        for number, count in shared.items():
            jaccard = count / len(mine | grams[number])
            assert jaccard < 0.5, (example.example_id, train[number].example_id, jaccard)


def test_pages_keep_their_order(train: list[WrittenExample], dev: list[WrittenExample]) -> None:
    for examples in (train, dev):
        seen: dict[str, list[int]] = defaultdict(list)
        for example in examples:
            seen[example.article_id].append(example.position)
        for positions in seen.values():
            assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_no_written_paragraph_repeats_eight_words_of_a_seed(
    train: list[WrittenExample], dev: list[WrittenExample]
) -> None:
    seeds = set()
    for path in sorted(PARAMS.paths.corpus_dir.glob("*.txt")):
        seeds |= _grams(path.read_text(encoding="utf-8"), 8)
    for example in [*train, *dev]:
        assert not _grams(example.text, 8) & seeds, example.example_id


@pytest.mark.skipif(not GUARD.is_file(), reason="the hidden-set guard lives in ../shared")
@pytest.mark.parametrize("path", [PARAMS.paths.press, PARAMS.paths.dev, PARAMS.paths.synthetic])
def test_the_hidden_set_guard_is_clear(path: Path) -> None:
    result = subprocess.run(
        [str(GUARD), "--jsonl", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:]
