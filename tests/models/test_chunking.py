"""Sentence windows keep every word of a long paragraph and respect the token limit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.models.chunking import (
    TokenCounter,
    chunk_texts,
    greedy_windows,
    pool,
    sentence_windows,
)


def count_words(text: str) -> int:
    return len(text.split())


def test_short_text_is_one_window() -> None:
    assert sentence_windows("One. Two three.", count_words, 10) == ["One. Two three."]


def test_long_text_is_cut_at_sentences_within_the_limit() -> None:
    text = " ".join(f"Sentence number {i} has six words." for i in range(20))
    windows = sentence_windows(text, count_words, 20)
    assert len(windows) > 1
    assert all(count_words(window) <= 20 for window in windows)
    assert all(window.endswith(".") for window in windows)
    assert " ".join(windows).split() == text.split()


def test_an_overlong_sentence_is_cut_by_words() -> None:
    text = " ".join(["word"] * 25) + "."
    windows = sentence_windows(text, count_words, 10)
    assert [count_words(w) for w in windows] == [10, 10, 5]


@given(st.lists(st.text(alphabet="abc .", min_size=1, max_size=60), min_size=1, max_size=5))
def test_windows_preserve_every_word(texts: list[str]) -> None:
    windows, owners, weights = chunk_texts(texts, count_words, 7)
    for index, text in enumerate(texts):
        mine = [w for w, o in zip(windows, owners, strict=True) if o == index]
        assert " ".join(mine).split() == text.split() or (not text.split() and len(mine) == 1)
    assert len(weights) == len(windows) and (weights >= 1).all()


def test_pool_is_a_length_weighted_mean() -> None:
    values = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    owners = np.array([0, 0, 1])
    weights = np.array([3.0, 1.0, 2.0])
    np.testing.assert_allclose(pool(values, owners, weights, 2), [[0.75, 0.25], [0.5, 0.5]])


sentence_text = st.lists(
    st.text(alphabet="abc XYZ,;'", min_size=1, max_size=30).map(lambda s: s.strip() or "x"),
    min_size=1,
    max_size=8,
).map(lambda sentences: "  ".join(f"{s}." for s in sentences))


@given(text=sentence_text)
def test_shortcut_for_a_text_that_fits_equals_the_greedy_packing(text: str) -> None:
    limit = count_words(text)  # the whole text just fits
    assert sentence_windows(text, count_words, limit) == greedy_windows(text, count_words, limit)


def test_token_counter_counts_in_one_call_and_remembers() -> None:
    calls: list[list[str]] = []

    def tokenizer(texts: list[str], **_: object) -> dict:
        calls.append(list(texts))
        return {"input_ids": [text.split() for text in texts]}

    counter = TokenCounter(tokenizer)
    counter.prime(["a b", "c", "a b"])
    assert calls == [["a b", "c"]]
    assert (counter("a b"), counter("c"), counter("d e f")) == (2, 1, 3)
    assert calls[-1] == ["d e f"]  # only the unseen text is tokenised


class CountingCounter:
    """Words as tokens, remembering how many characters it was asked to count (D11)."""

    def __init__(self) -> None:
        self.characters = 0

    def __call__(self, text: str) -> int:
        self.characters += len(text)
        return len(text.split())


def test_a_long_text_without_sentence_breaks_is_cut_in_one_pass() -> None:
    """The tokenizer reads each word a bounded number of times, not once per prefix:
    the cost grows with the text, not with its square."""
    words = [f"w{i % 500}" for i in range(20_000)]
    text = " ".join(words)
    counter = CountingCounter()
    windows = sentence_windows(text, counter, 254)
    assert " ".join(windows).split() == words
    assert all(len(window.split()) <= 254 for window in windows)
    assert counter.characters <= 3 * len(text)
