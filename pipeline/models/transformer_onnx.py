"""The fine-tuned classifiers (`transformer`, `cross_encoder`) on ONNX Runtime.

`stance score --backend onnx|onnx-int8` runs only the network's forward pass here;
the windows, the pair encoding and the pooling over windows stay the classifier's.
The network is exported once per set of weights: saved as a Hugging Face folder,
converted with optimum's exporter (task `text-classification`, offline), quantised
to int8 with `onnxruntime.quantization.quantize_dynamic`, and written with an
`export.json` manifest (last) into `<cache_root>/onnx-classifier/<weights hash>/`.
The folder is built under a temporary sibling name and renamed into place, so a
crash leaves no half export behind; a folder whose manifest does not name these
weights, or whose graphs differ in size from what it records, is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.encoders.base import EncodingOptions, available_cores, use_offline_hub
from pipeline.encoders.onnx_export import quiet_exporter
from pipeline.errors import ConfigError, OutputError
from pipeline.io import display_path

log = logging.getLogger(__name__)

EXPORT_FOLDER = "onnx-classifier"  # beside the encoder's `onnx/` in the cache root
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
MANIFEST_FILE = "export.json"
# Bump when the export's layout or content changes: older folders are then rebuilt.
EXPORT_FORMAT = 1
# The encoder's int8 settings (per-channel, full 8-bit weights), measured on MiniLM.
QUANTIZATION = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False}
# A temporary export folder untouched this long belongs to a process that died.
_STALE_SECONDS = 3600
# Config entries that do not change what the network computes.
_IRRELEVANT_CONFIG = ("architectures", "transformers_version", "dtype", "torch_dtype")
_VERSIONED_PACKAGES = ("torch", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime")
_INSTALL_HINT = "install the `onnx` extra (pip install 'stance[onnx]')"


def network_sha256(network: Any) -> str:
    """SHA-256 of a network's weights (names, dtypes, shapes, bytes) and architecture."""
    config = {
        key: value
        for key, value in network.config.to_dict().items()
        if not key.startswith("_") and key not in _IRRELEVANT_CONFIG
    }
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode("utf-8"))
    for name, tensor in sorted(network.state_dict().items()):
        values = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{values.dtype}:{tuple(values.shape)}\n".encode())
        digest.update(values.numpy().tobytes())
    return digest.hexdigest()


def classifier_export_dir(cache_root: Path, weights: str) -> Path:
    """Where the export of these weights lives: `cache_root/onnx-classifier/<16 hex>`."""
    return cache_root / EXPORT_FOLDER / weights[:16]


def require_onnx_runtime() -> None:
    """Fail with one line when the optional ONNX packages are missing."""
    try:
        import onnxruntime  # noqa: F401
        from optimum.exporters.onnx import main_export  # noqa: F401
    except ImportError as error:
        raise ConfigError(
            f"the ONNX backend of the fine-tuned classifiers needs onnxruntime and optimum: "
            f"{_INSTALL_HINT}"
        ) from error


