"""Literal prefilters: skip a regular-expression search when its answer is known to be no.

Scoring runs every rule's patterns over every paragraph, and Python's `re` cannot
skip ahead in a case-insensitive pattern that starts with `\\b`: it tries each
alternative at each position. Most rule patterns, though, contain a plain word
("wedge", "strain") that any match must contain. Testing those words with `in`
on a lower-cased copy of the paragraph is many times cheaper, and the search
runs only when one of them is there. The answer is the same either way: the
prefilter only ever skips searches that would have found nothing.

`folded(text)` is that lower-cased copy. Under `re.IGNORECASE` an ASCII letter
also matches a few other characters: the Kelvin sign (which `str.lower` already
maps to "k"), the dotless and the dotted capital i and the long s (mapped here
before lowering), so a match of an ASCII literal is always found in `folded(text)`.
"""

from __future__ import annotations

import re
from re import _constants as sre
from re import _parser as sre_parse

from pipeline.text import replace_chars

# Characters other than the ASCII letters themselves that IGNORECASE matches to an
# ASCII letter, and which str.lower() does not turn into that letter.
_FOLD = (("\u0131", "i"), ("\u0130", "i"), ("\u017f", "s"))

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def folded(text: str) -> str:
    """`text` as the prefilter's literals are tested against."""
    return replace_chars(text, _FOLD).lower()


def _better(best: frozenset[str] | None, other: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective of two requirements, by a rule of thumb: strings of four
    characters or more are rare enough, and then fewer of them is better (a verb every
    match needs over the two place names it may be followed by); among shorter ones,
    longer is better."""
    if not other:
        return best
    if best is None:
        return other

    def key(need: frozenset[str]) -> tuple[int, int, int]:
        shortest = min(map(len, need))
        return min(shortest, 4), -len(need), shortest

    return other if key(other) > key(best) else best


def _requirement(items: list) -> frozenset[str] | None:
    """Strings (lower-case ASCII), one of which every match of the sequence contains;
    None when no such set is known."""
    best: frozenset[str] | None = None
    run: list[str] = []
    for op, value in [*items, (None, None)]:
        if op is sre.LITERAL and value < 128:
            run.append(chr(value).lower())
            continue
        if run:
            best = _better(best, frozenset(["".join(run)]))
            run = []
        if op is sre.SUBPATTERN:
            best = _better(best, _requirement(value[-1].data))
        elif op is sre.ATOMIC_GROUP:
            best = _better(best, _requirement(value.data))
        elif op in _REPEATS and value[0] >= 1:
            best = _better(best, _requirement(value[2].data))
        elif op is sre.BRANCH:
            branches = [_requirement(branch.data) for branch in value[1]]
            if all(branches):
                best = _better(best, frozenset().union(*branches))
        # Anything else (classes, anchors, lookarounds, back-references) requires no
        # literal and ends the run of literals.
    return best


def literal_requirement(pattern: re.Pattern) -> frozenset[str] | None:
    """Lower-case strings one of which `folded(text)` contains whenever `pattern`
    matches `text`; None when the pattern has no such literals (always search)."""
    if not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError, AttributeError):  # AttributeError: internals moved
        return None
    return _requirement(parsed.data)


class Prefiltered:
    """A compiled pattern with its literal prefilter; `search` answers as the pattern's."""

    __slots__ = ("_literal", "_literals", "needs", "pattern")

    def __init__(self, pattern: re.Pattern) -> None:
        self.pattern = pattern
        self.needs = literal_requirement(pattern)
        # One literal: `in`. Several: one case-sensitive alternation of them over the
        # folded text, a single scan in C that skips ahead on their first characters.
        self._literal = next(iter(self.needs)) if self.needs and len(self.needs) == 1 else None
        self._literals = (
            re.compile("|".join(map(re.escape, sorted(self.needs))))
            if self.needs and len(self.needs) > 1
            else None
        )

    def search(self, text: str, folded_text: str) -> bool:
        """Whether the pattern matches `text`; `folded_text` is `folded(text)`."""
        if self._literal is not None and self._literal not in folded_text:
            return False
        if self._literals is not None and self._literals.search(folded_text) is None:
            return False
        return self.pattern.search(text) is not None
