"""Sentence windows keep every word of a long paragraph and respect the token limit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.models.chunking import chunk_texts, pool, sentence_windows


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
