"""Whole-word, case-sensitive matching of named entity groups (the proposition's actors)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence


class EntityMatcher:
    """Finds which named groups of surface forms a text mentions.

    Terms match as whole words and case-sensitively ("US" is not "us"), optionally
    followed by a possessive ("Lisbon's").
    """

    def __init__(self, groups: Mapping[str, Sequence[str]]) -> None:
        self.groups = {name: tuple(terms) for name, terms in groups.items()}
        self._patterns = {
            name: re.compile(
                r"(?<![\w-])(?:"
                + "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True))
                + r")(?:['\u2019]s)?(?![\w-])"
            )
            for name, terms in self.groups.items()
        }

    def mentioned(self, text: str) -> frozenset[str]:
        """Names of the groups that `text` mentions at least once."""
        return frozenset(name for name, pattern in self._patterns.items() if pattern.search(text))
