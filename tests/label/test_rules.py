"""The rules labeler: the YAML format, each condition, vote combination, and the shipped file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipeline.config import load_params
from pipeline.errors import ConfigError
from pipeline.label.rules import RulesLabeler
from pipeline.lexicon.rules import load_rules
from pipeline.lexicon.vote import ABSTAIN, Vote
from tests.conftest import REPO

LABELS = ("favor", "against", "none")
ACTORS = {"russia": ("Russia", "Moscow", "Kremlin"), "china": ("China", "Beijing")}


def labeler_from(tmp_path: Path, rules: list[dict], entities: dict | None = None) -> RulesLabeler:
    document = {"version": 1, "entities": entities or {}, "rules": rules}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return RulesLabeler(*load_rules(path, LABELS, ACTORS))


def rule(name: str, label: str = "favor", weight: float = 0.6, **conditions: object) -> dict:
    return {"name": name, "label": label, "weight": weight, **conditions}


def test_each_condition(tmp_path: Path) -> None:
    labeler = labeler_from(
        tmp_path,
        [
            rule("any_cue", any=[r"\bcracks?\b", r"\brift\b"]),
            rule("all_cues", "against", all=[r"\bdeep\b", r"\bbond\b"]),
            rule("any_unless", any=[r"\bstrain\b"], unless=[r"\bdespite\b"]),
            rule("needs_both", "against", any=[r"\bpartners\b"], mentions=["russia", "china"]),
            rule("needs_one", any=[r"\bwary\b"], mentions_any=["china"]),
            rule("off_topic", "none", absent=["russia", "china"]),
        ],
    )
    fired = lambda text: sorted(r.name for r in labeler.fired(text))  # noqa: E731
    assert fired("A rift opened in Moscow.") == ["any_cue"]
    assert fired("A deep bond, says Russia.") == ["all_cues"]
    assert fired("A deep friendship, says Russia.") == []
    assert fired("Strain in Moscow.") == ["any_unless"]
    assert fired("Despite the strain, Moscow held.") == []
    assert fired("Moscow and Beijing are partners.") == ["needs_both"]
    assert fired("Moscow and its partners.") == []
    assert fired("Beijing is wary.") == ["needs_one"]
    assert fired("The weather was mild.") == ["off_topic"]


def test_entities_match_whole_words_case_sensitively(tmp_path: Path) -> None:
    labeler = labeler_from(
        tmp_path,
        [rule("west", "none", mentions=["west"])],
        entities={"west": ["US", "Washington"]},
    )
    assert [r.name for r in labeler.fired("Talks with the US went well.")] == ["west"]
    assert labeler.fired("Let us talk about Washingtonia palms.") == []
    assert [r.name for r in labeler.fired("Washington's offer stands.")] == ["west"]


def test_votes_combine_within_a_label_and_ties_abstain(tmp_path: Path) -> None:
    labeler = labeler_from(
        tmp_path,
        [
            rule("f1", "favor", 0.5, any=["alpha"]),
            rule("f2", "favor", 0.5, any=["beta"]),
            rule("a1", "against", 0.5, any=["gamma"]),
        ],
    )
    assert labeler.vote_text("alpha") == Vote("favor", 0.5)
    # Noisy-or: 1 - (1 - 0.5)(1 - 0.5) = 0.75 for favor, minus 0.5 for against.
    assert labeler.vote_text("alpha beta gamma") == Vote("favor", 0.25)
    assert labeler.vote_text("alpha gamma") == ABSTAIN
    assert labeler.vote_text("nothing here") == ABSTAIN


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": 2, "rules": [rule("r", any=["x"])]}, r"version: must be 1"),
        ({"version": 1, "rules": []}, r"rules: .*at least 1"),
        ({"version": 1, "rules": [rule("r", any=["("])]}, r"rules.0.any: .*invalid regular"),
        ({"version": 1, "rules": [rule("r", label="maybe", any=["x"])]}, r"label 'maybe'"),
        ({"version": 1, "rules": [rule("r")]}, r"rules.0 \(r\): a rule needs at least one"),
        ({"version": 1, "rules": [rule("r", mentions=["mars"])]}, r"unknown entity group 'mars'"),
        ({"version": 1, "rules": [rule("r", any=["x"]), rule("r", any=["y"])]}, r"duplicate"),
        ({"version": 1, "rules": [{**rule("r", any=["x"]), "wieght": 1}]}, r"wieght: unknown key"),
        ({"version": 1, "rules": [rule("r", weight=1.5, any=["x"])]}, r"weight"),
        (["a", "list"], r"expected a mapping"),
    ],
)
def test_bad_rules_file_is_one_line_naming_the_key(
    tmp_path: Path, document: object, message: str
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_rules(path, LABELS, ACTORS)
    assert "rules.yaml" in str(caught.value) and "\n" not in str(caught.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"rules.yaml: rules file not found"):
        load_rules(tmp_path / "rules.yaml", LABELS, ACTORS)


@pytest.fixture(scope="module")
def shipped() -> RulesLabeler:
    params = load_params(REPO / "params.yaml")
    return RulesLabeler(*load_rules(params.paths.rules, params.labels, params.proposition.actors))


# Minimum functionality of the shipped rules, on sentences written for these tests.
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Officials in Moscow resent the junior partner role Beijing has handed them.", "favor"),
        ("Chinese lenders keep rejecting payments from Russian importers.", "favor"),
        ("Every Western effort to drive a wedge between Russia and China has failed.", "against"),
        ("Moscow and Beijing call their partnership unbreakable.", "against"),
        ("The reverse Kissinger idea is a fantasy: Russia needs China too much.", "against"),
        ("Parliament in Lisbon passed the budget on Tuesday.", "none"),
        ("Sign up for our newsletter to get the morning briefing.", "none"),
    ],
)
def test_shipped_rules_minimum_functionality(shipped: RulesLabeler, text: str, label: str) -> None:
    assert shipped.vote_text(text).label == label


def test_shipped_rules_ignore_a_lone_keyword(shipped: RulesLabeler) -> None:
    # Rule 10 of the guidelines: naming both countries is not a stance.
    assert shipped.vote_text("Russia and China both sent teams to the games.") == ABSTAIN


def test_any_of_patterns_joined_or_kept_apart_match_the_same() -> None:
    from pipeline.lexicon.rules import _any_matcher

    patterns = [r"\bcracks?\b", r"\brift\b", r"strain(s|ed)?"]
    joined = _any_matcher(patterns)
    assert len(joined) == 1  # one search instead of three
    for text in ["A RIFT opened.", "No cracks here? Cracks.", "strained ties", "calm waters"]:
        expected = any(re.search(p, text, re.IGNORECASE) for p in patterns)
        assert any(p.search(text) for p in joined) == expected
    with_backreference = _any_matcher([r"(\w+) and \1", r"\brift\b"])
    assert len(with_backreference) == 2  # joining would point \1 at another group
    assert any(p.search("talks and talks") for p in with_backreference)
    assert len(_any_matcher(["(?i)rift", "(?x) crack"])) == 2  # global flags cannot be joined
