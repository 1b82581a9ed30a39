"""The NLI labeler, end to end through transformers' zero-shot pipeline, with a tiny
NLI model this test builds, trains for a moment and saves itself (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from pipeline.config import NliSettings
from pipeline.encoders.base import bundled_encoder_path
from pipeline.errors import ConfigError
from pipeline.label.nli import NliLabeler
from pipeline.lexicon.vote import ABSTAIN
from tests.label.conftest import paragraphs_frame

HYPOTHESES = {
    "favor": ("The partners are drifting apart.",),
    "against": ("The partners are inseparable.",),
}
# Premises written for this test: a clear signal the tiny model can learn in seconds.
APART = ["Quarrels and distrust keep growing.", "They argue, sulk and look elsewhere."]
TOGETHER = ["Their bond is solid and warm.", "They stand shoulder to shoulder, always."]


@pytest.fixture(scope="module")
def tiny_nli_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with entailment/neutral/contradiction labels, taught that APART
    premises entail the favor hypothesis and TOGETHER premises the against one."""
    folder = tmp_path_factory.mktemp("tiny-nli")
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_encoder_path()))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        initializer_range=0.2,
        id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
        label2id={"entailment": 0, "neutral": 1, "contradiction": 2},
    )
    model = BertForSequenceClassification(config)
    favor, against = HYPOTHESES["favor"][0], HYPOTHESES["against"][0]
    pairs = [(p, favor, 0) for p in APART] + [(p, against, 2) for p in APART]
    pairs += [(p, against, 0) for p in TOGETHER] + [(p, favor, 2) for p in TOGETHER]
    batch = tokenizer(
        [p for p, _, _ in pairs], [h for _, h, _ in pairs], padding=True, return_tensors="pt"
    )
    targets = torch.tensor([label for _, _, label in pairs])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(50):
        optimizer.zero_grad()
        model(**batch, labels=targets).loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        learned = model(**batch).logits.argmax(dim=1)
    assert learned.tolist() == targets.tolist(), "the tiny NLI model did not learn its pairs"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_votes_follow_entailment(tiny_nli_model: Path) -> None:
    settings = NliSettings(enabled=True, model=tiny_nli_model, min_score=0.5)
    labeler = NliLabeler.from_settings(settings, HYPOTHESES)
    votes = labeler.vote(paragraphs_frame(APART[0], TOGETHER[0]))
    assert [vote.label for vote in votes] == ["favor", "against"]
    assert all(0.5 <= vote.score <= 1 for vote in votes)


def test_scores_are_a_distribution_over_labels(tiny_nli_model: Path) -> None:
    labeler = NliLabeler.from_settings(NliSettings(enabled=True, model=tiny_nli_model), HYPOTHESES)
    for mass in labeler.label_scores(["Anything at all.", APART[1]]):
        assert set(mass) == {"favor", "against"}
        assert sum(mass.values()) == pytest.approx(1.0, abs=1e-5)


def test_below_min_score_abstains(tiny_nli_model: Path) -> None:
    settings = NliSettings(enabled=True, model=tiny_nli_model, min_score=1.0)
    labeler = NliLabeler.from_settings(settings, HYPOTHESES)
    assert labeler.vote(paragraphs_frame(APART[0])) == [ABSTAIN]


def test_model_folder_must_exist(tmp_path: Path) -> None:
    settings = NliSettings(enabled=True, model=tmp_path / "no-such-model")
    with pytest.raises(
        ConfigError, match=r"label.nli.model: .*no-such-model is not a transformers"
    ):
        NliLabeler.from_settings(settings, HYPOTHESES)


def test_enabled_without_a_model_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="no model path"):
        NliSettings(enabled=True)
