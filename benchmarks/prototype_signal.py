"""How much stance signal sentence similarity carries: the numbers behind docs/labeling.md.

On the written examples (data/annotations/synthetic.jsonl), with the statements and
encoder from params.yaml, measures
- relevance: ROC AUC of the best sentence-statement similarity for telling
  stance-bearing examples (favor or against) from `none` ones;
- side: accuracy of "favor if the best favor similarity beats the best against
  similarity" on favor/against examples, overall and on the examples with the
  largest gaps.
Writes benchmarks/results/prototype_signal.json. Run: `python benchmarks/prototype_signal.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.config import load_params
from pipeline.encoders.torch_encoder import SentenceEncoder
from pipeline.label.annotations import read_synthetic
from pipeline.text import split_sentences

OUT = Path(__file__).parent / "results" / "prototype_signal.json"


def main() -> None:
    params = load_params()
    examples = read_synthetic(params.paths.synthetic, params.labels)
    encoder = SentenceEncoder(params.encoder.path, batch_size=params.encoder.batch_size)
    statements = {
        label: encoder.encode(list(texts)) for label, texts in params.proposition.statements.items()
    }
    favor, against = statements[params.favor_label], statements[params.against_label]
    sentences, owners = [], []
    for index, example in enumerate(examples):
        parts = split_sentences(example.text) or [example.text]
        sentences += parts
        owners += [index] * len(parts)
    vectors, owners_array = encoder.encode(sentences), np.asarray(owners)
    best_favor = np.array(
        [(vectors[owners_array == i] @ favor.T).max() for i in range(len(examples))]
    )
    best_against = np.array(
        [(vectors[owners_array == i] @ against.T).max() for i in range(len(examples))]
    )
    labels = np.array([example.label for example in examples])
    has_stance = labels != params.neutral_label
    relevance_auc = roc_auc_score(has_stance, np.maximum(best_favor, best_against))

    gap = (best_favor - best_against)[has_stance]
    is_favor = labels[has_stance] == params.favor_label
    side = {}
    for share in (1.0, 0.5, 0.2):
        keep = np.abs(gap) >= np.quantile(np.abs(gap), 1 - share)
        side[f"top_{int(share * 100)}pct_gap"] = {
            "n": int(keep.sum()),
            "accuracy": round(float(((gap[keep] > 0) == is_favor[keep]).mean()), 4),
        }
    result = {
        "examples": len(examples),
        "stance_examples": int(has_stance.sum()),
        "relevance_roc_auc": round(float(relevance_auc), 4),
        "side_accuracy": side,
        "majority_side_baseline": round(float(max(is_favor.mean(), 1 - is_favor.mean())), 4),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
