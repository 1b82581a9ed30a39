"""RESULTS.md's sections on how time and memory grow: 3. with the corpus, 4. `dvc repro`,
6. with Ray workers, and one long text without sentence breaks."""

from __future__ import annotations

from itertools import pairwise

from results_targets import (
    LARGE_CORPUS,
    MAX_CLEAN_REPRO_S,
    MAX_MARGINAL_DRIFT,
    MAX_MEMORY_GROWTH,
    MAX_NOOP_REPRO_S,
    MAX_PEAK_RSS_MB,
    Target,
    targets_block,
)
from results_text import cpu_text, machine_words, number, percent, table

# --- memory and time scaling ------------------------------------------------------------


def peak_rss(run: dict) -> float | None:
    """The larger of the two peak RSS readings of a run, in MiB."""
    readings = [run.get("peak_rss_mb_polled"), run.get("peak_rss_mb_rusage")]
    readings = [value for value in readings if value]
    return max(readings) if readings else None


def done_runs(memory: dict) -> list[dict]:
    return sorted(
        (run for run in memory.get("runs", []) if run.get("done")),
        key=lambda run: run["paragraphs_requested"],
    )


def marginal_costs(runs: list[dict]) -> list[float]:
    """Seconds per extra paragraph between consecutive runs (start-up cancels out)."""
    return [
        (later["wall_s"] - earlier["wall_s"]) / (later["paragraphs"] - earlier["paragraphs"])
        for earlier, later in pairwise(runs)
        if later["paragraphs"] > earlier["paragraphs"]
    ]


