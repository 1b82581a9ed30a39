"""Markup to plain lines: markdown syntax, inline HTML, and whole HTML pages.

Plain-text articles copied from the web often carry markdown (links, emphasis,
headings), so every format goes through `parse_line`. HTML pages are first
reduced to their main text by trafilatura, which keeps headings and lists as
markdown.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

from pipeline.errors import DocumentError

LineKind = Literal["text", "heading", "bullet", "rule", "underline"]

_RULE = re.compile(r"(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,}")
_UNDERLINE = re.compile(r"=+|-+")
_HEADING = re.compile(r"#{1,6}\s+(.*?)(?:\s+#+)?")
_BULLET = re.compile(r"(?:[-*+•▪●◦‣·]|\d{1,3}[.)])\s+(.*)")
_QUOTE = re.compile(r">\s?")
_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<((?:https?://|www\.)[^>\s]+)>"), r"\1"),  # <http://...>
    (re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>"), ""),  # inline HTML tags
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"__(?=\S)(.+?)(?<=\S)__"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
)


# A backslash before ASCII punctuation is markdown's escape for that character (trafilatura
# writes "3 \< 5" for "3 &lt; 5"). Escaped characters are parked in the private-use area
# while markup is removed, so `\*a\*` stays "*a*" instead of becoming emphasis.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PARKED = re.compile("[\ue021-\ue07e]")


def _park_escapes(raw: str) -> str:
    if "\\" not in raw or _PARKED.search(raw):  # a line with such characters stays as it is
        return raw
    return _ESCAPE.sub(lambda match: chr(0xE000 + ord(match.group(1))), raw)


def _unpark(text: str) -> str:
    return _PARKED.sub(lambda match: chr(ord(match.group()) - 0xE000), text)


@dataclass(frozen=True)
class Line:
    """One source line after markup is removed, with what the markup said it was."""

    kind: LineKind
    text: str


def strip_inline(text: str) -> str:
    """Remove inline markdown and HTML, keeping the words a reader sees."""
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return " ".join(html.unescape(text).split())


def parse_line(raw: str) -> Line:
    """Classify one stripped, non-empty line and remove its markup."""
    parked = _park_escapes(raw)
    if parked is raw:
        return _parse_markup(raw)
    line = _parse_markup(parked)
    return Line(line.kind, _unpark(line.text))


def _parse_markup(raw: str) -> Line:
    if _RULE.fullmatch(raw):
        return Line("underline" if _UNDERLINE.fullmatch(raw) else "rule", "")
    if _UNDERLINE.fullmatch(raw):
        return Line("underline", "")
    quote = _QUOTE.match(raw)
    if quote:
        raw = raw[quote.end() :]
    heading = _HEADING.fullmatch(raw)
    if heading:
        return Line("heading", strip_inline(heading.group(1)))
    bullet = _BULLET.fullmatch(raw)
    if bullet:
        return Line("bullet", strip_inline(bullet.group(1)))
    return Line("text", strip_inline(raw))


def html_to_markdown(page: str, *, name: str) -> str:
    """The main article text of an HTML page, as markdown; `DocumentError` if there is none."""
    import trafilatura  # heavy import, only needed for HTML

    extracted = trafilatura.extract(
        page,
        output_format="markdown",
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        include_formatting=True,
        favor_precision=True,
        deduplicate=False,
        with_metadata=False,
    )
    if not extracted or not extracted.strip():
        raise DocumentError(f"{name}: HTML page has no article text")
    return extracted


def html_metadata(page: str) -> dict[str, str]:
    """Title, date (YYYY-MM-DD) and site name that the page itself declares; "" when absent."""
    import trafilatura

    metadata = trafilatura.extract_metadata(page)
    if metadata is None:
        return {"title": "", "date": "", "source": ""}
    return {
        "title": (metadata.title or "").strip(),
        "date": (metadata.date or "").strip()[:10],
        "source": (metadata.sitename or "").strip(),
    }
