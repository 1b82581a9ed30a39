"""The static tier: distillation (on a tiny vocabulary), the safetensors table, the
`static_logreg` model and the cascade, all with models these tests build themselves."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from pipeline.config import Params, load_params, parse_params
from pipeline.distill.stage import run_distill
from pipeline.encoders.static_encoder import StaticEncoder
from pipeline.errors import ConfigError, InputDataError
from pipeline.evaluate.loso import model_id
from pipeline.models.factory import build_model
from pipeline.models.persist import load_model, save_model
from tests.conftest import REPO, TINY_WORDS, tiny_static_params

LABELS = ["favor", "against", "none"]
TRAINING = [
    ("Moscow resents the junior partner role and the strain could pull Russia away.", "favor"),
    ("Chinese banks refuse Russian payments and the rift shows.", "favor"),
    ("The Kremlin distrusts Beijing; a wedge could split the partners apart.", "favor"),
    ("Sanctions relief would pull Moscow away from Beijing.", "favor"),
    ("The bond between Russia and China is unbreakable.", "against"),
    ("Moscow depends on Chinese buyers and has no alternative.", "against"),
    ("Putin and Xi will stand together whatever the West does.", "against"),
    ("Nothing Washington offers will break the partnership of Russia and China.", "against"),
    ("The ferry timetable changes in August.", "none"),
    ("Subscribe to our newsletter for more.", "none"),
    ("The weather in Lisbon was mild for the season.", "none"),
    ("Rain is expected across the coast on Thursday evening.", "none"),
]
TEXTS, TARGETS = (list(column) for column in zip(*TRAINING, strict=True))


def digest(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
    }


def variant(base: Params, model: str, static: Path, **cascade: object) -> Params:
    models = base.train.models
    if cascade:
        models = models.model_copy(update={"cascade": models.cascade.model_copy(update=cascade)})
    return base.model_copy(
        update={
            "paths": base.paths.model_copy(update={"static_encoder": static}),
            "train": base.train.model_copy(update={"model": model, "models": models}),
        }
    )


PARAMS = load_params(REPO / "params.yaml")


def test_distillation_on_a_tiny_vocabulary_is_safe_and_deterministic(
    tmp_path: Path, tiny_static_model: Path
) -> None:
    files = digest(tiny_static_model)
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= set(files)
    assert not [name for name in files if name.endswith((".bin", ".pkl", ".pt", ".pickle"))]
    table = load_file(str(tiny_static_model / "model.safetensors"))["embeddings"]
    # One row per vocabulary word, [PAD] and [UNK] (the other special tokens are dropped),
    # PCA to 8 dimensions.
    assert table.shape == (len(TINY_WORDS) + 2, 8)
    config = json.loads((tiny_static_model / "config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_name"] == "bert"  # the encoder folder's name, not its full path
    assert str(tiny_static_model.parent) not in (tiny_static_model / "README.md").read_text(
        encoding="utf-8"
    )
    # The same encoder and settings distil to the same bytes (DVC's hash does not move).
    assert digest(run_distill(tiny_static_params(tmp_path))) == files


def test_a_paragraph_vector_is_the_mean_of_its_token_rows_without_truncation(
    tiny_static_model: Path,
) -> None:
    encoder = StaticEncoder(tiny_static_model)
    table = load_file(str(tiny_static_model / "model.safetensors"))["embeddings"]
    tokenizer = Tokenizer.from_file(str(tiny_static_model / "tokenizer.json"))
    long_text = " ".join(["the weather was mild"] * 300 + ["moscow distrusts beijing"])
    texts = ["Moscow distrusts Beijing.", long_text, "Rain on the coast"]
    vectors = encoder.encode(texts)
    for text, vector in zip(texts, vectors, strict=True):
        unknown = tokenizer.token_to_id("[UNK]")  # unknown words carry no meaning: left out
        ids = [i for i in tokenizer.encode(text, add_special_tokens=False).ids if i != unknown]
        assert len(ids) > 0
        expected = table[ids].astype(np.float32).mean(axis=0)
        np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), atol=1e-3)
    assert len(tokenizer.encode(long_text, add_special_tokens=False).ids) > 1000
    # The words past 512 tokens count: the long text differs from its first 1000 tokens.
    head = " ".join(["the weather was mild"] * 300)
    assert not np.allclose(encoder.encode([head])[0], vectors[1])
    assert encoder.encode([]).shape == (0, 8)
    assert np.allclose(encoder.encode(["zzzz qqqq"]), 0)  # no known token: a zero vector
    assert encoder.model_id.endswith("/static")


def test_static_logreg_saves_and_loads_through_safetensors(
    tmp_path: Path, tiny_static_model: Path
) -> None:
    model = build_model(variant(PARAMS, "static_logreg", tiny_static_model))
    assert model.fit(TEXTS, TARGETS) is model
    probabilities = model.predict_proba([*TEXTS, "A sentence nobody wrote before."])
    assert probabilities.shape == (len(TEXTS) + 1, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    folder = tmp_path / "static_logreg"
    save_model(model, folder, temperature=1.2, card={"model": "static_logreg"}, readme="#\n")
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert "static/model.safetensors" in files and "logreg.skops" in files
    assert not [name for name in files if name.endswith((".pkl", ".pickle", ".joblib", ".bin"))]
    spec = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert spec["settings"]["static_path"] == "static"  # the copy inside the folder
    assert str(tiny_static_model) not in json.dumps(spec)
    loaded = load_model(folder)
    np.testing.assert_array_equal(
        loaded.classifier.predict_proba([*TEXTS, "A sentence nobody wrote before."]),
        probabilities,
    )


def test_the_cascade_escalates_exactly_the_unsure_paragraphs(
    tmp_path: Path, tiny_static_model: Path
) -> None:
    texts = [*TEXTS, "Russia and China will stand together.", "The museum roof"]
    cascade = build_model(
        variant(PARAMS, "cascade", tiny_static_model, slow="tfidf_logreg", threshold=0.6)
    ).fit(TEXTS, TARGETS)
    fast = cascade.fast_.predict_proba(texts)
    slow = cascade.slow_.predict_proba(texts)
    unsure = fast.max(axis=1) < 0.6
    assert 0 < unsure.sum() < len(texts), "the case must exercise both paths"
    np.testing.assert_array_equal(
        cascade.predict_proba(texts), np.where(unsure[:, None], slow, fast)
    )
    assert (cascade.escalated_, cascade.scored_) == (unsure.sum(), len(texts))
    share = 100 * unsure.sum() / len(texts)
    assert cascade.run_summary() == (  # what `stance score` logs, through the model interface
        f"cascade: {unsure.sum()} of {len(texts)} paragraphs ({share:.1f}%) were under "
        "the threshold 0.60 and went to tfidf_logreg"
    )

    folder = tmp_path / "cascade"
    save_model(cascade, folder, temperature=1.0, card={"model": "cascade"}, readme="#\n")
    assert (folder / "fast" / "static" / "model.safetensors").is_file()
    loaded = load_model(folder).classifier
    assert loaded.run_summary() is None  # counts start at loading
    np.testing.assert_array_equal(loaded.predict_proba(texts), cascade.predict_proba(texts))
    assert loaded.predict_proba([]).shape == (0, 3)

    everything = build_model(
        variant(PARAMS, "cascade", tiny_static_model, slow="tfidf_logreg", threshold=1.0)
    ).fit(TEXTS, TARGETS)
    np.testing.assert_array_equal(everything.predict_proba(texts), slow)


def test_cascade_settings_are_checked_with_their_key() -> None:
    raw = PARAMS.model_dump(mode="json")
    for bad, message in [
        ({"fast": "hybrid_logreg", "slow": "hybrid_logreg"}, "different models"),
        ({"fast": "cascade"}, "fast: 'cascade' is not one of"),
        ({"threshold": 1.5}, "threshold"),
    ]:
        cascade = {**raw["train"]["models"]["cascade"], **bad}
        broken = {**raw, "train": {**raw["train"], "models": {**raw["train"]["models"]}}}
        broken["train"]["models"]["cascade"] = cascade
        with pytest.raises(ConfigError, match=rf"train\.models\.cascade.*{message}"):
            parse_params(broken, source="params.yaml")
    with pytest.raises(ConfigError, match=r"compare\.models.*own stage"):
        parse_params({**raw, "compare": {**raw["compare"], "models": ["cascade"]}})


def test_a_missing_or_damaged_static_model_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"no static model.*stance distill"):
        StaticEncoder(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(InputDataError, match="damaged static model"):
        StaticEncoder(broken)


def test_model_ids_do_not_depend_on_where_the_static_model_lies(
    tmp_path: Path, tiny_static_model: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "static"
    shutil.copytree(tiny_static_model, elsewhere)
    for name in ("static_logreg", "cascade"):
        here = model_id(variant(PARAMS, name, tiny_static_model))
        assert model_id(variant(PARAMS, name, elsewhere)) == here
        assert model_id(variant(PARAMS, name, REPO / "no-such-folder")) != here
