"""RESULTS.md's sections on scoring speed: 1. throughput (with the overhead and fastest-path
targets), 2. the zero-shot baseline, 5. the profile of where scoring time goes."""

from __future__ import annotations

from results_targets import (
    MAX_OVERHEAD,
    MIN_FAST_RATE,
    MIN_ZERO_SHOT_RATIO,
    Target,
    targets_block,
)
from results_text import machine_words, number, percent, table

# --- throughput -------------------------------------------------------------------------


def measurements(throughput: dict, kind: str) -> list[dict]:
    return [m for m in throughput.get("measurements", []) if m["kind"] == kind]


def default_model_rates(throughput: dict) -> dict[str, float]:
    """The default model's end-to-end paragraphs/s, by backend."""
    return {
        m["backend"]: m["paragraphs_per_s"]
        for m in measurements(throughput, "stance_score")
        if m.get("default") and m.get("paragraphs_per_s")
    }


def overhead(raw_rate: float, model_rate: float) -> float:
    """Extra time per paragraph of the end-to-end model over the raw encoder (0.3 = 30%)."""
    return raw_rate / model_rate - 1.0


def profile_for(profiles: dict | None, backend: str) -> dict | None:
    """The profile of `backend` among profile_score's, else the first one, else None."""
    runs = (profiles or {}).get("profiles", [])
    return next((run for run in runs if run["backend"] == backend), runs[0] if runs else None)


def profile_summary(profile: dict | None) -> str:
    """One sentence giving the profile's shares of time, largest first."""
    if not profile:
        return "There is no profile in the results (run benchmarks/profile_score.py)."
    parts = ", ".join(
        f"{name} {percent(part['share'])}"
        for name, part in profile["parts"].items()
        if part.get("share")
    )
    return (
        f"A cProfile of scoring {profile['paragraphs']:,} paragraphs with {profile['model']} "
        f"on {profile['backend']} splits the time as: {parts}."
    )


def overhead_limits(throughput: dict, profile: dict | None, backend: str, raw_rate: float) -> str:
    """Why the end-to-end path is slower than the raw encoder, from the profile."""
    text = profile_summary(profile)
    if profile:
        outside = {
            name: part["share"]
            for name, part in profile["parts"].items()
            if name != "encoder forward pass" and part.get("share")
        }
        if outside:
            largest = max(outside, key=outside.get)
            text += (
                f" Everything but the forward pass takes {percent(sum(outside.values()))}; "
                f"the largest such part is {largest} ({percent(outside[largest])})."
            )
        forward = profile["parts"].get("encoder forward pass", {}).get("share")
        if profile["backend"] != backend:
            text += f" (That profile ran on {profile['backend']}, not {backend}.)"
        elif forward and profile.get("unprofiled_paragraphs_per_s"):
            per_paragraph = 1000 / profile["unprofiled_paragraphs_per_s"]
            text += (
                f" Unprofiled, a paragraph takes {number(per_paragraph)} ms end to end, about "
                f"{number(forward * per_paragraph)} ms of it in the forward pass, against "
                f"{number(1000 / raw_rate)} ms for the raw encoder's whole encode."
            )
    windows = throughput.get("windows_per_paragraph")
    if windows:
        text += (
            f" The models encode {windows:.2f} sentence windows per paragraph where the raw "
            f"encoder encodes one truncated text, so they also do {percent(windows - 1)} more "
            "encoder work."
        )
    return text


def throughput_targets(throughput: dict | None, profiles: dict | None) -> list[Target]:
    goal = f"≤ {percent(MAX_OVERHEAD)}"
    if not throughput:
        return [Target("overhead over the raw encoder", goal, "not run", None)]
    raw = {m["backend"]: m["paragraphs_per_s"] for m in measurements(throughput, "raw_encoder")}
    targets = []
    for backend, model_rate in default_model_rates(throughput).items():
        name = f"overhead over the raw encoder ({backend})"
        if not raw.get(backend):
            targets.append(Target(name, goal, "no raw encoder rate", None))
            continue
        extra = overhead(raw[backend], model_rate)
        measured = f"{percent(extra)} ({number(model_rate)} vs {number(raw[backend])} p/s)"
        met = extra <= MAX_OVERHEAD
        limits = (
            None
            if met
            else overhead_limits(throughput, profile_for(profiles, backend), backend, raw[backend])
        )
        targets.append(Target(name, goal, measured, met, limits))
    return [
        *(targets or [Target("overhead over the raw encoder", goal, "no default model", None)]),
        *fast_path_target(throughput, raw, profiles),
    ]


def fast_path_target(
    throughput: dict, raw: dict[str, float], profiles: dict | None
) -> list[Target]:
    """The default model's speed on its fastest backend against MIN_FAST_RATE."""
    name, goal = "default model, fastest path", f"≥ {MIN_FAST_RATE:.0f} p/s"
    rates = default_model_rates(throughput)
    if not rates:
        return [Target(name, goal, "no default model", None)]
    backend = max(rates, key=rates.__getitem__)
    met = rates[backend] >= MIN_FAST_RATE
    limits = None
    if not met:
        limits = (
            f"The raw encoder alone reaches {number(raw.get(backend))} p/s on {backend}, so "
            "the encoder's forward pass bounds the model: MiniLM-L6 over about 90 word pieces "
            f"per paragraph on {machine_words(throughput)}. "
            f"{profile_summary(profile_for(profiles, backend))} A cheaper encoder (a static "
            "embedding tier) is the way past it, not a faster runtime."
        )
    return [Target(name, goal, f"{number(rates[backend])} p/s ({backend})", met, limits)]


