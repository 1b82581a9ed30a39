"""Near-duplicate detection for the labelling queue: a candidate that repeats a queued or
labelled paragraph (the same normalised text, or a word 5-gram Jaccard of at least
`annotate.near_duplicate`) is skipped."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.text import sha256_hex, text_key

SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


@dataclass
class NearDuplicateIndex:
    """Paragraphs already queued or labelled, to spot a candidate that repeats one.

    Two texts are the same when their normalised keys are equal, or when both have
    at least five words and the Jaccard similarity of their word 5-gram sets reaches
    `threshold`. An inverted index from 5-gram to text keeps each check to the texts
    that share one.
    """

    threshold: float
    _keys: set[str] = field(default_factory=set)
    _hashes: set[str] = field(default_factory=set)
    _sizes: list[int] = field(default_factory=list)
    _postings: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    def add(self, text: str) -> None:
        key = text_key(text)
        self._keys.add(key)
        grams = shingles(key)
        if not grams:
            return
        number = len(self._sizes)
        self._sizes.append(len(grams))
        for gram in grams:
            self._postings.setdefault(gram, []).append(number)

    def add_hashes(self, hashes: Iterable[str]) -> None:
        """Exact texts known only by their SHA-256 (labels of paragraphs not at hand)."""
        self._hashes.update(hashes)

    def contains(self, text: str) -> bool:
        key = text_key(text)
        if key in self._keys or sha256_hex(text) in self._hashes:
            return True
        grams = shingles(key)
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self._postings.get(gram, ()))
        return any(
            count / (len(grams) + self._sizes[number] - count) >= self.threshold
            for number, count in shared.items()
        )


def shingles(key: str) -> set[tuple[str, ...]]:
    """The word 5-grams of a normalised text; none for a text under five words."""
    words = _WORD.findall(key)
    return {tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}
