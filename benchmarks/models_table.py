"""The one table of every model: development scores, seeds LOSO and scoring speed.

Rows come from what was measured, never typed in: `metrics/eval.json` (the default,
as `dvc repro` evaluates and calibrates it), `metrics/zoo/<name>.json` (`make
compare`, evaluated and calibrated the same way) and, for a model with neither,
its fit on every training row in `benchmarks/results/dev_fit.json` (one fit,
uncalibrated, no seeds LOSO; the run with params.yaml's settings, not a variant).
Paragraphs/s are `stance score` end to end from
`benchmarks/results/score_throughput.json` (where a model is in both, the first file
wins; the static tier's and the cascade's from `static_tier.json` when that run has
none), with the CPU they were measured on.

`python benchmarks/models_table.py` rewrites the table between the markers in
README.md and reports/models.md; `--check` exits 1 if either is out of date.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Collection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- models-table:start -->", "<!-- models-table:end -->"
FILES = (Path("README.md"), Path("reports/models.md"))
# Read in this order; a model's rate on a backend comes from the first file that has it.
SPEED_FILES = (
    "benchmarks/results/score_throughput.json",
    "benchmarks/results/static_tier.json",
)
HEADER = (
    "| model | dev macro-F1 [95%] | F_avg | F1 favor / against / none | ECE "
    "| article sign | seeds LOSO | paragraphs/s torch / onnx-int8 | measured by |"
)


def _read(path: Path) -> dict | None:
    """A JSON file, or None when it is missing."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def collect_rows(root: Path) -> list[dict]:
    """One row per model: its development and seeds scores and where they come from."""
    default = _read(root / "metrics/eval.json")
    rows: dict[str, dict] = {}
    if default and default.get("dev"):
        rows[default["model"]] = _metrics_row(default, "`dvc repro`, calibrated", default=True)
    for path in sorted((root / "metrics/zoo").glob("*.json")):
        zoo = _read(path)
        if zoo and zoo.get("dev") and zoo["model"] not in rows:
            rows[zoo["model"]] = _metrics_row(zoo, "`make compare`, calibrated")
    fits = _read(root / "benchmarks/results/dev_fit.json") or {"runs": []}
    configured = _configured_settings(root)
    recorded = {run["model"] for run in fits["runs"] if "settings" in run}
    for run in fits["runs"]:
        if (
            run.get("use_press", True)
            and run["model"] not in rows
            and _as_configured(run, configured, recorded)
        ):
            rows[run["model"]] = _fit_row(run)
    rates = throughput(root)
    for name, row in rows.items():
        row["rates"] = rates.get(name, {})
    return sorted(rows.values(), key=lambda row: (-row["macro_f1"], row["model"]))


def _configured_settings(root: Path) -> dict[str, dict] | None:
    """Each model's settings as `root/params.yaml` gives them (None: no params file)."""
    path = root / "params.yaml"
    if not path.is_file():
        return None
    from pipeline.config import load_params
    from pipeline.models.registry import model_names

    models = load_params(path).train.models
    return {name: getattr(models, name).model_dump(mode="json") for name in model_names()}


def _as_configured(
    run: dict, configured: dict[str, dict] | None, recorded: Collection[str] = ()
) -> bool:
    """Whether a one-fit run measured the model as params.yaml configures it: a run
    with other settings (`dev_fit.py --set`) is a variant, reported in its own file. A
    run from before runs recorded their settings counts when it bears the model's name
    and no run of that model in `recorded` says which settings it had."""
    if "settings" not in run:
        return run.get("name", run["model"]) == run["model"] and run["model"] not in recorded
    if configured is None:
        return run.get("name", run["model"]) == run["model"]
    return run["settings"] == configured.get(run["model"])


def _metrics_row(metrics: dict, source: str, *, default: bool = False) -> dict:
    dev = metrics["dev"]
    return {
        "model": metrics["model"],
        "default": default,
        "macro_f1": dev["macro_f1"],
        "interval": (dev["macro_f1_interval"]["low"], dev["macro_f1_interval"]["high"]),
        "f_avg": dev["f_avg"],
        "f1": [dev["per_class"][label]["f1"] for label in ("favor", "against", "none")],
        "ece": dev["ece"],
        "signs": (dev["articles"]["sign_right"], dev["articles"]["leaning"]),
        "seeds": metrics["macro_f1"],
        "source": source,
    }


def _fit_row(run: dict) -> dict:
    return {
        "model": run["model"],
        "default": False,
        "macro_f1": run["macro_f1"],
        "interval": (run["macro_f1_interval"]["low"], run["macro_f1_interval"]["high"]),
        "f_avg": run["f_avg"],
        "f1": [run["f1"][label] for label in ("favor", "against", "none")],
        "ece": run["ece"],
        "signs": (run["articles"]["sign_right"], run["articles"]["leaning"]),
        "seeds": None,
        "source": "one fit, uncalibrated (`benchmarks/dev_fit.py`)",
    }


