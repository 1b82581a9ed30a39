"""Segmentation core: one article's text in, clean paragraphs out (pure, no I/O).

The steps, in order:
1. canonical text (NFC, LF, plain spaces), then lines grouped into blank-line blocks;
2. markup removed; hard-wrapped blocks re-joined, other lines kept as units;
3. site chrome dropped (rules in `chrome.py`), author bios near the end;
4. paragraphs broken mid-sentence repaired (a unit that does not end a sentence,
   followed by one that starts in lower case, is one paragraph);
5. headings become the `section` of the paragraphs under them; the title and
   repeated text (duplicate paragraphs, a standfirst repeated in the body) go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pipeline.segment.chrome import AUTHOR_BIO_TAIL, chrome_reason, is_author_bio
from pipeline.segment.markup import Line, parse_line
from pipeline.text import clean_text, count_words, sha256_hex, text_key

UnitKind = Literal["text", "heading", "bullet"]

# Closing marks that may follow a sentence's final punctuation.
_CLOSERS = "\"'”’»)]*_"
_OPENERS = "\"'“‘«([*_¿¡"
_SENTENCE_END = ".!?…:"
# Lines of a hard-wrapped block are at most this long; a line at least this
# share of the block's longest line continues on the next one.
_WRAP_MAX_CHARS = 110
_WRAP_MIN_CHARS = 40  # a block of short lines (byline, date, "Share") is not wrapped prose
_WRAP_LONG_SHARE = 0.6
_HEADING_MAX_WORDS = 14
_HEADING_MAX_CHARS = 150
_EXCERPT_MIN_WORDS = 8


@dataclass
class Unit:
    """A candidate paragraph or heading while the document is being segmented."""

    kind: UnitKind
    text: str


@dataclass(frozen=True)
class Paragraph:
    """A clean paragraph with its place in the document."""

    position: int
    section: str
    text: str


@dataclass(frozen=True)
class Segmentation:
    """The result for one document: its title, paragraphs, and what was dropped and why."""

    title: str
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[tuple[str, str], ...] = field(default=())


def segment_text(
    text: str,
    *,
    title: str = "",
    min_words: int = 1,
    extra_chrome: Sequence[re.Pattern[str]] = (),
) -> Segmentation:
    """Split article text (plain or markdown) into clean paragraphs.

    `title`, when known, is removed wherever it repeats; when it is not known,
    a heading-like first line is taken as the title.
    """
    dropped: list[tuple[str, str]] = []
    units = _units(_blocks(clean_text(text)))
    units = _drop_chrome(units, extra_chrome, dropped)
    units = _repair_breaks(units)
    for unit in units:
        if unit.kind == "text" and _is_heading_like(unit.text):
            unit.kind = "heading"
    title, units = _take_title(units, title, dropped)
    units = _drop_repeats(units, dropped)
    paragraphs = _with_sections(units, min_words, dropped)
    return Segmentation(title=title, paragraphs=paragraphs, dropped=tuple(dropped))


def _blocks(text: str) -> list[list[str]]:
    """Non-empty lines grouped by the blank lines between them."""
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _units(blocks: Iterable[list[str]]) -> list[Unit]:
    """Turn blocks of raw lines into units, re-joining hard-wrapped lines."""
    units: list[Unit] = []
    for block in blocks:
        lines = [parse_line(raw) for raw in block]
        width = _wrap_width(lines)
        previous: Line | None = None
        for line in lines:
            if line.kind == "underline" and _is_lone_text(previous, units):
                units[-1].kind = "heading"  # setext heading: a text line over ==== or ----
            elif line.kind in ("rule", "underline") or not line.text:
                pass
            elif line.kind == "text" and _wraps_onto_next(previous, width):
                units[-1].text = _join(units[-1].text, line.text)
            else:
                units.append(Unit(line.kind, line.text))
            previous = line
    return units


def _is_lone_text(previous: Line | None, units: Sequence[Unit]) -> bool:
    return (
        previous is not None
        and previous.kind == "text"
        and bool(units)
        and units[-1].text == previous.text
    )


def _wraps_onto_next(previous: Line | None, width: int) -> bool:
    """In a hard-wrapped block, a long line continues on the next one."""
    return (
        width > 0
        and previous is not None
        and previous.kind in ("text", "bullet")
        and len(previous.text) >= _WRAP_LONG_SHARE * width
    )


def _wrap_width(lines: Sequence[Line]) -> int:
    """The wrap width if the block looks hard-wrapped, else 0.

    Hard-wrapped: several lines of prose width (40 to 110 characters at most),
    and most lines break mid-sentence.
    A block of one paragraph per line (each ending a sentence) is not wrapped.
    """
    texts = [line.text for line in lines if line.kind in ("text", "bullet") and line.text]
    if len(texts) < 2:
        return 0
    widest = max(len(text) for text in texts)
    if not _WRAP_MIN_CHARS <= widest <= _WRAP_MAX_CHARS:
        return 0
    inner = texts[:-1]
    open_ends = sum(1 for text in inner if not _ends_sentence(text))
    return widest if open_ends * 2 >= len(inner) else 0


def _join(left: str, right: str) -> str:
    # "well-" + "known" keeps the hyphen and no space; anything else gets a space.
    if left.endswith("-") and left[-2:-1].isalpha() and right[:1].islower():
        return left + right
    return f"{left} {right}"


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _starts_continuation(text: str) -> bool:
    """Whether `text` reads as the rest of a sentence rather than a new one."""
    if text[:1] in ",;:)]}—–":
        return True
    stripped = text.lstrip(_OPENERS)
    return bool(stripped) and stripped[0].islower()


def _drop_chrome(
    units: list[Unit], extra: Sequence[re.Pattern[str]], dropped: list[tuple[str, str]]
) -> list[Unit]:
    kept: list[Unit] = []
    for unit in units:
        reason = chrome_reason(unit.text, count_words(unit.text), extra)
        if reason is None:
            kept.append(unit)
        else:
            dropped.append((reason, unit.text))
    # An author's bio is a short "<Name> is the author of ..." among the last units.
    tail_start = max(len(kept) - AUTHOR_BIO_TAIL, 0)
    for index in range(len(kept) - 1, tail_start - 1, -1):
        unit = kept[index]
        if unit.kind == "text" and is_author_bio(unit.text, count_words(unit.text)):
            dropped.append(("author bio", unit.text))
            del kept[index]
    return kept


def _repair_breaks(units: list[Unit]) -> list[Unit]:
    """Merge a paragraph broken mid-sentence (by a blank line or stray chrome)."""
    repaired: list[Unit] = []
    for unit in units:
        previous = repaired[-1] if repaired else None
        if (
            previous is not None
            and previous.kind in ("text", "bullet")
            and unit.kind == "text"
            and not _ends_sentence(previous.text)
            and _starts_continuation(unit.text)
        ):
            previous.text = _join(previous.text, unit.text)
        else:
            repaired.append(unit)
    return repaired


def _is_heading_like(text: str) -> bool:
    """A short line that does not read as a sentence: a section heading."""
    words = text.split()
    if not words or len(words) > _HEADING_MAX_WORDS or len(text) > _HEADING_MAX_CHARS:
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] in _OPENERS):
        return False
    last = text.rstrip(_CLOSERS)[-1:]
    if last in ".,;:…":
        return False
    if last in "?!":
        return _is_title_case(words)  # "What Comes Next?" yes; "Why now?" is a sentence
    return True


def _is_title_case(words: Sequence[str]) -> bool:
    long_words = [word.lstrip(_OPENERS) for word in words if len(word.strip(_OPENERS)) >= 4]
    capitalised = sum(1 for word in long_words if word[:1].isupper())
    return bool(long_words) and capitalised * 4 >= len(long_words) * 3


def _bare_key(text: str) -> str:
    """Key for comparing titles and excerpts: trailing punctuation does not count."""
    return text_key(text).rstrip(" .!?…:;,\"'")


def _take_title(
    units: list[Unit], title: str, dropped: list[tuple[str, str]]
) -> tuple[str, list[Unit]]:
    if not title and units and units[0].kind == "heading":
        title = units[0].text
    if not title:
        return "", units
    title_key = _bare_key(title)
    kept = []
    for unit in units:
        if unit.kind != "bullet" and _bare_key(unit.text) == title_key:
            dropped.append(("title", unit.text))
        else:
            kept.append(unit)
    return title, kept


def _drop_repeats(units: list[Unit], dropped: list[tuple[str, str]]) -> list[Unit]:
    """Drop exact repeats, and body text repeated inside a longer paragraph (standfirst)."""
    seen: set[tuple[bool, str]] = set()
    unique: list[Unit] = []
    for unit in units:
        key = (unit.kind == "heading", text_key(unit.text))
        if key in seen:
            dropped.append(("repeated", unit.text))
        else:
            seen.add(key)
            unique.append(unit)
    repeated = {id(unit) for unit in _repeated_excerpts([u for u in unique if u.kind != "heading"])}
    kept: list[Unit] = []
    for unit in unique:
        if id(unit) in repeated:
            dropped.append(("repeated excerpt", unit.text))
        else:
            kept.append(unit)
    return kept


def _repeated_excerpts(body: list[Unit]) -> list[Unit]:
    """Units of at least eight words whose whole text reappears inside a longer unit.

    Candidates are found through their first eight words (an index of word
    8-grams), so the check stays linear on long documents.
    """
    keys = [_bare_key(unit.text) for unit in body]
    words = [re.findall(r"\w+", key) for key in keys]
    # Only the 8-grams that open some unit are ever looked up: index just those (their
    # first word is a cheap test before building the tuple).
    openings = {tuple(tokens[:_EXCERPT_MIN_WORDS]) for tokens in words}
    first_words = {gram[0] for gram in openings if len(gram) == _EXCERPT_MIN_WORDS}
    index: dict[tuple[str, ...], set[int]] = {}
    for position, tokens in enumerate(words):
        for start in range(max(len(tokens) - _EXCERPT_MIN_WORDS + 1, 0)):
            if tokens[start] not in first_words:
                continue
            gram = tuple(tokens[start : start + _EXCERPT_MIN_WORDS])
            if gram in openings:
                index.setdefault(gram, set()).add(position)
    repeated = []
    for position, tokens in enumerate(words):
        if len(tokens) < _EXCERPT_MIN_WORDS:
            continue
        hosts = index.get(tuple(tokens[:_EXCERPT_MIN_WORDS]), set()) - {position}
        if any(
            len(keys[host]) > len(keys[position]) and keys[position] in keys[host] for host in hosts
        ):
            repeated.append(body[position])
    return repeated


def _with_sections(
    units: list[Unit], min_words: int, dropped: list[tuple[str, str]]
) -> tuple[Paragraph, ...]:
    paragraphs: list[Paragraph] = []
    section = ""
    for unit in units:
        if unit.kind == "heading":
            section = unit.text
        elif count_words(unit.text) < min_words:
            dropped.append(("too short", unit.text))
        else:
            paragraphs.append(Paragraph(len(paragraphs), section, unit.text))
    return tuple(paragraphs)


def paragraph_id(doc_id: str, text: str) -> str:
    """Stable id: the document's id plus a hash of the paragraph's normalised text."""
    digest = sha256_hex(doc_id + "\n" + text_key(text))
    return f"{doc_id}:{digest[:12]}"
