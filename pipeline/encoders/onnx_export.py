"""The ONNX export of a sentence encoder: made once per set of weights, atomically.

`export_encoder` converts the folder's transformer with optimum's exporter (offline,
from the local folder), quantises a copy with `onnxruntime.quantization.quantize_dynamic`,
and writes both with the tokenizer and an `export.json` manifest into
`<cache_root>/onnx/<weights hash>/`. The folder is built under a temporary sibling name
and renamed into place, so a crash leaves no half export behind and two processes
exporting at once both end up with one complete folder. A folder whose manifest names
the same weights is reused. `read_sentence_pipeline` reads what the sentence-transformers
folder does around its transformer (pooling, lower-casing, window), which the encoder
(`pipeline.encoders.onnx_encoder`) repeats.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.encoders.base import use_offline_hub, weights_sha256
from pipeline.encoders.onnx_cache import (
    INSTALL_HINT,
    QUANTIZATION,
    build_once,
    package_versions,
    quantize_int8,
)
from pipeline.errors import ConfigError
from pipeline.io import display_path

FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
MANIFEST_FILE = "export.json"
# Bump when the export's layout or content changes: older folders are then rebuilt.
EXPORT_FORMAT = 1
_SUPPORTED_POOLING = ("mean", "cls")
_LEGACY_POOLING_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}


@dataclass(frozen=True)
class SentencePipeline:
    """What a sentence-transformers folder does around its transformer."""

    transformer_dir: Path
    pooling: str
    max_seq_length: int
    do_lower_case: bool


def read_sentence_pipeline(model_path: Path) -> SentencePipeline:
    """Read modules.json, the pooling config and sentence_bert_config.json of a folder.

    Supports Transformer → Pooling (mean or CLS) → optional Normalize; a plain
    Hugging Face folder (no modules.json) gets mean pooling, as sentence-transformers does.
    """
    modules_file = model_path / "modules.json"
    modules = _read_json(modules_file) if modules_file.is_file() else []
    by_kind = {str(module.get("type", "")).rsplit(".", 1)[-1]: module for module in modules}
    unsupported = sorted(set(by_kind) - {"Transformer", "Pooling", "Normalize"})
    if unsupported:
        raise ConfigError(
            f"encoder.path: {display_path(modules_file)} has module(s) {', '.join(unsupported)}; "
            "the ONNX encoder supports Transformer, Pooling and Normalize only"
        )
    transformer_dir = model_path / by_kind.get("Transformer", {}).get("path", "")
    if not (transformer_dir / "config.json").is_file():
        raise ConfigError(
            f"encoder.path: {display_path(model_path)} is not a sentence-transformers folder "
            "(no config.json)"
        )
    pooling = "mean"
    if "Pooling" in by_kind:
        pooling_file = model_path / by_kind["Pooling"].get("path", "") / "config.json"
        pooling = _pooling_mode(_read_json(pooling_file), pooling_file)
    settings_file = transformer_dir / "sentence_bert_config.json"
    settings = _read_json(settings_file) if settings_file.is_file() else {}
    max_seq_length = settings.get("max_seq_length") or _default_max_length(transformer_dir)
    return SentencePipeline(
        transformer_dir=transformer_dir,
        pooling=pooling,
        max_seq_length=int(max_seq_length),
        do_lower_case=bool(settings.get("do_lower_case", False)),
    )


def _pooling_mode(config: dict[str, Any], source: Path) -> str:
    """The one pooling mode of a Pooling config, in its current or legacy spelling."""
    mode = config.get("pooling_mode")
    if mode is None:
        active = [name for key, name in _LEGACY_POOLING_KEYS.items() if config.get(key)]
        mode = active if active else "mean"
    if isinstance(mode, list) and len(mode) == 1:
        mode = mode[0]
    if mode not in _SUPPORTED_POOLING:
        raise ConfigError(
            f"encoder.path: {display_path(source)} asks for pooling {mode!r}; "
            f"the ONNX encoder supports {' or '.join(_SUPPORTED_POOLING)} only"
        )
    return str(mode)


def _default_max_length(transformer_dir: Path) -> int:
    """sentence-transformers' fallback: the tokenizer's limit, capped by the position table."""
    limits = [_read_json(transformer_dir / "config.json").get("max_position_embeddings")]
    tokenizer_file = transformer_dir / "tokenizer_config.json"
    if tokenizer_file.is_file():
        limits.append(_read_json(tokenizer_file).get("model_max_length"))
    usable = [int(limit) for limit in limits if isinstance(limit, int | float) and limit > 0]
    if not usable:
        raise ConfigError(
            f"encoder.path: {display_path(transformer_dir)} sets no max_seq_length "
            "(sentence_bert_config.json) nor max_position_embeddings (config.json)"
        )
    return min(usable)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"encoder.path: cannot read {display_path(path)}: {error}") from error


def encoder_export_dir(model_path: Path, cache_root: Path) -> Path:
    """Where the ONNX export of these weights lives: `cache_root/onnx/<16 hex of their hash>`."""
    transformer_dir = read_sentence_pipeline(model_path).transformer_dir
    return cache_root / "onnx" / weights_sha256(transformer_dir)[:16]


def is_complete_export(out_dir: Path, weights: str) -> bool:
    """Whether `out_dir` holds a finished export of the weights with this SHA-256."""
    manifest_file = out_dir / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    quantization = manifest.get("quantization") or {}
    return (
        manifest.get("format") == EXPORT_FORMAT
        and manifest.get("weights_sha256") == weights
        # An export quantised with other settings is rebuilt rather than silently reused.
        and all(quantization.get(key) == value for key, value in QUANTIZATION.items())
        and all((out_dir / name).is_file() for name in (FP32_FILE, INT8_FILE, "tokenizer.json"))
    )


def export_encoder(model_path: Path, out_dir: Path) -> Path:
    """Export the folder's transformer to ONNX (fp32 and int8) in `out_dir`, once.

    Reuses `out_dir` when it already holds these weights' export. Otherwise builds in a
    temporary sibling folder and renames it into place; when another process got there
    first, its export is kept and this one is discarded. Never touches the network.
    """
    pipeline = read_sentence_pipeline(model_path)
    weights = weights_sha256(pipeline.transformer_dir)
    if is_complete_export(out_dir, weights):
        return out_dir
    require_onnx_runtime()
    return build_once(
        out_dir,
        lambda folder: is_complete_export(folder, weights),
        lambda staging: _build_export(pipeline, weights, staging),
    )


def require_onnx_runtime() -> None:
    """Fail with one line when the optional ONNX packages are missing."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as error:
        raise ConfigError(f"the ONNX encoder needs onnxruntime: {INSTALL_HINT}") from error


