"""`transformer`: the encoder fine-tuned end to end with a classification head.

transformers' `Trainer` fine-tunes `AutoModelForSequenceClassification` on CPU.
Long paragraphs are never truncated: training sees every sentence window of a
paragraph (each with the paragraph's label), and prediction pools the windows'
softmax probabilities by length (`pipeline.models.chunking`). The loss weighs
classes in inverse proportion to their window counts, like `class_weight="balanced"`.
With the encoding backend `onnx` or `onnx-int8` (`stance score --backend`), prediction
runs the network on ONNX Runtime instead (`pipeline.models.transformer_onnx`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from pipeline.encoders.base import bundled_encoder_path, use_offline_hub
from pipeline.errors import ConfigError, InputDataError
from pipeline.io import display_path
from pipeline.models.base import Context, StanceClassifier
from pipeline.models.chunking import TokenCounter, chunk_texts, pool

_FOLDER = "model"
# Windows per forward pass at prediction time; they are sorted by length to pad little.
_PREDICT_BATCH = 32


def balanced_class_weights(targets: np.ndarray, count: int) -> np.ndarray:
    """n / (classes present × class count), as scikit-learn's "balanced"; absent classes 1."""
    counts = np.bincount(targets, minlength=count)
    present = counts > 0
    weights = np.ones(count)
    weights[present] = len(targets) / (present.sum() * counts[present])
    return weights


def window_length(folder: Path, tokenizer: Any, config: Any, requested: int | None) -> int:
    """Tokens per window, [CLS] and [SEP] included: `requested`, else what the folder says.

    The folder's word is sentence-transformers' `max_seq_length` (256 for MiniLM, which
    was trained on 256 although its position table has 512), else the tokenizer's
    `model_max_length`, never more than the model's position table.
    """
    positions = int(getattr(config, "max_position_embeddings", 512))
    if requested is not None:
        if not 4 <= requested <= positions:
            raise ConfigError(f"max_length: {requested} is outside 4..{positions} for this encoder")
        return int(requested)
    sentence_config = folder / "sentence_bert_config.json"
    if sentence_config.is_file():
        length = json.loads(sentence_config.read_text(encoding="utf-8")).get("max_seq_length")
        if length:
            return min(int(length), positions)
    return min(int(tokenizer.model_max_length), positions)


def weighted_cross_entropy(
    class_weights: np.ndarray, label_smoothing: float = 0.0
) -> Callable[..., Any]:
    """A `Trainer` `compute_loss_func`: cross-entropy with one weight per class.

    A weighted mean per batch; with `label_smoothing` ε the target is (1 - ε) on the
    label and ε spread evenly over all classes (torch's definition). Trainer skips its
    gradient-accumulation scaling and its own label smoother for a custom loss, which is
    right here: batches are never accumulated, and the smoothing is applied here.
    """
    import torch

    weights = torch.tensor(class_weights, dtype=torch.float32)

    def loss(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs.logits
        return torch.nn.functional.cross_entropy(
            logits, labels, weight=weights.to(logits.device), label_smoothing=label_smoothing
        )

    return loss


def _check_contexts(texts: Sequence[str], contexts: Sequence[Context] | None) -> None:
    if contexts is not None and len(contexts) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(contexts)} contexts")


def _per_window(contexts: Sequence[Context] | None, owners: np.ndarray) -> list[Context] | None:
    """Each window's context: its paragraph's."""
    return None if contexts is None else [contexts[owner] for owner in owners]


class _Windows:
    """Tokenised training windows with their label ids, as a map-style torch dataset."""

    def __init__(self, encoded: dict[str, list[list[int]]], targets: np.ndarray) -> None:
        self.encoded = encoded
        self.targets = targets

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = {key: values[index] for key, values in self.encoded.items()}
        return {**item, "labels": int(self.targets[index])}


