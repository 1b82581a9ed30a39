"""The same floating-point kernels on every x86 CPU, so tracked outputs do not move.

PyTorch (ATen and oneDNN) and OpenBLAS pick their kernels from the CPU: an AVX-512
Xeon and an AVX2-only EPYC add the same numbers in different orders, and MiniLM's
vectors differ in the last bits (up to 2e-7 measured here), which moves probabilities,
calibration and every hash in `dvc.lock`. Before either library loads, `pin_kernels`
sets each one's AVX2 code path, which every AVX2 CPU runs alike, whatever the machine
or its environment chose: the pipeline's outputs are then the same on all of them
(measured in docs/reproducibility.md).

`STANCE_NATIVE_KERNELS=1` turns the pin off (each CPU's fastest kernels; outputs then
differ between CPU types in the last bits). CPUs without AVX2 (and other
architectures) are left alone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

PINNED = {
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's vectorised operators
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # PyTorch's matrix products (oneDNN)
    "OPENBLAS_CORETYPE": "Haswell",  # NumPy/SciPy's BLAS (OpenBLAS's AVX2 kernels)
}
OPT_OUT = "STANCE_NATIVE_KERNELS"
PYTORCH_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")


def cpu_has_avx2(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU advertises AVX2 and FMA (Linux); False where that cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return {"avx2", "fma"} <= set(flags.split())


def pin_kernels(
    environ: MutableMapping[str, str] = os.environ, *, avx2: bool | None = None
) -> None:
    """Set `PINNED` in `environ` where unset (before NumPy or PyTorch is imported)."""
    if environ.get(OPT_OUT) == "1":
        return
    if not (cpu_has_avx2() if avx2 is None else avx2):
        return
    environ.update(PINNED)


def kernel_tag(environ: Mapping[str, str] = os.environ) -> str:
    """`""` when PyTorch runs on the pinned kernels, else `"/native"`: part of the encoder's
    id, so the cache never mixes vectors computed on different kernels."""
    pinned = all(environ.get(name) == PINNED[name] for name in PYTORCH_VARIABLES)
    torch = sys.modules.get("torch")
    if pinned and torch is not None:  # PyTorch picks its kernels at its first operation
        pinned = torch.backends.cpu.get_cpu_capability() == "AVX2"
    return "" if pinned else "/native"
