"""Text normalisation shared by every stage (ids, hashes, cleaning)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Characters that carry no text: zero-width spaces and joiners, soft hyphen, BOM.
_INVISIBLE = tuple((char, "") for char in "\u200b\u200c\u200d\u2060\u00ad\ufeff")
_SPACES = re.compile(r"[^\S\n]+")
_QUOTES = (
    ("\u2018", "'"),
    ("\u2019", "'"),
    ("\u201a", "'"),
    ("\u201b", "'"),
    ("\u2032", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u201e", '"'),
    ("\u2033", '"'),
    ("\u00ab", '"'),
    ("\u00bb", '"'),
    ("\u2013", "-"),
    ("\u2014", "-"),
    ("\u2212", "-"),
)


def replace_chars(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """`text` with each single character of `pairs` replaced by its string, as
    `str.translate` would (no replacement is itself replaced), but much faster on
    non-ASCII text: one C scan per character, and none for characters not present."""
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


# C0 controls but tab and the line ends, DEL, and C1 controls: no text uses them, and on a
# terminal they are commands (ESC starts an escape sequence, U+009B is a CSI of its own).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Every C0/C1 control, line ends included: what a one-line message must not hold.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without control characters other than tab, LF and CR."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text


def one_line(text: str) -> str:
    """`text` safe to print as one line on a terminal: controls shown as escapes (`\\n`)."""
    if not _ANY_CONTROL.search(text):
        return text
    return _ANY_CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def quote_odd(name: str) -> str:
    """A file name as printed: as it is, or quoted with escapes if it holds a control."""
    return f'"{one_line(name)}"' if _ANY_CONTROL.search(name) else name


def clean_text(text: str) -> str:
    """Canonical form of raw article text: NFC, LF line ends, plain spaces, no invisibles
    and no control characters."""
    text = strip_controls(replace_chars(unicodedata.normalize("NFC", text), _INVISIBLE))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def squash(text: str) -> str:
    """Collapse all whitespace, newlines included, to single spaces."""
    return " ".join(text.split())


def text_key(text: str) -> str:
    """The normalised form that ids and duplicate checks compare.

    Case, quote and dash styles and whitespace do not change the key;
    any change of words or punctuation does.
    """
    return squash(replace_chars(unicodedata.normalize("NFKC", text), _QUOTES).casefold())


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 text, as hex (used for annotation hashes and ids)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def count_words(text: str) -> int:
    """Whitespace-separated tokens, the unit of `n_words`."""
    return len(text.split())


# A sentence may end at . ! or ? (with any closing quotes or brackets) followed by space
# and an opening capital, digit or quote; a period after an initial ("U.S.") or a title
# ("Mr.") does not end one.
_SENTENCE_BREAK = re.compile(r"""[.!?]["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])""")
_NOT_AN_END = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Ms|Mrs|Dr|St|Jr|Sr|No|vs|Gen|Col|Adm|Sen|Rep|Gov|Prof))\.$"
)


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences with a conservative rule (no model needed)."""
    text = squash(text)
    sentences, start = [], 0
    for match in _SENTENCE_BREAK.finditer(text):
        if _NOT_AN_END.search(text[start : match.start() + 1]):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]