class TransformerClassifier(StanceClassifier):
    """A fine-tuned sequence classifier over sentence windows, pooled per paragraph.

    Settings: `epochs`, `batch_size`, `learning_rate`, `weight_decay`, `warmup_ratio`,
    `label_smoothing`, `encoder_path` (None: the bundled all-MiniLM-L6-v2) and optional `max_length`
    (tokens per window; default: the encoder folder's own limit, 256 for MiniLM).
    """

    name = "transformer"

    def _encoder_folder(self) -> Path:
        path = self.settings.get("encoder_path")
        folder = Path(path) if path else bundled_encoder_path()
        if not (folder / "config.json").is_file():
            raise ConfigError(
                f"encoder.path: {display_path(folder)} is not a model folder (no config.json)"
            )
        return folder

    def _windows(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        count = TokenCounter(self.tokenizer_)  # counts quietly: long sentences are cut next
        count.prime(texts)  # most paragraphs fit in one window: one call counts them all
        return chunk_texts(texts, count, self._window_budget())

    def _window_budget(self) -> int:
        """Tokens of paragraph text per window: room left for [CLS] and [SEP]."""
        return self.max_length_ - 2

    def _encode(
        self, windows: list[str], contexts: Sequence[Context] | None
    ) -> dict[str, list[list[int]]]:
        """Token ids of each window as the classifier reads it (with its paragraph's
        context, for a model that reads one: this one does not)."""
        return dict(self.tokenizer_(windows, truncation=True, max_length=self.max_length_))

    def _training_arguments(self, output_dir: str) -> Any:
        from transformers import TrainingArguments

        return TrainingArguments(
            output_dir=output_dir,
            num_train_epochs=float(self.setting("epochs")),
            per_device_train_batch_size=int(self.setting("batch_size")),
            learning_rate=float(self.setting("learning_rate")),
            weight_decay=float(self.setting("weight_decay")),
            warmup_ratio=float(self.setting("warmup_ratio")),
            lr_scheduler_type="linear",
            seed=self.seed,
            data_seed=self.seed,
            use_cpu=True,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            report_to=[],
            disable_tqdm=True,
            dataloader_pin_memory=False,  # no accelerator: pinning only warns
        )

    def _new_classifier(self, folder: Path) -> Any:
        """The encoder with a freshly initialised head over `labels`, seeded."""
        from transformers import AutoModelForSequenceClassification, set_seed
        from transformers.utils import logging as hf_logging

        set_seed(self.seed)  # the new head's initial weights come from the global generator
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "newly initialized: classifier.*" is expected here
        try:
            return AutoModelForSequenceClassification.from_pretrained(
                str(folder),
                num_labels=len(self.labels),
                id2label=dict(enumerate(self.labels)),
                label2id={label: index for index, label in enumerate(self.labels)},
            )
        finally:
            hf_logging.set_verbosity(verbosity)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        return self.fit_in_context(texts, labels, None)

    def fit_in_context(
        self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[Context] | None
    ) -> Self:
        targets = self._check_fit_input(texts, labels)
        _check_contexts(texts, contexts)
        use_offline_hub()
        from transformers import AutoTokenizer, DataCollatorWithPadding, PrinterCallback, Trainer

        folder = self._encoder_folder()
        self.tokenizer_ = AutoTokenizer.from_pretrained(str(folder))
        self.model_ = self._new_classifier(folder)
        self.max_length_ = window_length(
            folder, self.tokenizer_, self.model_.config, self.settings.get("max_length")
        )
        windows, owners, _ = self._windows(texts)
        window_targets = targets[owners]  # every window carries its paragraph's label
        encoded = self._encode(windows, _per_window(contexts, owners))
        with tempfile.TemporaryDirectory(prefix="stance-transformer-") as scratch:
            trainer = Trainer(
                model=self.model_,
                args=self._training_arguments(scratch),
                train_dataset=_Windows(encoded, window_targets),
                data_collator=DataCollatorWithPadding(self.tokenizer_),
                compute_loss_func=weighted_cross_entropy(
                    balanced_class_weights(window_targets, len(self.labels)),
                    float(self.setting("label_smoothing")),
                ),
            )
            trainer.remove_callback(PrinterCallback)  # it prints the final metrics despite "no"
            self.training_loss_ = float(trainer.train().training_loss)
        self.model_.eval()
        return self

    def _window_probabilities(
        self, windows: list[str], contexts: Sequence[Context] | None
    ) -> np.ndarray:
        import torch
        from transformers import DataCollatorWithPadding

        forward = self._forward()
        collate = DataCollatorWithPadding(self.tokenizer_)
        encoded = self._encode(windows, contexts)
        rows = [{key: values[i] for key, values in encoded.items()} for i in range(len(windows))]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]["input_ids"]), reverse=True)
        probabilities = np.zeros((len(rows), len(self.labels)))
        self.model_.eval()
        with torch.inference_mode():
            for start in range(0, len(order), _PREDICT_BATCH):
                batch = order[start : start + _PREDICT_BATCH]
                probabilities[batch] = forward(collate([rows[i] for i in batch]))
        return probabilities

    def _forward(self) -> Callable[[dict[str, Any]], np.ndarray]:
        """Window probabilities of one padded batch, on the backend of `self.encoding_options`.

        `onnx` and `onnx-int8` run the network exported to ONNX Runtime (once per set of
        weights, into the cache folder); windows, encoding and pooling stay the same.
        """
        options = self.encoding_options
        if options.backend == "torch":
            return self._torch_probabilities
        from pipeline.models.transformer_onnx import onnx_classifier

        self._onnx = onnx_classifier(getattr(self, "_onnx", None), self.model_, options)
        return self._onnx.probabilities

    def _torch_probabilities(self, batch: dict[str, Any]) -> np.ndarray:
        import torch

        logits = self.model_(**batch).logits
        return torch.softmax(logits.float(), dim=-1).numpy()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba_in_context(texts, None)

    def predict_proba_in_context(
        self, texts: Sequence[str], contexts: Sequence[Context] | None
    ) -> np.ndarray:
        _check_contexts(texts, contexts)
        if not len(texts):
            return np.zeros((0, len(self.labels)))
        windows, owners, weights = self._windows(texts)
        probabilities = self._window_probabilities(windows, _per_window(contexts, owners))
        return pool(probabilities, owners, weights, len(texts))

    def save(self, folder: Path) -> None:
        target = folder / _FOLDER
        self.tokenizer_.model_max_length = self.max_length_  # so `load` windows alike
        self.model_.save_pretrained(target, safe_serialization=True)
        self.tokenizer_.save_pretrained(target)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        source = folder / _FOLDER
        if not (source / "config.json").is_file():
            raise InputDataError(f"{display_path(source)}: model folder not found")
        use_offline_hub()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = cls(labels=labels, seed=seed, **settings)
        model.tokenizer_ = AutoTokenizer.from_pretrained(str(source))
        model.model_ = AutoModelForSequenceClassification.from_pretrained(str(source))
        saved = [model.model_.config.id2label[i] for i in range(model.model_.config.num_labels)]
        if saved != list(model.labels):
            raise InputDataError(
                f"{display_path(source)}: trained for labels {saved}, not {list(model.labels)}"
            )
        model.max_length_ = window_length(
            source, model.tokenizer_, model.model_.config, settings.get("max_length")
        )
        model.model_.eval()
        return model
