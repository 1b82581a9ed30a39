"""The ONNX Runtime encoder against sentence-transformers on PyTorch, with a tiny random
BERT this test builds and saves itself (MiniLM's tokenizer, two 32-wide layers): the
same vectors, in input order, from an export made once, atomically, and reused."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

import pipeline.encoders.onnx_export as onnx_export
from pipeline.encoders.base import bundled_encoder_path, weights_sha256
from pipeline.encoders.onnx_encoder import OnnxSentenceEncoder
from pipeline.encoders.onnx_export import (
    FP32_FILE,
    MANIFEST_FILE,
    encoder_export_dir,
    export_encoder,
    is_complete_export,
)
from pipeline.encoders.torch_encoder import SentenceEncoder
from pipeline.errors import ConfigError

MAX_SEQ_LENGTH = 24
TEXTS = [
    "Sanctions relief could pull Moscow away from Beijing.",
    "No.",
    "",
    "A grand bargain with the Kremlin, some argue, would split the two partners apart "
    "before the next summit.",
    "Détente — or appeasement?",
    "Rain is expected across the coast on Thursday evening.",
    "The museum reopens after a long renovation of its roof, and the city hopes that "
    "tourists will return in numbers not seen since before the pandemic closed it.",
    "Nothing Washington offers will break this partnership.",
    "Trains run on a reduced timetable.",
    "Why?",
    "The two capitals are bound by ideology, not convenience; their leaders said as much.",
    "Courting Moscow only rewards aggression.",
    "«Пусть говорят», said the headline, in Cyrillic.",
    "Russia and China will stand together whatever the West does, analysts in both "
    "countries wrote this week, pointing to trade, energy and military exercises.",
    "Harvest festival.",
    "Local elections were postponed.",
    "It is unclear whether the thaw will last beyond the winter.",
    "Oil prices rose 3% on Monday.",
    "A short one.",
    "Markets, ministers and generals all watched the talks closely.",
]
LONG_TEXT = " ".join(f"Sentence {i} weighs whether sanctions should be lifted." for i in range(20))


def save_tiny_model(folder: Path, seed: int, pooling: str = "mean") -> Path:
    """A random two-layer BERT saved as a sentence-transformers folder (pooling, normalize)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    source = folder.parent / f"{folder.name}-hf"
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_encoder_path()))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        initializer_range=0.2,  # wide enough that texts get clearly different vectors
    )
    BertModel(config).save_pretrained(source)
    tokenizer.save_pretrained(source)
    transformer = Transformer(str(source), max_seq_length=MAX_SEQ_LENGTH)
    modules = [transformer, Pooling(32, pooling_mode=pooling), Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "st", seed=0)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def fp32(tiny_model: Path, cache_root: Path) -> OnnxSentenceEncoder:
    encoder = OnnxSentenceEncoder(tiny_model, batch_size=4, cache_root=cache_root)
    encoder.encode(["warm up: the first use exports"])
    return encoder


@pytest.fixture(scope="module")
def reference(tiny_model: Path) -> np.ndarray:
    return SentenceEncoder(tiny_model, batch_size=4).encode([*TEXTS, LONG_TEXT])


