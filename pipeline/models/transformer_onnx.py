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

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.encoders.base import EncodingOptions, use_offline_hub
from pipeline.encoders.onnx_cache import (
    INSTALL_HINT,
    QUANTIZATION,
    build_once,
    open_cpu_session,
    package_versions,
    quantize_int8,
)
from pipeline.encoders.onnx_export import quiet_exporter
from pipeline.errors import ConfigError
from pipeline.io import display_path

log = logging.getLogger(__name__)

EXPORT_FOLDER = "onnx-classifier"  # beside the encoder's `onnx/` in the cache root
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
MANIFEST_FILE = "export.json"
# Bump when the export's layout or content changes: older folders are then rebuilt.
EXPORT_FORMAT = 1
# Config entries that do not change what the network computes.
_IRRELEVANT_CONFIG = ("architectures", "transformers_version", "dtype", "torch_dtype")


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
            f"{INSTALL_HINT}"
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
    return build_once(
        out_dir,
        lambda folder: is_complete_export(folder, weights),
        lambda staging: _build_export(network, weights, staging),
    )


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
        "versions": package_versions(),
        "export_seconds": round(time.perf_counter() - started, 1),
    }
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _export_graphs(saved: Path, staging: Path) -> None:
    """The fp32 graph of the network saved in `saved`, and its int8 copy, into `staging`."""
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
        quantize_int8(staging / FP32_FILE, staging / INT8_FILE)


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
        self.session = open_cpu_session(
            export_dir / (INT8_FILE if quantized else FP32_FILE), self.threads
        )

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
