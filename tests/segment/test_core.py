"""Unit tests of the segmentation core on small hand-written texts."""

from __future__ import annotations

import re

from pipeline.segment.core import segment_text
from pipeline.segment.markup import parse_line, strip_inline


def texts(text: str, **kwargs: object) -> list[str]:
    return [p.text for p in segment_text(text, **kwargs).paragraphs]


def test_blank_line_paragraphs() -> None:
    assert texts("First point is made here.\n\nSecond point follows here.\n") == [
        "First point is made here.",
        "Second point follows here.",
    ]


def test_single_newline_paragraphs_are_kept_apart() -> None:
    text = "The council met on Monday.\nIt approved the budget.\nThe vote was close."
    assert texts(text) == [
        "The council met on Monday.",
        "It approved the budget.",
        "The vote was close.",
    ]


def test_hard_wrapped_paragraph_is_rejoined() -> None:
    text = (
        "The committee published its findings on the harbour project after\n"
        "a year of hearings, and it recommended that the city delay the second\n"
        "phase until the costs are known.\n\n"
        "A second paragraph starts here.\n"
    )
    assert texts(text) == [
        "The committee published its findings on the harbour project after a year of "
        "hearings, and it recommended that the city delay the second phase until the "
        "costs are known.",
        "A second paragraph starts here.",
    ]


def test_block_of_short_lines_is_not_joined_as_wrapped_prose() -> None:
    text = (
        "Budget Vote Delayed\n\nCity Desk\nTue 4 Mar 2025 14.02 GMT\nShare\n\n"
        "The vote was delayed.\n"
    )
    segmentation = segment_text(text, title="Budget Vote Delayed")
    assert [(p.section, p.text) for p in segmentation.paragraphs] == [
        ("City Desk", "The vote was delayed.")
    ]


def test_break_across_blank_line_is_repaired() -> None:
    text = "The ministers agreed that the plan\n\nwould need another vote in spring.\n"
    assert texts(text) == ["The ministers agreed that the plan would need another vote in spring."]


def test_break_across_chrome_line_is_repaired() -> None:
    text = "Exports grew faster than\n\nAdvertisement\n\nanyone had expected this year.\n"
    assert texts(text) == ["Exports grew faster than anyone had expected this year."]


def test_new_sentence_after_unfinished_line_is_not_merged() -> None:
    # A heading (no final stop) followed by a capitalised paragraph stays apart.
    segmentation = segment_text("Budget Talks Resume\n\nThe council met again.\n", title="X")
    assert [(p.section, p.text) for p in segmentation.paragraphs] == [
        ("Budget Talks Resume", "The council met again.")
    ]


def test_sections_follow_headings() -> None:
    text = (
        "# Title Here\n\nIntro paragraph.\n\n## Costs\n\nCosts rose.\n\n"
        "### Next Steps\n\nVote next.\n"
    )
    segmentation = segment_text(text)
    assert segmentation.title == "Title Here"
    assert [(p.section, p.text) for p in segmentation.paragraphs] == [
        ("", "Intro paragraph."),
        ("Costs", "Costs rose."),
        ("Next Steps", "Vote next."),
    ]


def test_setext_heading() -> None:
    segmentation = segment_text(
        "Known Title\n\nRising Costs\n------------\nCosts rose sharply.\n", title="Known Title"
    )
    assert [(p.section, p.text) for p in segmentation.paragraphs] == [
        ("Rising Costs", "Costs rose sharply.")
    ]


def test_question_sentence_is_not_a_heading_but_title_case_question_is() -> None:
    text = (
        "Opening paragraph here.\n\nWhy does this matter now?\n\n"
        "What Comes Next for the Alliance?\n\nA closing line.\n"
    )
    segmentation = segment_text(text, title="Some title")
    assert [p.text for p in segmentation.paragraphs] == [
        "Opening paragraph here.",
        "Why does this matter now?",
        "A closing line.",
    ]
    assert segmentation.paragraphs[-1].section == "What Comes Next for the Alliance?"


