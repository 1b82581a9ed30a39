"""The baseline `stance score` is meant to beat: zero-shot NLI classification, timed on CPU.

transformers' `pipeline("zero-shot-classification")` with a model of
facebook/bart-large-mnli's architecture and size (BartForSequenceClassification:
d_model 1024, 12 encoder and 12 decoder layers, 16 heads, feed-forward 4096,
vocabulary 50265, 1024 positions; labels contradiction/neutral/entailment),
built here with random weights, since nothing may be downloaded. The answers are
meaningless; the cost per paragraph is the real model's. No BART tokenizer is
available offline either, so the bundled MiniLM's WordPiece tokenizer stands
in (with [SEP] as BART's end-of-sequence token); English word pieces and BART's
byte-level BPE give similar token counts, and the mean measured here is
reported. Each paragraph is tested against three hypotheses (one pass of the
model each, as the pipeline does, multi_label=False) on `--paragraphs`
paragraphs of the generated corpus (see harness.py), after one warm-up paragraph.
Writes <results-dir>/zero_shot.json and prints it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness import (
    RESULTS_DIR,
    generated_paragraphs,
    load_average,
    machine_facts,
    rate,
    seed_paragraphs,
    write_result,
)

HYPOTHESES = (
    "This text says Russia can be pulled away from China.",
    "This text says Russia cannot be pulled away from China.",
    "This text is not about whether Russia can be pulled away from China.",
)
LABELS = ("contradiction", "neutral", "entailment")  # bart-large-mnli's order
BART_LARGE = {
    "vocab_size": 50265,
    "d_model": 1024,
    "encoder_layers": 12,
    "decoder_layers": 12,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
}


def stand_in_tokenizer():
    """The bundled MiniLM WordPiece tokenizer, shaped for BART: no token type ids, 1024 long."""
    from transformers import AutoTokenizer

    from pipeline.encoders.base import bundled_encoder_path

    tokenizer = AutoTokenizer.from_pretrained(str(bundled_encoder_path()))
    tokenizer.model_input_names = ["input_ids", "attention_mask"]  # BART takes no token types
    tokenizer.model_max_length = BART_LARGE["max_position_embeddings"]
    return tokenizer


def random_bart_mnli(tokenizer, seed: int):
    """BartForSequenceClassification the size of bart-large-mnli, randomly initialised."""
    import torch
    from transformers import BartConfig, BartForSequenceClassification

    config = BartConfig(
        **BART_LARGE,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: index for index, label in enumerate(LABELS)},
        # The classification head reads the hidden state at the last end-of-sequence
        # token; with a WordPiece tokenizer that is [SEP].
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        decoder_start_token_id=tokenizer.sep_token_id,
        forced_eos_token_id=tokenizer.sep_token_id,
    )
    torch.manual_seed(seed)
    return BartForSequenceClassification(config).eval()


def mean_pair_tokens(tokenizer, paragraphs: list[str]) -> float:
    """Mean tokens of a paragraph + hypothesis pair, special tokens included."""
    counts = [
        len(tokenizer(paragraph, hypothesis)["input_ids"])
        for paragraph in paragraphs
        for hypothesis in HYPOTHESES
    ]
    return round(sum(counts) / len(counts), 1)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--paragraphs", type=int, default=24, help="paragraphs to classify (default 24)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write")
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    from pipeline.encoders.base import use_offline_hub

    use_offline_hub()
    import torch
    from transformers import pipeline as hf_pipeline

    load_before = load_average()
    paragraphs = generated_paragraphs(seed_paragraphs(), arguments.paragraphs + 1, "zs-")
    warm_up, paragraphs = paragraphs[0], paragraphs[1:]
    start = time.perf_counter()
    tokenizer = stand_in_tokenizer()
    model = random_bart_mnli(tokenizer, arguments.seed)
    classifier = hf_pipeline(
        "zero-shot-classification", model=model, tokenizer=tokenizer, device=-1
    )
    build_seconds = time.perf_counter() - start
    options = {"candidate_labels": list(HYPOTHESES), "hypothesis_template": "{}"}
    with torch.inference_mode():
        classifier(warm_up, multi_label=False, **options)
        start = time.perf_counter()
        answers = classifier(paragraphs, multi_label=False, **options)
        seconds = time.perf_counter() - start
    if isinstance(answers, dict):  # one paragraph gives one answer, not a list
        answers = [answers]
    assert len(answers) == len(paragraphs)
    result = {
        "model": "BartForSequenceClassification, bart-large-mnli's size, random weights",
        "parameters_millions": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
        "tokenizer": "bundled all-MiniLM-L6-v2 WordPiece (no BART tokenizer offline)",
        "hypotheses": list(HYPOTHESES),
        "multi_label": False,
        "paragraphs": len(paragraphs),
        "mean_tokens_per_pair": mean_pair_tokens(tokenizer, paragraphs),
        "build_s": round(build_seconds, 2),
        "seconds": round(seconds, 2),
        "paragraphs_per_s": rate(len(paragraphs), seconds),
        "seconds_per_paragraph": round(seconds / len(paragraphs), 3),
        "notes": [
            "one forward pass per paragraph and hypothesis (three per paragraph), batch "
            "size 1 as the pipeline defaults; one warm-up paragraph not timed",
            "build_s: tokenizer, random initialisation and pipeline set-up",
        ],
        "machine": {
            **machine_facts(),
            "load_average_before": load_before,
            "torch_threads": torch.get_num_threads(),
        },
    }
    write_result(arguments.results_dir, "zero_shot", result)


if __name__ == "__main__":
    main()
