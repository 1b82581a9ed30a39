"""`setfit`: contrastive fine-tuning of MiniLM (SetFit), then a logistic-regression head.

The fitted state is the fine-tuned sentence-transformers body (safetensors, in
`body/`) and the scikit-learn head (`head.skops`). setfit's own
`save_pretrained`/`from_pretrained` are not used: they pickle the head with
joblib (and `from_pretrained` would unpickle any `model_head.pkl` it finds and
look the encoder up on the Hub).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.encoders.base import bundled_encoder_path
from pipeline.encoders.torch_encoder import load_sentence_transformer
from pipeline.errors import InputDataError
from pipeline.io import display_path
from pipeline.models.base import StanceClassifier
from pipeline.models.chunking import chunk_texts, pool
from pipeline.models.safe_io import dump_estimator, load_estimator

_BODY = "body"
_HEAD = "head.skops"
# Windows per forward pass when embedding for the head and for prediction.
_ENCODE_BATCH = 32


class SetFitClassifier(StanceClassifier):
    """SetFit on sentence windows: the body learns from pairs, the head from window embeddings.

    Settings: `max_steps`, `batch_size`, `body_learning_rate` (contrastive phase),
    `C` (head), `encoder_path` (None: the bundled all-MiniLM-L6-v2).

    Long paragraphs are cut into sentence windows that fit the encoder. Training
    uses every window, each with its paragraph's label, so the body and head see
    all the text and the same kind of input that prediction scores; prediction
    pools the head's window probabilities, weighted by length, per paragraph.
    """

    name = "setfit"

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        targets = self._check_fit_input(texts, labels)
        _seed_everything(self.seed)
        model = _setfit_model(
            _load_body(self.settings.get("encoder_path")),
            LogisticRegression(
                C=self.setting("C"),
                class_weight="balanced",
                max_iter=2000,
                random_state=self.seed,
            ),
        )
        windows, owners, _ = _windows(model, texts)
        window_targets = targets[owners].tolist()
        self._train_body(model, windows, window_targets)
        model.model_head.fit(_embed(model, windows), window_targets)
        self.model_ = model
        return self

    def _train_body(self, model: Any, windows: list[str], targets: list[int]) -> None:
        """The contrastive phase: setfit's Trainer, no checkpoints, no reporting, no bars."""
        from setfit import Trainer, TrainingArguments
        from transformers.trainer_callback import ProgressCallback

        with tempfile.TemporaryDirectory(prefix="setfit-") as scratch, _quiet_setfit():
            arguments = TrainingArguments(
                output_dir=scratch,
                logging_dir=scratch,
                max_steps=self.setting("max_steps"),
                batch_size=self.setting("batch_size"),
                body_learning_rate=self.setting("body_learning_rate"),
                seed=self.seed,
                report_to="none",
                show_progress_bar=False,
                save_strategy="no",
            )
            # No train_dataset: setfit would map it (a `datasets` progress bar) only for its card.
            trainer = Trainer(model=model, args=arguments)
            trainer.remove_callback(ProgressCallback)
            trainer.st_trainer.args.dataloader_pin_memory = False  # CPU: silences a warning
            trainer.train_embeddings(windows, targets)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probabilities = np.zeros((len(texts), len(self.labels)))
        if len(texts):
            windows, owners, weights = _windows(self.model_, texts)
            head = self.model_.model_head
            per_window = np.zeros((len(windows), len(self.labels)))
            per_window[:, head.classes_] = head.predict_proba(_embed(self.model_, windows))
            probabilities = pool(per_window, owners, weights, len(texts))
        return probabilities

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.model_body.save(
            str(folder / _BODY), create_model_card=False, safe_serialization=True
        )
        dump_estimator(self.model_.model_head, folder / _HEAD)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        model = cls(labels=labels, seed=seed, **settings)
        if not (folder / _BODY / "config.json").is_file():
            raise InputDataError(f"{display_path(folder / _BODY)}: fine-tuned encoder not found")
        head = load_estimator(folder / _HEAD)
        model.model_ = _setfit_model(_read_body(folder / _BODY), head)
        return model


def _seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (the Trainer seeds again with the same value)."""
    from transformers import set_seed

    set_seed(seed)


def _load_body(encoder_path: str | None) -> Any:
    return _read_body(Path(encoder_path) if encoder_path else bundled_encoder_path())


def _read_body(path: Path) -> Any:
    """The body: a sentence-transformers folder, checked before anything is imported."""
    return load_sentence_transformer(path)


def _setfit_model(body: Any, head: LogisticRegression) -> Any:
    # Built directly: `SetFitModel.from_pretrained` may unpickle a head and query the Hub.
    from setfit import SetFitModel

    return SetFitModel(model_body=body, model_head=head)


def _windows(model: Any, texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Sentence windows that fit the body, with their owners and length weights."""
    body = model.model_body
    tokenizer = body.tokenizer
    limit = int(body.max_seq_length) - 2  # room for [CLS] and [SEP]

    def count(text: str) -> int:
        # verbose=False: counting a long paragraph is expected, not an overflow to warn about.
        return len(tokenizer.tokenize(text, verbose=False))

    return chunk_texts(list(texts), count, limit)


def _embed(model: Any, windows: list[str]) -> np.ndarray:
    return np.asarray(model.encode(windows, batch_size=_ENCODE_BATCH, show_progress_bar=False))


@contextmanager
def _quiet_setfit() -> Iterator[None]:
    """setfit sets its own logger to INFO on import; keep its training banner out of the logs."""
    from setfit import logging as setfit_logging

    level = setfit_logging.get_verbosity()
    setfit_logging.set_verbosity_warning()
    try:
        yield
    finally:
        setfit_logging.set_verbosity(level)
