"""The same floating-point kernels on every CPU type: tracked outputs do not move.

On an AVX-512 machine PyTorch and OpenBLAS would pick other kernels than on an
AVX2-only one, and MiniLM's vectors would differ in the last bits. `pipeline` pins
the AVX2 path before either library loads, whatever the environment asks for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.kernels import OPT_OUT, PINNED, cpu_has_avx2, pin_kernels
from tests.conftest import REPO

# What an AVX-512 CPU (or a user) would choose, and what an AVX2-only CPU chooses.
WIDE = {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}
WIDE |= {"OPENBLAS_CORETYPE": "SkylakeX"}
NARROW = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
NARROW |= {"OPENBLAS_CORETYPE": "Haswell"}

ENCODE = """
import json, sys
import pipeline  # pins the kernels first
import numpy as np
from pipeline.encoders.torch_encoder import SentenceEncoder
texts = json.loads(sys.stdin.read())
np.save(sys.argv[1], SentenceEncoder().encode(texts))
"""


def test_the_pin_overrides_what_the_machine_chose() -> None:
    environ = dict(WIDE)
    pin_kernels(environ, avx2=True)
    assert {name: environ[name] for name in PINNED} == PINNED


def test_the_pin_can_be_turned_off_and_skips_cpus_without_avx2() -> None:
    off = {OPT_OUT: "1", **WIDE}
    pin_kernels(off, avx2=True)
    assert off == {OPT_OUT: "1", **WIDE}
    old: dict[str, str] = {}
    pin_kernels(old, avx2=False)
    assert old == {}


def test_cpuinfo_is_read_for_avx2(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse2 avx fma avx2 avx512f\n")
    assert cpu_has_avx2(cpuinfo)
    cpuinfo.write_text("processor : 0\nflags : fpu sse2 avx\n")
    assert not cpu_has_avx2(cpuinfo)
    assert not cpu_has_avx2(tmp_path / "missing")


def _vectors(tmp_path: Path, name: str, environ: dict[str, str]) -> np.ndarray:
    texts = [
        "Moscow and Beijing signed eleven agreements and praised a friendship without limits.",
        "Russian officials grumble that Chinese banks refuse their payments.",
        "The harbour reopened after the storm on Tuesday.",
    ] * 4
    out = tmp_path / f"{name}.npy"
    env = {k: v for k, v in os.environ.items() if k not in (*PINNED, OPT_OUT)}
    env |= {"HF_HUB_OFFLINE": "1", **environ}
    subprocess.run(
        [sys.executable, "-c", ENCODE, str(out)],
        input=json.dumps(texts),
        text=True,
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return np.load(out)


@pytest.mark.slow
@pytest.mark.skipif(not cpu_has_avx2(), reason="the pin applies to AVX2 CPUs only")
def test_vectors_are_bit_identical_whatever_kernels_the_environment_asks_for(tmp_path: Path):
    wide = _vectors(tmp_path, "wide", WIDE)
    narrow = _vectors(tmp_path, "narrow", NARROW)
    assert np.array_equal(wide, narrow)


MODEL_ID = """
{first}
import pipeline
from pipeline.encoders.torch_encoder import SentenceEncoder
print(SentenceEncoder().model_id)
"""


def _model_id(first: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in (*PINNED, OPT_OUT)}
    env |= {"HF_HUB_OFFLINE": "1", **WIDE}
    done = subprocess.run(
        [sys.executable, "-c", MODEL_ID.format(first=first)],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.mark.slow
@pytest.mark.skipif(
    "avx512f" not in Path("/proc/cpuinfo").read_text(errors="replace")
    if Path("/proc/cpuinfo").is_file()
    else True,
    reason="needs a CPU whose own PyTorch kernels are not the AVX2 ones",
)
def test_vectors_of_unpinned_kernels_are_cached_apart() -> None:
    """PyTorch picks its kernels at its first operation: a process that ran one before
    `pipeline` pinned them runs PyTorch's own kernels. Its encoder id says so, so its
    vectors never mix with pinned ones in the cache; importing torch first is harmless."""
    assert _model_id("import torch").endswith("/torch")
    assert _model_id("import torch; torch.ones(8).exp().sum()").endswith("/torch/native")
