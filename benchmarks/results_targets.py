"""The benchmarks' targets, and how RESULTS.md lists a part's targets (for results_md.py)."""

from __future__ import annotations

from dataclasses import dataclass

from results_text import table

# The targets.
MAX_OVERHEAD = 0.15  # end-to-end default model over the raw encoder, same backend
MIN_FAST_RATE = 150.0  # default model's paragraphs/s on its fastest backend
MIN_ZERO_SHOT_RATIO = 100.0  # default model's paragraphs/s over zero-shot's
LARGE_CORPUS = 100_000  # paragraphs
MAX_PEAK_RSS_MB = 1536.0  # 1.5 GiB, in MiB
MAX_MARGINAL_DRIFT = 1.25  # time linear: last step's s/paragraph within x1.25 of the first's
MAX_MEMORY_GROWTH = 1.25  # memory flat: largest run's peak within x1.25 of the smallest's
MAX_CLEAN_REPRO_S = 900.0  # the default model's training included (15 minutes on 2 cores)
MAX_NOOP_REPRO_S = 5.0
MAX_F1_CHANGE_POINTS = 1.0


@dataclass(frozen=True)
class Target:
    """One target: what was asked, what was measured, and whether it was met."""

    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured
    limits: str | None = None  # what limits it, for a missed target

    @property
    def status(self) -> str:
        return {True: "met", False: "**NOT met**", None: "not measured"}[self.met]


def targets_block(targets: list[Target]) -> list[str]:
    """The targets table of a part, then a paragraph per missed target."""
    lines = table(
        ("target", "goal", "measured", "status"),
        ((t.name, t.goal, t.measured, t.status) for t in targets),
    )
    for target in targets:
        if target.met is False:
            lines += [f"**What limits it ({target.name}).** {target.limits or 'No data.'}", ""]
    return lines