def throughput_section(throughput: dict | None, profiles: dict | None) -> list[str]:
    lines = ["## 1. Scoring throughput", ""]
    if throughput:
        settings = throughput["settings"]
        lines += [
            f"`stance score` in-process on the generated corpus, cache off, in "
            f"{settings['rounds']} rounds of alternating order; {settings['paragraphs']:,} "
            f"paragraphs per model and backend ({settings['slow_paragraphs']:,} for the "
            f"fine-tuned models), batch size {settings['batch_size']}. The default model is "
            f"{throughput['default_model']}. Load time is apart from the rate.",
            "",
        ]
        rows = [
            (
                m["subject"] + (" (default)" if m.get("default") else ""),
                m["backend"],
                f"{m['paragraphs']:,}",
                number(m["paragraphs_per_s"]),
                number(m.get("load_s"), 2),
            )
            for m in throughput["measurements"]
        ]
        lines += table(("model", "backend", "paragraphs", "paragraphs/s", "load s"), rows)
        warm = throughput.get("warm_cache")
        if warm:
            lines += [
                f"Warm cache ({warm['model']}, {warm['backend']}, {warm['paragraphs']:,} "
                f"paragraphs scored twice, each in a new process): first run "
                f"{number(warm['first_run_paragraphs_per_s'])} p/s, second run "
                f"{number(warm['second_run_paragraphs_per_s'])} p/s.",
                "",
            ]
        lines += [f"- skipped: {note}" for note in throughput.get("skipped", [])]
        lines += [f"- note: {note}" for note in throughput.get("notes", [])]
        lines.append("")
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(throughput_targets(throughput, profiles))


# --- zero-shot --------------------------------------------------------------------------


def zero_shot_targets(
    zero_shot: dict | None, throughput: dict | None, profiles: dict | None
) -> list[Target]:
    name, goal = "default model vs zero-shot speed", f"≥ {MIN_ZERO_SHOT_RATIO:.0f}×"
    if not zero_shot or not zero_shot.get("paragraphs_per_s"):
        return [Target(name, goal, "zero-shot not run", None)]
    rates = default_model_rates(throughput or {})
    if not rates:
        return [Target(name, goal, "no default model rate (run score_throughput.py)", None)]
    targets = []
    for backend, rate in rates.items():
        ratio = rate / zero_shot["paragraphs_per_s"]
        measured = (
            f"{number(ratio, 0)}× ({number(rate)} p/s on {backend} vs "
            f"{number(zero_shot['paragraphs_per_s'], 3)} p/s)"
        )
        met = ratio >= MIN_ZERO_SHOT_RATIO
        limits = None
        if not met:
            limits = (
                f"Zero-shot costs {number(zero_shot['seconds_per_paragraph'], 2)} s per "
                f"paragraph: {len(zero_shot['hypotheses'])} passes of a "
                f"{number(zero_shot['parameters_millions'], 0)}M-parameter model over "
                f"{number(zero_shot['mean_tokens_per_pair'])} tokens each. The default model "
                f"takes {number(1 / rate, 3)} s per paragraph on {backend}, so the ratio is "
                "bounded by the default model's own speed on that path. "
                f"{profile_summary(profile_for(profiles, backend))}"
            )
        targets.append(Target(f"{name} ({backend})", goal, measured, met, limits))
    return targets


def zero_shot_section(
    zero_shot: dict | None, throughput: dict | None, profiles: dict | None
) -> list[str]:
    lines = ["## 2. Zero-shot baseline", ""]
    if zero_shot:
        lines += [
            f"transformers' zero-shot-classification pipeline with {zero_shot['model']} "
            f"({number(zero_shot['parameters_millions'])}M parameters); tokenizer: "
            f"{zero_shot['tokenizer']}. {len(zero_shot['hypotheses'])} hypotheses, "
            f"multi_label={zero_shot['multi_label']}, {zero_shot['paragraphs']} paragraphs "
            f"of the generated corpus, {zero_shot['machine'].get('torch_threads')} torch threads.",
            "",
        ]
        lines += table(
            ("paragraphs", "mean tokens per pair", "paragraphs/s", "s per paragraph"),
            [
                (
                    zero_shot["paragraphs"],
                    number(zero_shot["mean_tokens_per_pair"]),
                    number(zero_shot["paragraphs_per_s"], 3),
                    number(zero_shot["seconds_per_paragraph"], 2),
                )
            ],
        )
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(zero_shot_targets(zero_shot, throughput, profiles))


# --- profile ----------------------------------------------------------------------------


def function_row(row: dict) -> tuple:
    own, cumulative = number(row["own_s"], 2), number(row["cumulative_s"], 2)
    return f"`{row['function']}`", own, cumulative, row["calls"]


def profile_section(profiles: dict | None) -> list[str]:
    lines = ["## 5. Where scoring time goes (profile)", ""]
    if not profiles:
        return [*lines, "Not run.", ""]
    for profile in profiles["profiles"]:
        lines += [
            f"### {profile['model']} on {profile['backend']}",
            "",
            f"{profile['paragraphs']:,} paragraphs: {number(profile['profiled_s'])} s under "
            f"cProfile, {number(profile['unprofiled_s'])} s "
            f"({number(profile['unprofiled_paragraphs_per_s'])} p/s) without.",
            "",
        ]
        lines += table(
            ("part", "seconds", "share"),
            (
                (name, number(part["seconds"], 2), percent(part["share"], 1))
                for name, part in profile["parts"].items()
            ),
        )
        lines += table(
            ("function (most own time)", "own s", "cumulative s", "calls"),
            map(function_row, profile["top_functions"][:8]),
        )
    return lines + [f"- note: {note}" for note in profiles.get("notes", [])] + [""]
