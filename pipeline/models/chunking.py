"""Long paragraphs are classified from all their text: sentence windows, then pooling.

MiniLM reads at most 256 word pieces; some paragraphs are 300 words and more. A
paragraph is cut into consecutive windows of whole sentences that fit the
window (a single overlong sentence is cut by words), each window is encoded or
classified, and the results are pooled with weights proportional to length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pipeline.text import split_sentences


def sentence_windows(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    """Consecutive windows of whole sentences, each within `max_tokens` (never empty)."""
    if count_tokens(text) <= max_tokens:
        # What the loop below gives for a text that fits (word pieces never straddle a
        # space, so every run of its sentences fits too), without counting each run.
        return [" ".join(split_sentences(text) or [text])]
    return greedy_windows(text, count_tokens, max_tokens)


def greedy_windows(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    """Sentences (overlong ones cut by words) packed greedily into windows of `max_tokens`.

    Word pieces never straddle a space, so a run of words has as many pieces as its
    words together: each distinct word is counted once (in one batch when the counter
    can `prime`), and a text of any length is cut in one linear pass.
    """
    sentences = split_sentences(text) or [text]
    prime = getattr(count_tokens, "prime", None)
    if prime is not None:
        prime([word for sentence in sentences for word in sentence.split()])
    pieces: list[tuple[str, int]] = []
    for sentence in sentences:
        words = sentence.split()
        size = sum(map(count_tokens, words))
        if size <= max_tokens:
            pieces.append((sentence, size))
        else:
            pieces.extend(_split_words(words, count_tokens, max_tokens))
    return [window for window, _ in _pack(pieces, max_tokens)] or [text]


def _pack(pieces: list[tuple[str, int]], max_tokens: int) -> list[tuple[str, int]]:
    """Consecutive (text, size) pieces joined into (window, size) of at most `max_tokens`
    (a piece larger than that stays alone)."""
    windows: list[tuple[str, int]] = []
    current: list[str] = []
    total = 0
    for piece, size in pieces:
        if current and total + size > max_tokens:
            windows.append((" ".join(current), total))
            current, total = [], 0
        current.append(piece)
        total += size
    if current:
        windows.append((" ".join(current), total))
    return windows


def _split_words(
    words: list[str], count_tokens: Callable[[str], int], max_tokens: int
) -> list[tuple[str, int]]:
    """An overlong sentence's words in runs of at most `max_tokens` (a longer word alone)."""
    return _pack([(word, count_tokens(word)) for word in words], max_tokens)


class TokenCounter:
    """Word pieces per text (no special tokens), counted in batches and remembered."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self._counts: dict[str, int] = {}

    def prime(self, texts: Sequence[str]) -> None:
        """Count many texts in one tokenizer call (much faster than one call each)."""
        todo = [text for text in dict.fromkeys(texts) if text not in self._counts]
        if todo:
            ids = self.tokenizer(todo, add_special_tokens=False, verbose=False)["input_ids"]
            self._counts.update(zip(todo, map(len, ids), strict=True))

    def __call__(self, text: str) -> int:
        if text not in self._counts:
            self.prime([text])
        return self._counts[text]


def chunk_texts(
    texts: Sequence[str], count_tokens: Callable[[str], int], max_tokens: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """All windows of all texts, the text each belongs to, and each window's weight."""
    windows: list[str] = []
    owners: list[int] = []
    for index, text in enumerate(texts):
        parts = sentence_windows(text, count_tokens, max_tokens)
        windows.extend(parts)
        owners.extend([index] * len(parts))
    weights = np.asarray([max(len(window.split()), 1) for window in windows], dtype=np.float64)
    return windows, np.asarray(owners, dtype=np.int64), weights


def pool(values: np.ndarray, owners: np.ndarray, weights: np.ndarray, count: int) -> np.ndarray:
    """Length-weighted mean of the rows of `values` that belong to each of `count` texts."""
    pooled = np.zeros((count, values.shape[1]), dtype=np.float64)
    np.add.at(pooled, owners, values * weights[:, None])
    totals = np.zeros(count, dtype=np.float64)
    np.add.at(totals, owners, weights)
    return pooled / np.where(totals == 0, 1, totals)[:, None]
