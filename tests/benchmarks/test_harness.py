"""benchmarks/harness.py records the CPU flags that decide MiniLM's speed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("harness", BENCHMARKS / "harness.py")
harness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(harness)

CPUINFO = """processor\t: 0
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni
processor\t: 1
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni amx_int8
"""


def test_flags_of_the_first_cpu_are_read() -> None:
    assert harness.cpu_flags(CPUINFO) == {
        "avx2": True,
        "avx512f": True,
        "avx512_vnni": True,
        "avx_vnni": False,
        "amx_int8": False,  # only the second CPU lists it
    }


def test_no_flags_line_means_all_false() -> None:
    assert not any(harness.cpu_flags("model name\t: something\n").values())
