"""What changed between two versions' model cards, as dotted keys (`settings.C`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Card keys left out of the differences: the metrics section recomputes them.
SKIPPED_CARD_KEYS = ("grouped_cv",)


class _Absent:
    """Marks a card key one of the two cards does not have."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class CardDifference:
    """A dotted card key whose value differs between two versions (ABSENT: no such key)."""

    key: str
    a: Any
    b: Any

    def record(self) -> dict[str, Any]:
        """The json form: a side without the key has no entry."""
        sides = {"a": self.a, "b": self.b}
        return {"key": self.key, **{k: v for k, v in sides.items() if v is not ABSENT}}


def flatten_card(card: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (`settings.C`); lists and scalars are leaves."""
    flat: dict[str, Any] = {}
    for key, value in card.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_card(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def card_differences(a: dict[str, Any], b: dict[str, Any]) -> list[CardDifference]:
    """The keys whose values differ (settings, seed, training data, temperature, libraries,
    commit, ...), in the first card's order; grouped-CV metrics are left out."""
    left, right = flatten_card(a), flatten_card(b)
    keys = list(left) + [key for key in right if key not in left]
    return [
        CardDifference(key, left.get(key, ABSENT), right.get(key, ABSENT))
        for key in keys
        if not _skipped(key) and left.get(key, ABSENT) != right.get(key, ABSENT)
    ]


def _skipped(key: str) -> bool:
    return any(key == skip or key.startswith(f"{skip}.") for skip in SKIPPED_CARD_KEYS)
