"""The weighted vote that turns labelers' votes into one label and a confidence."""

from __future__ import annotations

import pytest

from pipeline.label.aggregate import Aggregate, weighted_vote
from pipeline.lexicon.vote import ABSTAIN, Vote


def test_agreeing_votes_raise_confidence() -> None:
    one = weighted_vote({"a": [Vote("favor", 0.8)]}, {"a": 1.0}, prior=0.5)
    two = weighted_vote(
        {"a": [Vote("favor", 0.8)], "b": [Vote("favor", 0.8)]}, {"a": 1.0, "b": 1.0}, prior=0.5
    )
    assert one[0] == Aggregate("favor", round(0.8 / 1.3, 6))
    assert two[0].label == "favor" and two[0].confidence > one[0].confidence


def test_weights_decide_disagreements() -> None:
    votes = {"a": [Vote("favor", 0.9)], "b": [Vote("against", 0.6)]}
    assert weighted_vote(votes, {"a": 1.0, "b": 1.0}, prior=0)[0].label == "favor"
    assert weighted_vote(votes, {"a": 0.5, "b": 1.0}, prior=0)[0].label == "against"
    assert weighted_vote(votes, {"a": 0.0, "b": 1.0}, prior=0)[0] == Aggregate("against", 1.0)


def test_ties_and_abstentions_leave_no_label() -> None:
    votes = {"a": [Vote("favor", 0.5), ABSTAIN], "b": [Vote("against", 0.5), ABSTAIN]}
    assert weighted_vote(votes, {"a": 1.0, "b": 1.0}, prior=0.5) == [
        Aggregate(None, 0.0),
        Aggregate(None, 0.0),
    ]


def test_misaligned_votes_are_a_bug() -> None:
    with pytest.raises(ValueError, match="different numbers"):
        weighted_vote({"a": [ABSTAIN], "b": []}, {"a": 1, "b": 1}, prior=0)
