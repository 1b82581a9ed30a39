"""What the two ONNX exports share (the encoder's and the fine-tuned classifiers'): the
int8 settings, building a folder once for every process that reads it, and opening a
CPU session.

An export is built in a temporary sibling folder and renamed into place, so a reader
never sees half of one; when another process finished first, its export is kept.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.encoders.base import available_cores
from pipeline.errors import OutputError
from pipeline.io import display_path

# Per-channel int8 weights. Measured on MiniLM and the seed texts (AVX2, no VNNI):
# per-tensor weights drop the worst cosine to 0.92, per-channel keeps it at 0.987;
# 7-bit weights (reduce_range, the usual guard against u8s8 saturation on such CPUs)
# made it slightly worse (0.983), so full 8-bit weights are kept.
QUANTIZATION = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False}
# Recorded in each export's manifest: the versions that built it.
VERSIONED_PACKAGES = ("torch", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime")
INSTALL_HINT = "install the `onnx` extra (pip install 'stance[onnx]')"
# A temporary export folder untouched this long belongs to a process that died.
_STALE_SECONDS = 3600


def package_versions() -> dict[str, str | None]:
    """The installed version of each package in VERSIONED_PACKAGES (None: not installed)."""
    return {name: _version(name) for name in VERSIONED_PACKAGES}


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def quantize_int8(fp32_file: Path, int8_file: Path) -> None:
    """Write the dynamic int8 quantisation (QUANTIZATION) of `fp32_file` to `int8_file`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32_file),
        str(int8_file),
        weight_type=getattr(QuantType, QUANTIZATION["weight_type"]),
        per_channel=QUANTIZATION["per_channel"],
        reduce_range=QUANTIZATION["reduce_range"],
    )


def build_once(
    out_dir: Path, is_complete: Callable[[Path], bool], build: Callable[[Path], None]
) -> Path:
    """`out_dir` after `build(staging)` wrote a complete export into a temporary sibling
    folder that is then renamed into place; `is_complete(folder)` says whether a folder
    already holds a finished export (another process's, which then wins)."""
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
        build(staging)
        _publish(staging, out_dir, is_complete)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _publish(staging: Path, out_dir: Path, is_complete: Callable[[Path], bool]) -> None:
    """Rename `staging` to `out_dir`, unless a complete export won the race."""
    for _attempt in range(3):
        try:
            staging.rename(out_dir)
            return
        except OSError as error:
            if is_complete(out_dir):
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


def open_cpu_session(model_file: Path, threads: int | None) -> Any:
    """An ONNX Runtime session on the CPU: `threads` intra-op threads (None: every usable
    core), one inter-op thread, sequential execution, every graph optimisation."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(
        str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
    )