def is_complete_export(out_dir: Path, weights: str) -> bool:
    """Whether `out_dir` holds a finished, undamaged export of these weights."""
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    sizes = manifest.get("sizes") or {}
    quantization = manifest.get("quantization") or {}
    return (
        manifest.get("format") == EXPORT_FORMAT
        and manifest.get("weights_sha256") == weights
        and all(quantization.get(key) == value for key, value in QUANTIZATION.items())
        and all(_size(out_dir / name) == sizes.get(name) for name in (FP32_FILE, INT8_FILE))
    )


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def export_classifier(network: Any, out_dir: Path, weights: str) -> Path:
    """Export `network` (fp32 and int8) into `out_dir`, unless it already holds it.

    Builds in a temporary sibling folder and renames it into place; when another
    process got there first, its export is kept. Never touches the network.
    """
    if is_complete_export(out_dir, weights):
        return out_dir
    require_onnx_runtime()
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_leftovers(out_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    except OSError as error:
        raise OutputError(
            f"cannot write the ONNX export to {display_path(out_dir)}: {error}"
        ) from error
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the export is a shared cache
        _build_export(network, weights, staging)
        _publish(staging, out_dir, weights)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _build_export(network: Any, weights: str, staging: Path) -> None:
    """Write the fp32 graph, its int8 copy and the manifest (last) into `staging`."""
    use_offline_hub()
    from transformers.utils import logging as hf_logging

    started = time.perf_counter()
    saved = staging / "network"
    network.save_pretrained(saved, safe_serialization=True)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # optimum hands transformers a deprecated `torch_dtype`
    try:
        _export_graphs(saved, staging)
    finally:
        hf_logging.set_verbosity(verbosity)
    shutil.rmtree(saved)
    manifest = {
        "format": EXPORT_FORMAT,
        "weights_sha256": weights,
        "model_type": network.config.model_type,
        "num_labels": network.config.num_labels,
        "files": {"fp32": FP32_FILE, "int8": INT8_FILE},
        "sizes": {name: (staging / name).stat().st_size for name in (FP32_FILE, INT8_FILE)},
        "quantization": {"method": "onnxruntime.quantize_dynamic", **QUANTIZATION},
        "versions": {name: _version(name) for name in _VERSIONED_PACKAGES},
        "export_seconds": round(time.perf_counter() - started, 1),
    }
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _export_graphs(saved: Path, staging: Path) -> None:
    """The fp32 graph of the network saved in `saved`, and its int8 copy, into `staging`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from optimum.exporters.onnx import main_export

    with quiet_exporter():
        # optimum traces the network, gives it dynamic batch and sequence axes and
        # checks ONNX Runtime's logits against PyTorch's.
        main_export(
            str(saved),
            staging,
            task="text-classification",
            library_name="transformers",
            local_files_only=True,
            device="cpu",
        )
        quantize_dynamic(
            staging / FP32_FILE,
            staging / INT8_FILE,
            weight_type=getattr(QuantType, QUANTIZATION["weight_type"]),
            per_channel=QUANTIZATION["per_channel"],
            reduce_range=QUANTIZATION["reduce_range"],
        )


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _publish(staging: Path, out_dir: Path, weights: str) -> None:
    """Rename `staging` to `out_dir`, unless a complete export of the same weights won the race."""
    for _attempt in range(3):
        try:
            staging.rename(out_dir)
            return
        except OSError as error:
            if is_complete_export(out_dir, weights):
                return  # another process finished first; the caller discards `staging`
            failure = error
        _move_aside(out_dir)  # an incomplete, damaged or outdated export stands in the way
    raise OutputError(f"cannot put the ONNX export in place at {display_path(out_dir)}: {failure}")


def _move_aside(out_dir: Path) -> None:
    """Rename `out_dir` out of the way (atomic for readers), then delete it."""
    aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    with contextlib.suppress(FileNotFoundError):  # another process moved it already
        out_dir.rename(aside / out_dir.name)
    shutil.rmtree(aside, ignore_errors=True)


def _remove_stale_leftovers(out_dir: Path) -> None:
    """Delete temporary folders of exports that crashed long ago; young ones may be in use."""
    now = time.time()
    for pattern in (f".{out_dir.name}.tmp-*", f".{out_dir.name}.old-*"):
        for leftover in out_dir.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime > _STALE_SECONDS:
                    shutil.rmtree(leftover, ignore_errors=True)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32, as the PyTorch path computes it."""
    shifted = logits.astype(np.float32) - logits.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


class OnnxClassifier:
    """One exported network on ONNX Runtime (CPU): window probabilities of padded batches."""

    def __init__(self, network: Any, options: EncodingOptions) -> None:
        self.network = network
        self.key = _runner_key(options)
        self.threads = options.threads
        require_onnx_runtime()
        weights = network_sha256(network)
        export_dir = classifier_export_dir(options.cache_root, weights)
        if not is_complete_export(export_dir, weights):
            log.info(
                "Exporting the classifier to ONNX (done once; kept in %s)",
                display_path(export_dir),
            )
        export_classifier(network, export_dir, weights)
        quantized = options.backend == "onnx-int8"
        self.session = self._open_session(export_dir / (INT8_FILE if quantized else FP32_FILE))

    def serves(self, network: Any, options: EncodingOptions) -> bool:
        """Whether this runner is the one for `network` under `options`."""
        return self.network is network and self.key == _runner_key(options)

    def probabilities(self, batch: dict[str, Any]) -> np.ndarray:
        """Softmax of the logits of one padded batch (the collator's torch tensors)."""
        columns = {name: np.asarray(values, dtype=np.int64) for name, values in batch.items()}
        ids = columns["input_ids"]
        feed = {
            node.name: columns.get(node.name, np.zeros_like(ids))
            for node in self.session.get_inputs()
        }
        return softmax(self.session.run(None, feed)[0])

    def _open_session(self, model_file: Path) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or available_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(
            str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )


def _runner_key(options: EncodingOptions) -> tuple[Any, ...]:
    """What a runner depends on: the graph (precision, cache folder) and its threads."""
    return options.backend, options.cache_root, options.threads


def onnx_classifier(
    current: OnnxClassifier | None, network: Any, options: EncodingOptions
) -> OnnxClassifier:
    """`current` if it runs `network` under `options`, else a new runner (exported if need be)."""
    if current is not None and current.serves(network, options):
        return current
    return OnnxClassifier(network, options)