def test_bullets_keep_their_text_without_markers() -> None:
    text = (
        "Two gains stand out:\n\n- the first gain is listed here;\n"
        "* the second gain is listed too.\n  • a third one.\n1. a numbered one.\n"
    )
    assert texts(text, title="T") == [
        "Two gains stand out:",
        "the first gain is listed here;",
        "the second gain is listed too.",
        "a third one.",
        "a numbered one.",
    ]


def test_title_removed_wherever_it_repeats() -> None:
    text = "Harbour Plan Delayed\n\nHarbour plan delayed\n\nThe plan was delayed again.\n"
    segmentation = segment_text(text, title="Harbour Plan Delayed")
    assert [p.text for p in segmentation.paragraphs] == ["The plan was delayed again."]
    assert ("title", "Harbour Plan Delayed") in segmentation.dropped


def test_duplicate_paragraph_kept_once() -> None:
    text = "The plan was delayed again.\n\nThe plan was delayed again.\n\nA new date is set.\n"
    assert texts(text) == ["The plan was delayed again.", "A new date is set."]


def test_author_bio_dropped_only_at_the_end() -> None:
    bio = "Jane Roe is a senior fellow at the Institute and the author of two books."
    early = texts(f"{bio}\n\nFirst.\n\nSecond.\n\nThird.\n\nFourth.\n")
    assert early[0] == bio
    assert texts(f"First point.\n\nSecond point.\n\n{bio}\n") == ["First point.", "Second point."]


def test_chrome_rules_on_typical_lines() -> None:
    chrome = [
        "Share this article",
        "Read more: Budget talks stall again",
        "Photo: Jane Roe / Agency",
        "Published: March 3, 2024 10:15 am",
        "Updated 3 hours ago",
        "© 2024 The Daily Paper. All rights reserved.",
        "Subscribe to our newsletter for weekly analysis",
        "Tags: economy, trade",
        "By Jane Roe and John Doe",
        "https://example.org/story",
        "Follow us on Twitter",
        "Continue reading the main story",
        "Reuse this content",
        "Tue 4 Mar 2025 14.02 GMT",
    ]
    text = "\n\n".join(["The body paragraph stays.", *chrome, "So does this one."])
    segmentation = segment_text(text, title="T")
    assert [p.text for p in segmentation.paragraphs] == [
        "The body paragraph stays.",
        "So does this one.",
    ]
    assert len(segmentation.dropped) == len(chrome)


def test_long_paragraph_starting_like_chrome_is_kept() -> None:
    body = "Share prices " + " ".join(["rose"] * 40) + " after the announcement."
    assert texts(body) == [body]


def test_extra_chrome_patterns() -> None:
    text = "Body text here.\n\nPromo code SAVE10 inside!\n"
    assert texts(text, extra_chrome=[re.compile(r"promo code .*", re.IGNORECASE)]) == [
        "Body text here."
    ]


def test_min_words() -> None:
    assert texts("Fine.\n\nA longer paragraph here.\n", min_words=2) == ["A longer paragraph here."]


def test_whitespace_and_invisible_characters_are_normalised() -> None:
    text = "\ufeffThe\u00a0plan\u200b was  delayed.\r\n\r\nA new\tdate is set.\r\n"
    assert texts(text) == ["The plan was delayed.", "A new date is set."]


def test_inline_markup() -> None:
    assert strip_inline("See [the report](https://x.org) and **bold** or *it* `code`.") == (
        "See the report and bold or it code."
    )
    assert strip_inline("![chart](img.png) Caption &amp; text<br/>") == "Caption & text"
    assert strip_inline("Fields are marked *") == "Fields are marked *"
    assert parse_line("> quoted text").text == "quoted text"
    assert parse_line("---").kind == "underline"
    assert parse_line("* * *").kind == "rule"


def test_empty_and_markup_only_text_gives_no_paragraphs() -> None:
    assert segment_text("").paragraphs == ()
    assert segment_text("\n\n---\n\n").paragraphs == ()
