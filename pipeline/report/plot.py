"""`reports/sources.png`: the dot-and-whisker chart of the index per source, for slides."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.io import atomic_output

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def save_index_chart(
    sources: dict[str, dict], path: Path, proposition: str, confidence: float
) -> None:
    """Model index with its interval per source, the shrunk estimate and the gold index."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(sources)
    rows = range(len(names))
    figure, axes = plt.subplots(figsize=(8, 1.2 + 0.55 * len(names)), dpi=120)
    axes.axvline(0, color="#999999", linewidth=1)
    for row, name in zip(rows, names, strict=True):
        summary = sources[name]
        axes.plot([summary["ci_low"], summary["ci_high"]], [row, row], color="#333333", lw=2)
        axes.plot(summary["stance_index"], row, "o", color="#1f4e79", markersize=8)
        axes.plot(summary["shrunk_index"], row, "|", color="#c55a11", markersize=14, mew=2)
        gold = summary["gold"]["stance_index"]
        if gold is not None:
            axes.plot(gold, row, "D", mfc="none", mec="#2e7d32", markersize=8, mew=1.5)
    axes.set_yticks(list(rows), [textwrap.shorten(n, 40) for n in names])
    axes.invert_yaxis()
    axes.set_xlim(-1.05, 1.05)
    axes.set_xlabel("stance index: against (−1) … favor (+1)")
    axes.set_title(textwrap.shorten(f"Stance on “{proposition}”", 90), fontsize=10)
    axes.plot([], [], "o", color="#1f4e79", label=f"model index ({confidence:.0%} CI)")
    axes.plot([], [], "|", color="#c55a11", mew=2, markersize=10, label="shrunk")
    axes.plot([], [], "D", mfc="none", mec="#2e7d32", label="gold labels")
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    save_png(figure, path)


def save_png(figure: Figure, path: Path) -> None:
    """Write `figure` as a PNG whose bytes depend on the figure only (no software or date
    metadata), atomically, and close it."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    with atomic_output(path) as stream:
        stream.write(buffer.getvalue())
