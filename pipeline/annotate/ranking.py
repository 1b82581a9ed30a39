"""The core of `stance annotate queue` (pure): rank the candidates, fill the queue in
rounds by source, collapse near-duplicates, and shape each queue line.

  uncertainty   the model's entropy (scaled to 0..1) or 1 - (p1 - p2), the gap between
                its two most probable labels (`annotate.uncertainty`)
  disagreement  the share of voters (the weak labelers of `paths.votes` and the
                model) that differ from the majority; ties go to the higher entropy
  random        a hash of `annotate.seed` and the paragraph id: a seeded shuffle
                that does not change when other paragraphs come or go
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.annotate.candidates import has_probs, prob_columns
from pipeline.annotate.duplicates import NearDuplicateIndex

DIGITS = 4


@dataclass(frozen=True)
class QueueSettings:
    """How to rank and how many to queue (`annotate.*` with the command line's overrides)."""

    n: int
    strategy: str
    uncertainty: str = "entropy"
    near_duplicate: float = 0.8
    seed: int = 0

    def describe(self) -> str:
        """The strategy as the summary line names it."""
        if self.strategy == "uncertainty":
            return f"uncertainty ({self.uncertainty})"
        if self.strategy == "random":
            return f"random (seed {self.seed})"
        return self.strategy


@dataclass(frozen=True)
class QueueResult:
    """The queued paragraphs in order, and what the summary line reports."""

    records: list[dict]
    unlabelled: int
    collapsed: int

    @property
    def sources(self) -> int:
        """How many outlets the queue draws on."""
        return len({record["source"] for record in self.records})


def entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy of each row, divided by its largest possible value (so 0..1)."""
    clipped = np.clip(probs, 1e-12, 1.0)
    return -(probs * np.log(clipped)).sum(axis=1) / math.log(probs.shape[1])


def margin_uncertainty(probs: np.ndarray) -> np.ndarray:
    """1 - (p1 - p2): near 1 when the two most probable labels are close."""
    top = np.sort(probs, axis=1)[:, ::-1]
    return 1.0 - (top[:, 0] - top[:, 1])


def disagreement(voters: Sequence[str]) -> float:
    """The share of voters that differ from the most common vote."""
    if not voters:
        return 0.0
    return 1.0 - max(Counter(voters).values()) / len(voters)


def seeded_draw(seed: int, paragraph_id: str) -> float:
    """A number in [0, 1) fixed by the seed and the paragraph: the random order."""
    digest = hashlib.blake2b(f"{seed}\n{paragraph_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def priorities(
    frame: pd.DataFrame,
    labels: Sequence[str],
    settings: QueueSettings,
    votes: dict[str, list[str]],
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's priority under the strategy (higher first) and its tie-breaker."""
    if settings.strategy == "random":
        draws = [seeded_draw(settings.seed, pid) for pid in frame["paragraph_id"]]
        return np.array(draws, dtype=float), np.zeros(len(frame))
    probs = frame[prob_columns(labels)].to_numpy(dtype=float)
    spread = entropy(probs)
    if settings.strategy == "uncertainty":
        scores = spread if settings.uncertainty == "entropy" else margin_uncertainty(probs)
        return scores, np.zeros(len(frame))
    guesses = [labels[index] for index in probs.argmax(axis=1)]
    shares = [
        disagreement([*votes.get(pid, []), guess])
        for pid, guess in zip(frame["paragraph_id"], guesses, strict=True)
    ]
    return np.array(shares, dtype=float), spread


def build_queue(
    candidates: pd.DataFrame,
    labels: Sequence[str],
    settings: QueueSettings,
    votes: dict[str, list[str]],
    duplicates: NearDuplicateIndex,
    model_id: str | None,
) -> QueueResult:
    """The pure core: rank the unlabelled candidates, stratify by source, collapse
    near-duplicates, and return the queue's records in order."""
    if candidates.empty:
        return QueueResult([], 0, 0)
    primary, secondary = priorities(candidates, labels, settings, votes)
    ids, hashes = candidates["paragraph_id"].tolist(), candidates["text_sha256"].tolist()
    ranking = sorted(
        range(len(candidates)),
        key=lambda row: (-primary[row], -secondary[row], ids[row], hashes[row]),
    )
    chosen, collapsed = stratified_picks(
        [candidates["source"].iat[row] for row in ranking],
        [candidates["text"].iat[row] for row in ranking],
        settings.n,
        duplicates,
    )
    with_model = has_probs(candidates, labels)
    records = []
    for rank, place in enumerate(chosen, start=1):
        row = candidates.iloc[ranking[place]]
        score = float(primary[ranking[place]])
        probs = row[prob_columns(labels)].to_numpy(dtype=float) if with_model else None
        records.append(queue_record(rank, row, labels, probs, model_id, score, settings.strategy))
    return QueueResult(records, len(candidates), collapsed)


def stratified_picks(
    sources: Sequence[str], texts: Sequence[str], n: int, duplicates: NearDuplicateIndex
) -> tuple[list[int], int]:
    """Positions in the ranking to queue, in queue order, and how many were collapsed.

    Rounds: each source, in the order of its best candidate, takes its next candidate
    that repeats nothing already queued or labelled. A source that runs out drops out,
    so the others fill its share. A round's picks keep their ranking order.
    """
    by_source: dict[str, deque[int]] = {}
    for place, source in enumerate(sources):  # ranked, so a source's first is its best
        by_source.setdefault(source, deque()).append(place)
    chosen: list[int] = []
    collapsed = 0
    while by_source and len(chosen) < n:
        picks: list[int] = []
        for source in list(by_source):
            if len(chosen) + len(picks) >= n:
                break
            waiting = by_source[source]
            while waiting:
                place = waiting.popleft()
                if duplicates.contains(texts[place]):
                    collapsed += 1
                    continue
                duplicates.add(texts[place])
                picks.append(place)
                break
            if not waiting:
                del by_source[source]
        chosen.extend(sorted(picks))
    return chosen, collapsed


def queue_record(
    rank: int,
    row: pd.Series,
    labels: Sequence[str],
    probs: np.ndarray | None,
    model_id: str | None,
    score: float,
    strategy: str,
) -> dict:
    """One line of the queue, with exactly the keys its readers expect."""
    return {
        "rank": rank,
        "paragraph_id": row["paragraph_id"],
        "doc_id": row["doc_id"],
        "source": row["source"],
        "title": _text_or_none(row["title"]),
        "section": _text_or_none(row["section"]),
        "position": int(row["position"]),
        "text": row["text"],
        "text_sha256": row["text_sha256"],
        **model_fields(probs, labels, model_id),
        "score": round(score, DIGITS),
        "strategy": strategy,
        "context": {"before": _text_or_none(row["before"]), "after": _text_or_none(row["after"])},
    }


def _text_or_none(value: object) -> str | None:
    """A text field as JSON writes it: null when unknown (pandas holds that as NaN)."""
    return None if value is None or pd.isna(value) or value == "" else str(value)


def model_fields(probs: np.ndarray | None, labels: Sequence[str], model_id: str | None) -> dict:
    if probs is None:
        return {"model": None, "probs": None, "guess": None}
    return {
        "model": model_id,
        "probs": {label: round(float(p), DIGITS) for label, p in zip(labels, probs, strict=True)},
        "guess": labels[int(np.argmax(probs))],
    }
