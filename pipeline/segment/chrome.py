"""Site chrome: lines that belong to the page, not to the article.

Each rule is a named regular expression matched against a whole line (case
insensitive, whitespace squashed) plus a word limit, so a long body paragraph
that happens to start like chrome is never removed. Users add their own
patterns with `segment.extra_chrome_patterns` in params.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?(?:\s*\(?[a-z]{2,5}\)?)?)?"
_DATE = (
    rf"(?:{_WEEKDAY}\s+)?(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2})?\S*)?"
    rf"|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}){_TIME}"
)
# A person's name in a byline: capitalised words (case-sensitive inside the
# otherwise case-insensitive pattern), possibly several joined by "and" or commas.
_NAME = r"(?-i:[A-Z][\w.'’-]*)(?:\s+(?:(?-i:[A-Z][\w.'’-]*)|de|van|von|der|bin|al-\w+))*"


@dataclass(frozen=True)
class ChromeRule:
    """One kind of chrome: a full-line pattern that applies up to `max_words` words."""

    name: str
    pattern: re.Pattern[str]
    max_words: int = 25

    def matches(self, line: str, n_words: int) -> bool:
        return n_words <= self.max_words and self.pattern.fullmatch(line) is not None


def _rule(name: str, pattern: str, max_words: int = 25) -> ChromeRule:
    return ChromeRule(name, re.compile(pattern, re.IGNORECASE), max_words)


CHROME_RULES: tuple[ChromeRule, ...] = (
    _rule("site icon", r"site (?:icon|logo)\b.*", 12),
    _rule(
        "navigation",
        r"exit mobile version|back to top|scroll to top|skip to (?:main )?content"
        r"|toggle navigation|(?:open |close |main )?menu|search(?: for)?:?|view desktop version"
        r"|(?:previous|next) (?:article|post|story)\b.*|home\s*[»>›/|].*"
        r"|continue reading(?: the main story| below)?|explore more on these topics"
        r"|reuse this content|most (?:viewed|read|popular|shared)(?: articles| stories)?",
        15,
    ),
    _rule(
        "comment form",
        r"leave a (?:reply|comment)|cancel reply|(?:post|submit) comment|add (?:a )?comment"
        r"|\d*\s*comments?|your email address will not be published\.?.*"
        r"|required fields are marked.*|save my name, email,? and website.*"
        r"|notify me of (?:new|follow-up) .*|(?:comment|name|email|website)\s*\*?:?",
        30,
    ),
    _rule(
        "related link",
        r"(?:related(?: articles?| stories| posts?| reading| content| coverage| news)?"
        r"|read (?:more|also|next)|see also|recommended(?: reading)?|more (?:on|from) [\w' -]+"
        r"|you (?:may|might) also like|further reading|also read)\s*:.*|read more\.*",
        30,
    ),
    _rule(
        "share",
        r"share(?: this(?: article| story| post)?)?(?: on \w+)?:?"
        r"|click to (?:share|print|email)\b.*"
        r"|tweet|print(?: this (?:article|page))?|email this|like this:?|loading\.*"
        r"|advertisement|sponsored(?: content)?|copy link|(?:facebook|twitter|linkedin|whatsapp"
        r"|telegram|reddit|email|x)(?:\s*[|,/]?\s*(?:facebook|twitter|linkedin|whatsapp|telegram"
        r"|reddit|email|x))*",
        12,
    ),
    _rule(
        "subscribe",
        r"(?:subscribe|sign up|get our|join our)\b.*(?:newsletter|subscribe|inbox|updates|free)\b.*"
        r"|subscribe(?: now| today)?[.!]?",
        25,
    ),
    _rule(
        "byline", rf"(?:by|words by|written by|author):?\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*", 12
    ),
    _rule(
        "dateline",
        rf"(?:(?:published|updated|posted|last updated|first published)(?: on)?:?\s*)?{_DATE}"
        r"|(?:published|updated|posted) \d+ (?:minutes?|hours?|days?) ago",
        14,
    ),
    _rule(
        "photo credit",
        r"\(?(?:photos?|images?|pictures?|illustrations?|videos?|graphics?|photograph|sources?"
        r"|credits?|caption)(?: credit)?\s*(?::|by)\s*[^.!?]*\)?\.?"
        r"|[^.!?/\n]{1,60}(?:\s/\s[^.!?/\n]{1,60}){2,4}"
        r"|(?:getty images|reuters|ap photo|afp via getty images|shutterstock|epa-efe)\b[^.!?]*",
        14,
    ),
    _rule(
        "publication info",
        r"publication:.*|(?:volume|vol\.):?\s*\d+.*(?:issue|no\.):?\s*\d+.*|issue:\s*\d+.*",
        20,
    ),
    _rule(
        "republication note",
        r"(?:this|the) (?:article|piece|story|commentary|op-ed|essay|analysis|interview|post|text)"
        r" (?:was|is|has been|first|originally)\b.{0,60}"
        r"(?:published|appeared|republished|reprinted|posted)\b.*",
        45,
    ),
    _rule(
        "disclaimer",
        r"(?:the )?(?:views|opinions|views and opinions) expressed\b.*"
        r"(?:do not|don't|does not|are not)(?: necessarily)? (?:reflect|represent|those)\b.*",
        60,
    ),
    _rule(
        "source url",
        r"(?:original (?:url|link|article|source)|source (?:url|link)|url|link)\s*:?\s*(?:<?\S+>?)?"
        r"|<?(?:https?://|www\.)\S+>?",
        8,
    ),
    _rule("tags", r"(?:tags?|filed under|categories|category|topics?|keywords)\s*:.*", 30),
    _rule("copyright", r"(?:©|\(c\)|copyright\b).*|all rights reserved\.?", 30),
    _rule("follow", r"follow (?:us|him|her|them|the author|@\w+)\b.*", 15),
)

# An author's bio: "<Name> is a/the ... <role>", found only near the end of a document.
AUTHOR_BIO = re.compile(
    r"(?:(?:professor|prof\.|dr\.?|mr\.?|ms\.?|mrs\.?|sir)\s+)?"
    rf"{_NAME}\s+(?:is|was|has been|serves as|works as)\s+"
    r".*\b(?:author|editor|professor|fellow|correspondent|journalist|columnist"
    r"|analyst|researcher|reporter|writer|contributor|lecturer|scholar)s?\b.*",
    re.IGNORECASE,
)
AUTHOR_BIO_MAX_WORDS = 60
AUTHOR_BIO_TAIL = 3  # only the last few units of a document can be a bio


def chrome_reason(line: str, n_words: int, extra: Iterable[re.Pattern[str]] = ()) -> str | None:
    """The name of the chrome rule `line` matches, or None for article text."""
    for rule in CHROME_RULES:
        if rule.matches(line, n_words):
            return rule.name
    for pattern in extra:
        if pattern.fullmatch(line):
            return "extra pattern"
    return None


def is_author_bio(line: str, n_words: int) -> bool:
    """Whether `line` reads as a short biography of the author."""
    return n_words <= AUTHOR_BIO_MAX_WORDS and AUTHOR_BIO.fullmatch(line) is not None
