"""Numbers, tables and machine names as RESULTS.md writes them (for results_md.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def machine_words(result: dict | None) -> str:
    """The machine a result was measured on, as its JSON recorded it: "2 cores (AMD EPYC)"."""
    machine = (result or {}).get("machine") or {}
    cpu, cores = machine.get("cpu_model"), machine.get("cpus_usable") or machine.get("cpu_count")
    if not cpu:
        return "the measuring machine"
    return f"{cores} cores ({cpu})" if cores else str(cpu)


def cpu_text(machine: dict) -> str:
    """A CPU's name with the speed-deciding flags it recorded (avx512f, avx512_vnni, amx)."""
    name = machine.get("cpu_model", "–")
    flags = machine.get("cpu_flags")
    if flags is None:
        return f"{name} (flags not recorded)"
    listed = [flag for flag in ("avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if flags[flag]]
    base = "avx2" if flags.get("avx2") else "no avx2"
    return f"{name} ({', '.join([base, *listed])})"


def number(value: float | None, digits: int = 1) -> str:
    """A number for a table; a dash when missing."""
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def percent(share: float | None, digits: int = 0) -> str:
    return "–" if share is None else f"{share * 100:.{digits}f}%"


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    """A markdown table."""
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]
