"""The prototypes labeler: actor gating, similarity decisions, and (slow) the real encoder."""

from __future__ import annotations

import pytest

from pipeline.config import PrototypeSettings, load_params
from pipeline.label.prototypes import PrototypeLabeler
from pipeline.lexicon.vote import ABSTAIN, Vote
from tests.conftest import REPO
from tests.label.conftest import BagOfWordsEncoder, paragraphs_frame

ACTORS = {"russia": ("Russia", "Moscow"), "china": ("China", "Beijing")}
STATEMENTS = {
    "favor": ("the partners quarrel and drift apart",),
    "against": ("the partners stand united and inseparable",),
}


def labeler(encoder: BagOfWordsEncoder, **settings: float) -> PrototypeLabeler:
    return PrototypeLabeler(
        encoder,
        STATEMENTS,
        ACTORS,
        "none",
        PrototypeSettings(**{"min_similarity": 0.2, "margin": 0.02, **settings}),
    )


def test_votes_the_nearest_side(fake_encoder: BagOfWordsEncoder) -> None:
    votes = labeler(fake_encoder).vote(
        paragraphs_frame(
            "Moscow and Beijing quarrel and drift apart.",
            "Moscow and Beijing stand united and inseparable.",
        )
    )
    assert [vote.label for vote in votes] == ["favor", "against"]
    assert all(0.5 < vote.score <= 1 for vote in votes)


def test_best_sentence_decides(fake_encoder: BagOfWordsEncoder) -> None:
    text = "Trade figures came out on Monday. Moscow and Beijing quarrel and drift apart."
    assert labeler(fake_encoder).vote(paragraphs_frame(text))[0].label == "favor"


def test_no_actor_means_no_stance(fake_encoder: BagOfWordsEncoder) -> None:
    # Close to a favor statement, but about neither actor: a `none` vote, no encoding.
    votes = labeler(fake_encoder, off_topic_score=0.7).vote(
        paragraphs_frame("The partners quarrel and drift apart.")
    )
    assert votes == [Vote("none", 0.7)]
    assert ["The partners quarrel and drift apart."] not in fake_encoder.calls


def test_one_actor_group_abstains_by_default(fake_encoder: BagOfWordsEncoder) -> None:
    text = "Moscow and its partners quarrel and drift apart."
    assert labeler(fake_encoder).vote(paragraphs_frame(text)) == [ABSTAIN]
    assert labeler(fake_encoder, min_actor_groups=1).vote(paragraphs_frame(text))[0].label == (
        "favor"
    )


def test_far_from_every_statement_is_none(fake_encoder: BagOfWordsEncoder) -> None:
    frame = paragraphs_frame("Moscow and Beijing host a chess tournament.")
    assert labeler(fake_encoder, min_similarity=0.5).vote(frame) == [Vote("none", 0.7)]


def test_undecided_abstains(fake_encoder: BagOfWordsEncoder) -> None:
    frame = paragraphs_frame("Moscow and Beijing: the partners quarrel, united.")  # near both
    assert labeler(fake_encoder, margin=0.3).vote(frame) == [ABSTAIN]


def test_score_grows_with_the_gap(fake_encoder: BagOfWordsEncoder) -> None:
    frame = paragraphs_frame(
        "Moscow and Beijing quarrel and drift apart.",
        "Moscow and Beijing quarrel, drift apart, yet stand united.",
    )
    clear, mixed = labeler(fake_encoder, margin=0.0).vote(frame)
    assert clear.label == mixed.label == "favor"
    assert clear.score > mixed.score


@pytest.mark.slow
def test_real_encoder_tells_relevant_from_irrelevant() -> None:
    """With the bundled MiniLM, on sentences written for this test: paragraphs off the
    proposition get `none`, paragraphs on it do not. (Which side it picks is close to
    chance with this encoder, so that is measured in labeling.json, not asserted.)"""
    from pipeline.encoders.torch_encoder import SentenceEncoder

    params = load_params(REPO / "params.yaml")
    labeler = PrototypeLabeler(
        SentenceEncoder(),
        params.proposition.statements,
        params.proposition.actors,
        params.neutral_label,
        params.label.prototypes,
    )
    votes = labeler.vote(
        paragraphs_frame(
            "Russian officials increasingly distrust Beijing and want other partners to "
            "lessen their reliance on China.",
            "Russia and China describe their partnership as solid, and Western attempts to "
            "separate them keep failing.",
            "The city council in Porto approved a new tram line.",
            "Russian and Chinese skaters took gold and silver at the final in Milan.",
        )
    )
    assert [vote.label for vote in votes][2:] == ["none", "none"]
    assert all(vote.label != "none" for vote in votes[:2])