def _build_export(pipeline: SentencePipeline, weights: str, staging: Path) -> None:
    """Write the fp32 model, its int8 copy, the tokenizer and the manifest (last) to `staging`."""
    use_offline_hub()
    try:
        from optimum.exporters.onnx import main_export
    except ImportError as error:
        raise ConfigError(f"exporting the encoder to ONNX needs optimum: {INSTALL_HINT}") from error
    from transformers import AutoTokenizer

    started = time.perf_counter()
    with quiet_exporter():
        # optimum traces the model with the TorchScript exporter (no onnxscript needed),
        # gives it dynamic batch and sequence axes and checks ORT against PyTorch.
        main_export(
            str(pipeline.transformer_dir),
            staging,
            task="feature-extraction",
            library_name="transformers",
            local_files_only=True,
            device="cpu",
        )
        quantize_int8(staging / FP32_FILE, staging / INT8_FILE)
    AutoTokenizer.from_pretrained(str(pipeline.transformer_dir)).save_pretrained(str(staging))
    manifest = {
        "format": EXPORT_FORMAT,
        "weights_sha256": weights,
        "model_type": _read_json(pipeline.transformer_dir / "config.json").get("model_type"),
        "pooling": pipeline.pooling,
        "normalize": True,
        "max_seq_length": pipeline.max_seq_length,
        "do_lower_case": pipeline.do_lower_case,
        "files": {"fp32": FP32_FILE, "int8": INT8_FILE},
        "quantization": {"method": "onnxruntime.quantize_dynamic", **QUANTIZATION},
        "opset": _opset(staging / FP32_FILE),
        "versions": package_versions(),
        "export_seconds": round(time.perf_counter() - started, 1),
    }
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _is_preprocessing_hint(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Please consider to run pre-processing")


@contextlib.contextmanager
def quiet_exporter():
    """Silence the exporter's known, harmless chatter; real errors still raise."""
    root = logging.getLogger()
    # quantize_dynamic logs a hint to pre-process the graph through the root logger (which
    # would also configure logging if nothing had); its shape inference fails on this graph.
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    root.addFilter(_is_preprocessing_hint)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the one needing onnxscript, and
        # tracing turns shape arithmetic into constants; the dynamic axes and optimum's
        # validation run show the graph still handles every batch and length.
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        with contextlib.suppress(ImportError):
            from torch.jit import TracerWarning

            warnings.filterwarnings("ignore", category=TracerWarning)
        try:
            yield
        finally:
            root.removeFilter(_is_preprocessing_hint)
            if guard is not None:
                root.removeHandler(guard)


def _opset(model_file: Path) -> int | None:
    import onnx

    model = onnx.load(str(model_file), load_external_data=False)
    return next(
        (entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), None
    )