def throughput(root: Path) -> dict[str, dict[str, tuple[float, float | None, str]]]:
    """model -> backend -> (paragraphs/s, that over the raw encoder in the same run, CPU)."""
    found: dict[str, dict[str, tuple[float, float | None, str]]] = {}
    for path in SPEED_FILES:
        result = _read(root / path)
        if not result:
            continue
        cpu = _cpu(result.get("machine", {}))
        raw = {
            m["backend"]: m["paragraphs_per_s"]
            for m in result["measurements"]
            if m["kind"] == "raw_encoder"
        }
        for m in result["measurements"]:
            if m["kind"] != "stance_score":
                continue
            backends = found.setdefault(m["model"], {})
            if m["backend"] not in backends:  # the first file wins: the default's own run
                share = m["paragraphs_per_s"] / raw[m["backend"]] if raw.get(m["backend"]) else None
                backends[m["backend"]] = (m["paragraphs_per_s"], share, cpu)
    return found


def _cpu(machine: dict) -> str:
    """The CPU's name and its AVX-512 / VNNI flags as recorded beside a rate."""
    flags = machine.get("cpu_flags")
    if flags is None:
        return f"{machine.get('cpu_model', 'unknown CPU')}, flags not recorded"
    listed = [name for name in ("avx512f", "avx512_vnni", "avx_vnni") if flags.get(name)]
    return f"{machine.get('cpu_model')}, " + (" ".join(listed) if listed else "AVX2 only")


def _rate(rates: dict, backend: str) -> str:
    if backend not in rates:
        return "–"
    rate, share, _ = rates[backend]
    text = f"{rate:,.1f}" if rate < 1000 else f"{rate:,.0f}"
    return text + (f" ({share:.2f}×)" if share is not None else "")


def render(rows: list[dict]) -> str:
    """The markdown table and its notes on the CPUs."""
    lines = [HEADER, "|---|---|---|---|---|---|---|---|---|"]
    cpus: set[str] = set()
    best = max((row["macro_f1"] for row in rows), default=None)
    for row in rows:
        name = f"`{row['model']}`" + (" (default)" if row["default"] else "")
        score = f"{row['macro_f1']:.3f}"
        if row["macro_f1"] == best:
            name, score = f"**{name}**", f"**{score}**"
        low, high = row["interval"]
        right, leaning = row["signs"]
        seeds = "–" if row["seeds"] is None else f"{row['seeds']:.3f}"
        speed = f"{_rate(row['rates'], 'torch')} / {_rate(row['rates'], 'onnx-int8')}"
        cpus.update(cpu for _, _, cpu in row["rates"].values())
        f1 = " / ".join(f"{value:.3f}" for value in row["f1"])
        lines.append(
            f"| {name} | {score} [{low:.3f}, {high:.3f}] | {row['f_avg']:.3f} | {f1} "
            f"| {row['ece']:.3f} | {right} of {leaning} | {seeds} | {speed} | {row['source']} |"
        )
    lines += [
        "",
        "Paragraphs/s: `stance score` end to end; in brackets, that rate over the raw MiniLM "
        "encoder's on the same backend in the same run. Measured on: "
        + ("; ".join(sorted(cpus)) if cpus else "nothing yet")
        + ".",
    ]
    return "\n".join(lines)


def replace_block(text: str, table: str, where: str, *, prepend: bool = False) -> str:
    """`text` with the part between the markers replaced by `table` (without markers:
    the block put first when `prepend`, an error otherwise)."""
    if START not in text or END not in text:
        if prepend:
            return f"{START}\n{table}\n{END}\n\n{text}"
        raise SystemExit(f"{where}: no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def _write_atomically(path: Path, text: str) -> None:
    """Write beside `path`, then rename over it."""
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    Path(staging).chmod(0o644)
    Path(staging).replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a table is stale")
    parser.add_argument(
        "--prepend", action="store_true", help="put the table first in a file without markers"
    )
    parser.add_argument("files", nargs="*", type=Path, default=list(FILES))
    arguments = parser.parse_args(argv)
    table = render(collect_rows(REPO))
    stale = []
    for file in arguments.files:
        path = file if file.is_absolute() else REPO / file
        text = path.read_text(encoding="utf-8")
        updated = replace_block(text, table, str(file), prepend=arguments.prepend)
        if updated != text:
            stale.append(str(file))
            if not arguments.check:
                _write_atomically(path, updated)
    if arguments.check and stale:
        print(f"out of date: {', '.join(stale)}; run python benchmarks/models_table.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