def memory_growth_text(runs: list[dict]) -> str:
    """How peak memory grows with the corpus, and within the largest run."""
    first, last = runs[0], runs[-1]
    grown = (peak_rss(last) or 0) - (peak_rss(first) or 0)
    per_10k = grown / max(last["paragraphs"] - first["paragraphs"], 1) * 10_000
    text = (
        f"Peak RSS goes from {number(peak_rss(first), 0)} MiB at {first['paragraphs']:,} "
        f"paragraphs to {number(peak_rss(last), 0)} MiB at {last['paragraphs']:,}: "
        f"{number(per_10k, 0)} MiB more per 10,000 paragraphs. The smallest run's peak is "
        "roughly the fixed cost (interpreter, libraries, model)."
    )
    timeline = last.get("rss_timeline") or []
    if len(timeline) >= 4:
        picks = [timeline[len(timeline) // 4], timeline[len(timeline) // 2], timeline[-1]]
        text += (
            " During the largest run the process tree held "
            + ", ".join(f"{number(mib, 0)} MiB at {number(seconds, 0)} s" for seconds, mib in picks)
            + (
                f" (of {number(last['wall_s'], 0)} s): memory that keeps rising through the run "
                "grows with what has been read; memory that levels off is a fixed cost."
            )
        )
    return text


def memory_targets(memory: dict | None) -> list[Target]:
    rss_name = f"peak RSS at {LARGE_CORPUS:,} paragraphs"
    rss_goal = f"≤ {MAX_PEAK_RSS_MB:,.0f} MiB"
    linear_goal = f"last/first marginal s per paragraph ≤ {MAX_MARGINAL_DRIFT}×"
    flat_goal = f"largest/smallest peak RSS ≤ {MAX_MEMORY_GROWTH}×"
    if not memory:
        return [
            Target(rss_name, rss_goal, "not run", None),
            Target("time linear", linear_goal, "not run", None),
            Target("memory flat", flat_goal, "not run", None),
        ]
    runs = done_runs(memory)
    large = next((r for r in runs if r["paragraphs_requested"] == LARGE_CORPUS), None)
    targets = []
    if large is None:
        missing = next(
            (r for r in memory["runs"] if r["paragraphs_requested"] == LARGE_CORPUS), None
        )
        why = missing.get("reason", "failed") if missing else "size not asked for"
        targets.append(Target(rss_name, rss_goal, f"not done ({why})", None))
    else:
        met = peak_rss(large) <= MAX_PEAK_RSS_MB
        limits = None if met else memory_growth_text(runs)
        targets.append(Target(rss_name, rss_goal, f"{number(peak_rss(large), 0)} MiB", met, limits))
    costs = marginal_costs(runs)
    if len(costs) < 2:
        targets.append(Target("time linear", linear_goal, "needs 3 completed sizes", None))
    else:
        drift = costs[-1] / costs[0]
        met = 1 / MAX_MARGINAL_DRIFT <= drift <= MAX_MARGINAL_DRIFT
        measured = (
            f"{number(costs[0] * 1000)} → {number(costs[-1] * 1000)} ms per paragraph "
            f"({number(drift, 2)}×)"
        )
        limits = None
        if not met:
            limits = (
                "Paragraphs/s by size: "
                + ", ".join(f"{r['paragraphs']:,}: {number(r['paragraphs_per_s'])}" for r in runs)
                + ". Load average before each: "
                + ", ".join(str(r.get("load_average_before", ["–"])[0]) for r in runs)
                + ". Per-paragraph cost that changes with corpus size points at work that grows "
                "with what was already read (or at other load on the machine)."
            )
        targets.append(Target("time linear", linear_goal, measured, met, limits))
    if len(runs) < 2 or not all(peak_rss(r) for r in (runs[0], runs[-1])):
        targets.append(Target("memory flat", flat_goal, "needs 2 completed sizes", None))
    else:
        growth = peak_rss(runs[-1]) / peak_rss(runs[0])
        met = growth <= MAX_MEMORY_GROWTH
        measured = (
            f"{number(growth, 2)}× ({runs[0]['paragraphs']:,} → {runs[-1]['paragraphs']:,} "
            "paragraphs)"
        )
        limits = None if met else memory_growth_text(runs)
        targets.append(Target("memory flat", flat_goal, measured, met, limits))
    return targets


def memory_section(memory: dict | None) -> list[str]:
    lines = ["## 3. Memory and time scaling", ""]
    if memory:
        lines += [
            f"`stance score` as a fresh process per size on an {memory['input']}, model "
            f"{memory['model']}, backend {memory['backend']}, persistent cache off. Wall time "
            "includes process start and model load; peak RSS is the larger of the polled sum "
            "over the process tree and the kernel's maximum for the run.",
            "",
        ]
        rows = []
        for run in memory["runs"]:
            if run.get("done"):
                rows.append(
                    (
                        f"{run['paragraphs_requested']:,}",
                        "yes",
                        number(run["wall_s"]),
                        number(run["paragraphs_per_s"]),
                        number(run.get("peak_rss_mb_polled"), 0),
                        number(run.get("peak_rss_mb_rusage"), 0),
                    )
                )
            else:
                reason = run.get("reason") or f"exit code {run.get('returncode')}"
                rows.append((f"{run['paragraphs_requested']:,}", f"no: {reason}", *["–"] * 4))
        lines += table(
            (
                "paragraphs",
                "done",
                "wall s",
                "paragraphs/s",
                "peak RSS MiB (polled)",
                "peak RSS MiB (rusage)",
            ),
            rows,
        )
        lines += [f"- note: {note}" for note in memory.get("notes", [])]
        lines.append("")
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(memory_targets(memory))


# --- dvc repro --------------------------------------------------------------------------


def stage_text(step: dict) -> str:
    timed = {name: s for name, s in step.get("stages", {}).items() if isinstance(s, (int, float))}
    if not timed:
        return "No per-stage times could be read from the output."
    total = step["seconds"]
    ordered = sorted(timed.items(), key=lambda item: -item[1])
    return (
        "Stages, slowest first: "
        + ", ".join(
            f"{name} {number(seconds)} s ({percent(seconds / total)})" for name, seconds in ordered
        )
        + "."
    )


def repro_targets(repro: dict | None) -> list[Target]:
    clean_name, clean_goal = "`dvc repro` from clean", f"≤ {MAX_CLEAN_REPRO_S:.0f} s"
    noop_name, noop_goal = "second `dvc repro` (no-op)", f"≤ {MAX_NOOP_REPRO_S:.0f} s"
    if not repro:
        return [
            Target(clean_name, clean_goal, "not run", None),
            Target(noop_name, noop_goal, "not run", None),
        ]
    if repro.get("target") != "all stages":
        why = f"only `{repro.get('target')}` was reproduced"
        return [Target(clean_name, clean_goal, why, None), Target(noop_name, noop_goal, why, None)]
    targets = []
    clean = repro["clean"]
    if clean["returncode"] != 0:
        targets.append(Target(clean_name, clean_goal, f"failed (exit {clean['returncode']})", None))
    else:
        met = clean["seconds"] <= MAX_CLEAN_REPRO_S
        targets.append(
            Target(
                clean_name,
                clean_goal,
                f"{number(clean['seconds'])} s",
                met,
                None if met else stage_text(clean),
            )
        )
    noop = repro.get("no_op")
    if not noop or noop["returncode"] != 0:
        targets.append(Target(noop_name, noop_goal, "not run", None))
    else:
        met = noop["seconds"] <= MAX_NOOP_REPRO_S and noop["up_to_date"]
        limits = None
        if not met:
            limits = (
                "The second run still had work to do: " + " / ".join(noop["output_tail"][-5:])
                if not noop["up_to_date"]
                else "Nothing ran; the time is DVC itself: start-up, reading dvc.yaml and "
                "dvc.lock, and hashing every dependency and output to compare with the lock."
            )
        measured = f"{number(noop['seconds'], 2)} s" + (
            "" if noop["up_to_date"] else ", not up to date"
        )
        targets.append(Target(noop_name, noop_goal, measured, met, limits))
    return targets


def repro_section(repro: dict | None) -> list[str]:
    lines = ["## 4. `dvc repro` timing", ""]
    if repro:
        lines += [
            f"A fresh clone of commit {repro['commit']} ({repro['target']}), private empty DVC "
            "cache, fresh STANCE_CACHE_DIR, this virtual environment.",
            "",
        ]
        steps = [("from clean", repro["clean"]), ("no-op", repro.get("no_op"))]
        rows = [
            (label, number(step["seconds"], 2), step["returncode"], step["up_to_date"])
            for label, step in steps
            if step
        ]
        lines += table(("run", "seconds", "exit code", "up to date"), rows)
        stages = repro["clean"].get("stages", {})
        if stages:
            lines += table(
                ("stage", "seconds (clean run)"),
                (
                    (name, number(s) if isinstance(s, (int, float)) else s)
                    for name, s in stages.items()
                ),
            )
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(repro_targets(repro))


# --- Ray -------------------------------------------------------------------------------


def ray_row(run: dict, local_rate: float | None) -> tuple:
    """One run of ray_scaling as a table row."""
    agreement = run.get("vs_local") or {}
    if run["engine"] == "local":
        fixed = f"{number(run['load_s'], 2)} (model load)"
        steady, equal, difference = run["paragraphs_per_s"], "", ""
    else:
        fixed = number(run.get("fixed_cost_s"), 2)
        steady = run.get("steady_paragraphs_per_s")
        share = agreement.get("labels_equal_share")
        equal = percent(share, 1) if share is not None else "–"
        difference = agreement.get("max_abs_prob_diff", "–")
    speedup = f"{steady / local_rate:.2f}×" if steady and local_rate else "–"
    return (
        run["engine"],
        run["workers"] or "–",
        run.get("threads_per_actor") or run.get("threads") or "–",
        fixed,
        number(run["run_s"], 2),
        f"{run['paragraphs']:,}",
        number(run["paragraphs_per_s"]),
        number(steady),
        speedup,
        difference,
        equal,
    )


def ray_section(result: dict | None) -> list[str]:
    lines = ["## 6. Scaling out on Ray", ""]
    if not result or not result.get("runs"):
        reasons = "; ".join((result or {}).get("skipped", [])) or "no results"
        return [*lines, f"Not run ({reasons}).", ""]
    settings, corpus = result["settings"], result.get("corpus", {})
    lines += [
        f"`stance score --engine ray` against the local engine on {machine_words(result)}: "
        f"{corpus.get('articles', '–')} articles of {corpus.get('paragraphs_per_article')} "
        f"paragraphs in one parquet table, model {settings['model']} on "
        f"{settings['backend']}, encoder cache off. Starting the local Ray instance took "
        f"{number(result.get('ray_startup_s'), 2)} s (once, not in any run below).",
        "",
    ]
    local_rate = next(
        (r["paragraphs_per_s"] for r in result["runs"] if r["engine"] == "local"), None
    )
    lines += table(
        (
            "engine",
            "workers",
            "threads each",
            "load / fixed cost s",
            "run s",
            "paragraphs",
            "paragraphs/s",
            "steady paragraphs/s",
            "steady vs local",
            "vs local: largest prob. difference",
            "vs local: labels equal",
        ),
        (ray_row(run, local_rate) for run in result["runs"]),
    )
    lines += [f"- skipped: {note}" for note in result.get("skipped", [])]
    lines += [f"- note: {note}" for note in result.get("notes", [])]
    return [*lines, ""]


# --- long text -------------------------------------------------------------------------


def long_text_section(result: dict | None) -> list[str]:
    """Windows of a long text without sentence breaks (the cutter's worst case)."""
    lines = ["## Long text: one pass per paragraph", ""]
    if not result:
        return [*lines, "Not run (no results/long_text.json).", ""]
    lines += [
        "A text of seed words with no sentence break, cut into MiniLM windows by "
        "`sentence_windows` with the bundled tokenizer (every word checked to survive); "
        f"CPU: {cpu_text(result['machine'])}.",
        "",
    ]
    rows = [
        (
            run["megabytes"],
            run["words"],
            run["windows"],
            run["seconds"],
            run["megabytes_per_second"],
        )
        for run in result["runs"]
    ]
    return [*lines, *table(["MB", "words", "windows", "seconds", "MB/s"], rows), ""]