def cosines(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (left * right).sum(axis=1)


def test_fp32_gives_the_vectors_of_sentence_transformers(
    fp32: OnnxSentenceEncoder, reference: np.ndarray
) -> None:
    vectors = fp32.encode([*TEXTS, LONG_TEXT])
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape == (21, 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    # Same graph, same float32 arithmetic: only summation order differs.
    assert np.abs(vectors - reference).max() < 1e-5
    # The random weights still tell texts apart, so the comparison means something.
    assert cosines(reference[:1], reference[1:]).min() < 0.9


def test_int8_stays_close_to_the_float_model(
    tiny_model: Path, cache_root: Path, fp32: OnnxSentenceEncoder, reference: np.ndarray
) -> None:
    int8 = OnnxSentenceEncoder(tiny_model, quantized=True, cache_root=cache_root)
    vectors = int8.encode([*TEXTS, LONG_TEXT])
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape
    # A sanity bound, not the requirement: int8 kernels differ by CPU (worst cosine 0.9992
    # on an Intel Xeon, 0.9893 on an AMD EPYC, for the same weights). What int8 must keep,
    # macro-F1 within a point of fp32, is measured by benchmarks/backend_accuracy.py. A
    # broken graph (wrong scales, lost pooling) lands far below this bound.
    assert cosines(vectors, reference).min() > 0.95
    assert not np.allclose(vectors, reference, atol=1e-5)  # it is really the int8 graph


def test_length_buckets_keep_the_input_order(fp32: OnnxSentenceEncoder) -> None:
    vectors = fp32.encode(TEXTS)
    permutation = np.random.default_rng(3).permutation(len(TEXTS))
    shuffled = fp32.encode([TEXTS[i] for i in permutation])
    np.testing.assert_allclose(shuffled, vectors[permutation], atol=1e-6)


def test_padding_does_not_change_a_vector(fp32: OnnxSentenceEncoder) -> None:
    alone = np.concatenate([fp32.encode([text]) for text in TEXTS])
    np.testing.assert_allclose(fp32.encode(TEXTS), alone, atol=1e-5)


def test_an_empty_list_gives_an_empty_matrix(fp32: OnnxSentenceEncoder) -> None:
    vectors = fp32.encode([])
    assert vectors.shape == (0, 32) and vectors.dtype == np.float32


def test_a_long_text_is_cut_at_max_seq_length(
    fp32: OnnxSentenceEncoder, reference: np.ndarray
) -> None:
    assert fp32.max_seq_length == MAX_SEQ_LENGTH
    assert len(fp32.tokenizer()(LONG_TEXT)["input_ids"]) > MAX_SEQ_LENGTH
    longer = LONG_TEXT + " And yet another sentence nobody will read."
    vectors = fp32.encode([LONG_TEXT, longer])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)
    np.testing.assert_allclose(vectors[0], reference[-1], atol=1e-5)


def test_tokenizer_and_paths(fp32: OnnxSentenceEncoder, tiny_model: Path) -> None:
    tokenizer = fp32.tokenizer()
    assert tokenizer.is_fast and tokenizer.model_max_length == MAX_SEQ_LENGTH
    assert fp32.model_path == tiny_model
    assert OnnxSentenceEncoder(cache_root=Path("unused")).model_path == bundled_encoder_path()


def test_model_id_names_weights_and_inference_path(
    tiny_model: Path, cache_root: Path, tmp_path: Path
) -> None:
    fp32_id = OnnxSentenceEncoder(tiny_model, cache_root=cache_root).model_id
    int8_id = OnnxSentenceEncoder(tiny_model, quantized=True, cache_root=cache_root).model_id
    weights = weights_sha256(tiny_model)
    assert fp32_id == f"{weights[:16]}/onnx-fp32" and int8_id == f"{weights[:16]}/onnx-int8"
    other = save_tiny_model(tmp_path / "other", seed=1)
    assert OnnxSentenceEncoder(other, cache_root=cache_root).model_id != fp32_id
    assert encoder_export_dir(other, cache_root) != encoder_export_dir(tiny_model, cache_root)
    assert encoder_export_dir(tiny_model, cache_root) == cache_root / "onnx" / weights[:16]


def test_the_export_is_made_once_and_reused(
    fp32: OnnxSentenceEncoder,
    tiny_model: Path,
    cache_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    export_dir = encoder_export_dir(tiny_model, cache_root)
    manifest = json.loads((export_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["weights_sha256"] == weights_sha256(tiny_model)
    assert manifest["pooling"] == "mean" and manifest["max_seq_length"] == MAX_SEQ_LENGTH
    assert manifest["versions"]["onnxruntime"] and manifest["opset"]
    assert (export_dir / "tokenizer.json").is_file()
    stamp = (export_dir / FP32_FILE).stat().st_mtime_ns

    def no_second_export(*args: object) -> None:
        raise AssertionError("the export was rebuilt")

    monkeypatch.setattr(onnx_export, "_build_export", no_second_export)
    with caplog.at_level(logging.INFO, logger="pipeline.encoders.onnx_encoder"):
        again = OnnxSentenceEncoder(tiny_model, cache_root=cache_root)
        np.testing.assert_allclose(again.encode(TEXTS[:3]), fp32.encode(TEXTS[:3]))
    assert not [r for r in caplog.records if "Exporting" in r.getMessage()]
    assert export_encoder(tiny_model, export_dir) == export_dir
    assert (export_dir / FP32_FILE).stat().st_mtime_ns == stamp
    assert not [p for p in export_dir.parent.iterdir() if p.name.startswith(".")]


def test_a_crashed_export_does_not_break_the_next(
    fp32: OnnxSentenceEncoder,
    tiny_model: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    export_dir = encoder_export_dir(tiny_model, tmp_path)
    export_dir.parent.mkdir(parents=True)
    # A temporary folder from a process killed an hour ago, one from a process still
    # writing, and a folder at the target without its manifest.
    old = export_dir.parent / f".{export_dir.name}.tmp-crashed"
    young = export_dir.parent / f".{export_dir.name}.tmp-busy"
    for leftover in (old, young, export_dir):
        leftover.mkdir()
        (leftover / FP32_FILE).write_bytes(b"half a graph")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))

    with caplog.at_level(logging.INFO, logger="pipeline.encoders.onnx_encoder"):
        encoder = OnnxSentenceEncoder(tiny_model, batch_size=4, cache_root=tmp_path)
        np.testing.assert_allclose(encoder.encode(TEXTS), fp32.encode(TEXTS), atol=1e-6)
    assert [r for r in caplog.records if "to ONNX (done once" in r.getMessage()]
    assert is_complete_export(export_dir, weights_sha256(tiny_model))
    assert not old.exists() and young.is_dir()
    assert {p.name for p in export_dir.parent.iterdir()} == {export_dir.name, young.name}


def test_concurrent_exports_end_with_one_complete_folder(
    fp32: OnnxSentenceEncoder,
    tiny_model: Path,
    cache_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    finished = encoder_export_dir(tiny_model, cache_root)
    both_building = threading.Barrier(2, timeout=30)

    def copy_finished_export(pipeline: object, weights: str, staging: Path) -> None:
        both_building.wait()  # both processes have a temporary folder before either publishes
        shutil.copytree(finished, staging, dirs_exist_ok=True)
        (staging / "builder.txt").write_text(threading.current_thread().name)

    monkeypatch.setattr(onnx_export, "_build_export", copy_finished_export)
    target = tmp_path / "onnx" / finished.name
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(export_encoder(tiny_model, target)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [target, target]
    assert is_complete_export(target, weights_sha256(tiny_model))
    assert (target / "builder.txt").read_text() in {thread.name for thread in threads}
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # the loser cleaned up


def test_cls_pooling_matches_sentence_transformers(tiny_model: Path, cache_root: Path) -> None:
    cls_model = tiny_model.parent / "cls"
    shutil.copytree(tiny_model, cls_model)
    pooling = cls_model / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({"embedding_dimension": 32, "pooling_mode": "cls"}))
    vectors = OnnxSentenceEncoder(cls_model, cache_root=cache_root).encode(TEXTS)
    reference = SentenceEncoder(cls_model).encode(TEXTS)
    assert np.abs(vectors - reference).max() < 1e-5


@pytest.mark.parametrize(
    "pooling",
    [{"pooling_mode": "max"}, {"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}],
)
def test_other_pooling_is_refused(
    tiny_model: Path, tmp_path: Path, pooling: dict[str, object]
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    with pytest.raises(ConfigError, match=r"pooling .*max.*supports mean or cls only"):
        OnnxSentenceEncoder(folder, cache_root=tmp_path).encode(["text"])


def test_a_folder_without_config_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"not a sentence-transformers folder \(no config.json\)"):
        OnnxSentenceEncoder(tmp_path, cache_root=tmp_path / "cache").encode(["text"])
    assert not (tmp_path / "cache").exists()


def test_missing_onnxruntime_says_which_extra_to_install(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ConfigError, match="needs onnxruntime: install the `onnx` extra"):
        OnnxSentenceEncoder(tiny_model, cache_root=tmp_path).encode(["text"])


def test_threads_and_settings(tiny_model: Path, cache_root: Path) -> None:
    one = OnnxSentenceEncoder(tiny_model, cache_root=cache_root, threads=1)
    one.encode(["text"])
    assert one._session.get_session_options().intra_op_num_threads == 1
    default = OnnxSentenceEncoder(tiny_model, cache_root=cache_root)
    default.encode(["text"])
    options = default._session.get_session_options()
    assert options.intra_op_num_threads == len(os.sched_getaffinity(0))
    assert default._session.get_providers() == ["CPUExecutionProvider"]
    with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
        OnnxSentenceEncoder(tiny_model, batch_size=0, cache_root=cache_root).encode(["text"])


@pytest.mark.slow
def test_minilm_on_onnx_matches_pytorch(tmp_path: Path) -> None:
    paragraphs = [
        "Recent developments suggest that relations between the United States and Russia "
        "may be on the path to improvement, and the Kremlin has acknowledged the shift.",
        "Critics argue that any thaw would reward aggression and do little to loosen the "
        "partnership between Moscow and Beijing.",
        "The harvest festival drew record crowds this weekend.",
        LONG_TEXT * 8,  # well past MiniLM's 256 tokens
    ]
    encoder = OnnxSentenceEncoder(cache_root=tmp_path)
    vectors = encoder.encode(paragraphs)
    reference = SentenceEncoder().encode(paragraphs)
    assert vectors.shape == (4, 384) and encoder.max_seq_length == 256
    assert np.abs(vectors - reference).max() < 1e-5
