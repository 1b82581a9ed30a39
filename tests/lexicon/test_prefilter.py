"""The literal prefilter only skips searches that would have found nothing."""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import read_yaml
from pipeline.lexicon.prefilter import Prefiltered, folded, literal_requirement

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "data" / "annotations" / "rules.yaml"


@pytest.fixture(scope="module")
def seed_texts() -> list[str]:
    """The seed articles' blocks of text (split at blank lines), a realistic mix."""
    blocks = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        blocks += [b.strip() for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    return blocks


def _shipped_patterns() -> list[str]:
    rules = read_yaml(RULES, what="rules file")["rules"]
    return [p for rule in rules for key in ("any", "all", "unless") for p in rule.get(key, [])]


# Patterns that stress the parser walk: groups, alternations inside sequences, repeats,
# character classes, anchors, lookarounds, back-references, inline flags.
TRICKY = [
    r"\bpull\w* (Moscow|Russia|the Kremlin) (away )?from\b",
    r"(?:ab){2,}c",
    r"x(?:ab)?y",
    r"(?:red|green)(?:ish)? (car|bike)",
    r"[Kk]elvin|kilo",
    r"\bis(?=land)",
    r"(?<!un)likely",
    r"(\w+) and \1",
    r"(?-i:US) policy",
    r"(?x) s t r a i n  # verbose",
    r"a|b|",
    r"(?>atomic)group",
    r"strasse",
    r"naïve",
    r"\d+ percent",
]

# Characters that IGNORECASE matches to ASCII letters, and others that lower() changes.
ALPHABET = string.ascii_letters + " -'’.\u0131\u0130\u017f\u212a\u212bßİÉé0123456789"
WORDS = ["pull", "moscow", "Kremlin", "from", "away", "ab", "strain", "kelvin", "ısland"]


def test_folding_covers_every_character_ignorecase_matches_to_an_ascii_letter() -> None:
    letter = re.compile("[a-z]", re.IGNORECASE)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if letter.fullmatch(char):
            matched = next(c for c in string.ascii_lowercase if re.fullmatch(c, char, re.I))
            assert folded(char) == matched, f"U+{code:04X}"


def test_requirements_are_the_literals_a_match_must_contain() -> None:
    def needs(pattern: str) -> set[str] | None:
        found = literal_requirement(re.compile(pattern, re.IGNORECASE))
        return None if found is None else set(found)

    assert needs(r"\bcracks?\b") == {"crack"}
    assert needs(r"\bpull\w* (Moscow|Russia|the Kremlin) (away )?from\b") == {"pull"}
    assert needs(r"\bwedge\b|\bdriv\w+ a wedge") == {"wedge", " a wedge"}
    assert needs(r"[A-Z]{3}") is None  # no literal: always searched
    assert needs(r"a|b|") is None  # the empty branch matches anywhere
    assert needs(r"(?:ab)?c") == {"c"}


@pytest.mark.parametrize("pattern", [*_shipped_patterns(), *TRICKY])
@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(
        st.one_of(st.sampled_from(WORDS), st.text(alphabet=ALPHABET, max_size=6)), max_size=12
    )
)
def test_prefilter_answers_as_the_pattern(pattern: str, parts: list[str]) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    text = " ".join(parts)
    assert Prefiltered(compiled).search(text, folded(text)) == bool(compiled.search(text))


@pytest.mark.parametrize("pattern", [*_shipped_patterns(), *TRICKY])
def test_prefilter_finds_every_match_of_the_pattern_in_the_seed_paragraphs(
    pattern: str, seed_texts: list[str]
) -> None:
    compiled = Prefiltered(re.compile(pattern, re.IGNORECASE))
    for text in seed_texts:
        variants = [text, text.upper(), text.replace("i", "\u0131").replace("s", "\u017f")]
        for variant in variants:
            expected = bool(compiled.pattern.search(variant))
            assert compiled.search(variant, folded(variant)) == expected
