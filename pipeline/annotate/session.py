"""The interactive labelling session of `stance annotate`.

One queued paragraph at a time: its article title and section, the neighbouring
paragraphs dimmed for context, the model's guess with its probabilities, and one
key per label. Every label goes through `pipeline/annotate/store.py` the moment
it is given (one fsynced line), so quitting, a closed terminal or a crash loses
at most the paragraph on screen, and a second session resumes where the first
stopped. Undo appends a retraction; nothing in `gold.jsonl` is ever rewritten.

On a terminal each key acts at once (cbreak mode, restored on the way out); from
a pipe or a file each line is one command, so a session can also be scripted.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.text import Text

from pipeline.annotate.keys import Command, KeyMap, KeySource, LineKeys, TerminalKeys
from pipeline.annotate.queue_file import QueueItem, read_queue
from pipeline.annotate.store import add_label, default_annotator, label_record, read_log, undo_label
from pipeline.config import Params
from pipeline.io import display_path
from pipeline.label.annotations import GoldLog

NEIGHBOUR_CHARS = 300  # context paragraphs are cut to this; the paragraph itself never is


def already_labelled(log: GoldLog, annotator: str) -> set[tuple[str, str]]:
    """(paragraph_id, text_sha256) pairs that `annotator` has an active label for."""
    return {(a.paragraph_id, a.text_sha256) for a in log.active() if a.annotator == annotator}


# ---- display ------------------------------------------------------------------------------


def shorten(text: str, limit: int = NEIGHBOUR_CHARS, *, keep: Literal["head", "tail"]) -> str:
    """`text` cut to about `limit` characters at a word, with an ellipsis where it was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if keep == "head":
        return text[:limit].rsplit(" ", 1)[0] + " …"
    return "… " + text[-limit:].split(" ", 1)[-1]


def model_line(item: QueueItem, labels: Sequence[str]) -> str:
    """The model's guess and probabilities in label order, or "" when the queue has none."""
    if item.guess is None and not item.probs:
        return ""
    parts = [f"model: {item.guess or '?'}"]
    if item.probs:
        parts += [f"{label} {item.probs[label]:.2f}" for label in labels if label in item.probs]
    if item.model:
        parts.append(f"({item.model})")
    return "  ".join(parts)


def _neighbour(text: str, width: int) -> Text:
    """A context paragraph: dimmed and indented, so that it stands apart in plain text too."""
    wrapped = textwrap.fill(
        text, width=max(width, 20), initial_indent="    ", subsequent_indent="    "
    )
    return Text(wrapped, style="dim", no_wrap=True)


def render(console: Console, item: QueueItem, number: int, total: int, keymap: KeyMap) -> None:
    """Print one queued paragraph: header, dimmed neighbours, the model's view, the keys."""
    where = " — ".join(part for part in (item.source, item.title, item.section) if part)
    header = Text(f"[{number}/{total}] {where}", style="bold")
    header.append(f"  {item.paragraph_id}", style="dim")
    console.print()
    console.print(header)
    if item.before:
        console.print(_neighbour(shorten(item.before, keep="tail"), console.width))
        console.print()
    console.print(Text(item.text))
    if item.after:
        console.print()
        console.print(_neighbour(shorten(item.after, keep="head"), console.width))
    guess = model_line(item, keymap.labels)
    if guess:
        console.print(Text(guess, style="cyan"))
    console.print(Text(keymap.help_line(), style="dim"))


# ---- the session --------------------------------------------------------------------------


@dataclass
class Tally:
    """What a session did, for the summary line."""

    labelled: int = 0  # labels written and still standing
    skipped: int = 0
    undone: int = 0
    conflicts: int = 0  # labels written that disagree with an earlier one
    stale: set[int] = field(default_factory=set)  # queue positions whose text fails its hash

    def summary(self, left: int) -> str:
        """The line printed when the session ends, however it ends."""
        return (
            f"{self.labelled} labelled, {self.skipped} skipped, {self.undone} undone, "
            f"{self.conflicts} conflicts; {left} left to label in the queue"
        )


@dataclass(frozen=True)
class Outcome:
    """How the annotator left a paragraph; `line` is the gold line of a label."""

    kind: Literal["label", "skip", "undo", "quit"]
    line: int = 0


@dataclass(frozen=True)
class Written:
    """A label this session wrote: its gold line and the pending position it labels."""

    line: int
    position: int


class Session:
    """The labelling loop over the queued paragraphs this annotator has not labelled yet."""

    def __init__(
        self,
        params: Params,
        *,
        annotator: str,
        queue: Path,
        items: Sequence[QueueItem],
        pending: Sequence[int],
        keys: KeySource,
        console: Console,
    ) -> None:
        self.params = params
        self.annotator = annotator
        self.queue = queue
        self.items = items
        self.pending = pending  # indices into items, in queue order
        self.keys = keys
        self.console = console
        self.keymap = KeyMap.for_labels(params.labels)
        self.tally = Tally()
        self.written: list[Written] = []  # this session's standing labels, for undo

    def run(self) -> None:
        """Label until the queue is done or the annotator quits, then print the summary."""
        try:
            self._loop()
        except KeyboardInterrupt:  # Ctrl-C: quit; every label given so far is on disk
            self.console.print()
        left = len(self.pending) - len(self.written) - len(self.tally.stale)
        self.console.print(Text(self.tally.summary(left), style="bold"))

    def _loop(self) -> None:
        position = 0
        while True:
            if position >= len(self.pending):
                if not self._undo_at_end():
                    return
                position = self._undo()
                continue
            index = self.pending[position]
            item = self.items[index]
            if not item.hash_ok:
                self._report_stale(item, position)
                position += 1
                continue
            render(self.console, item, index + 1, len(self.items), self.keymap)
            outcome = self._decide(item)
            if outcome.kind == "quit":
                return
            if outcome.kind == "undo":
                position = self._undo()
                continue
            if outcome.kind == "label":
                self.written.append(Written(outcome.line, position))
            position += 1

    def _decide(self, item: QueueItem) -> Outcome:
        """Read keys until one labels, skips, undoes (something there is to undo) or quits."""
        while True:
            self._prompt("> ")
            key, rest = self.keys.read_key()
            command = self.keymap.command(key)
            if command.kind == "note":
                key, rest = (rest[0], rest[1:]) if rest else self._note_key()
                command = self.keymap.command(key)
                if command.kind == "label":
                    command = Command("label", command.label, wants_note=True)
            if command.kind == "label" and command.label is not None:
                line = self._label(item, command.label, rest, wants_note=command.wants_note)
                if line is not None:
                    return Outcome("label", line)
            elif command.kind == "skip":
                self.tally.skipped += 1
                self._say("skipped")
                return Outcome("skip")
            elif command.kind == "quit":
                self._say("quit")
                return Outcome("quit")
            elif command.kind == "undo" and self.written:
                return Outcome("undo")
            elif command.kind == "undo":
                self._say("nothing to undo in this session", style="yellow")
            elif command.kind == "help":
                self.console.print(Text(self.keymap.help_text()))
            elif command.kind == "unknown":
                self._say(f"unknown key {key!r}: press ? for help", style="yellow")

    def _note_key(self) -> tuple[str, str]:
        self._prompt("note for which label? ")
        return self.keys.read_key()

    def _label(self, item: QueueItem, label: str, rest: str, *, wants_note: bool) -> int | None:
        """Append the label (after its note, if asked) and return its line; None when the
        note was cancelled and nothing was written."""
        note = rest.strip() if wants_note else ""
        if wants_note and not note:
            self._prompt(f"note for {label}: ")
            typed = self.keys.read_line()
            if typed is None:
                self._say("note cancelled; nothing written", style="yellow")
                return None
            note = typed.strip()
        gold = self.params.paths.gold
        record = label_record(item.paragraph_id, item.text, label, self.annotator, note=note)
        appended = add_label(gold, record, self.params.labels)
        self.tally.labelled += 1
        self._say(f"{label} → {display_path(gold)}:{appended.line}", style="green")
        for earlier in appended.conflicts_with:
            self._say(
                f"conflict: line {earlier.line} says {earlier.label!r} (by {earlier.annotator}); "
                "both kept, `stance annotate stats` lists conflicts",
                style="bold yellow",
            )
        self.tally.conflicts += bool(appended.conflicts_with)
        return appended.line

    def _undo(self) -> int:
        """Retract this session's last label; return its position, to show it again."""
        last = self.written.pop()
        undone = undo_label(self.params.paths.gold, last.line, self.annotator, self.params.labels)
        self.tally.labelled -= 1
        self.tally.undone += 1
        self._say(f"undone: line {undone.line} ({undone.label}); showing it again", style="yellow")
        return last.position

    def _undo_at_end(self) -> bool:
        """At the end of the queue, offer one last undo before leaving."""
        if not self.written:
            self._say("end of the queue")
            return False
        self._prompt("end of the queue: u undoes the last label, any other key quits > ")
        key, _ = self.keys.read_key()
        self.console.print()
        return self.keymap.command(key).kind == "undo"

    def _report_stale(self, item: QueueItem, position: int) -> None:
        if position not in self.tally.stale:
            self._say(
                f"{display_path(self.queue)}:{item.line}: paragraph {item.paragraph_id}: its "
                "text does not match its text_sha256, so the queue is stale (run `stance "
                "annotate queue` again); skipped",
                style="yellow",
            )
        self.tally.stale.add(position)

    def _prompt(self, text: str) -> None:
        self.console.print(Text(text, style="bold"), end="")
        self.console.file.flush()

    def _say(self, text: str, *, style: str = "") -> None:
        self.console.print(Text(text, style=style))


def run_session(params: Params, *, annotator: str | None, queue: Path | None) -> None:
    """Label the queue (default `annotate.queue`) in this terminal, appending to paths.gold.

    Paragraphs this annotator already labelled (same id and text) are passed over,
    so a session resumes where the last one stopped. Errors from the store end the
    session with their message, the terminal restored.
    """
    who = default_annotator(annotator)
    queue_path = queue or params.annotate.queue
    items = read_queue(queue_path, params.labels)
    done = already_labelled(read_log(params.paths.gold, params.labels), who)
    pending = [
        index
        for index, item in enumerate(items)
        if (item.paragraph_id, item.text_sha256) not in done
    ]
    console = Console(highlight=False)
    console.print(
        f"labelling {display_path(queue_path)} as {who}; "
        f"each label is appended to {display_path(params.paths.gold)} at once"
    )
    if len(pending) < len(items):
        console.print(f"{len(items) - len(pending)} of {len(items)} already labelled by {who}")
    if not pending:
        console.print("nothing left to label: run `stance annotate queue` for more")
        return

    def session(keys: KeySource) -> Session:
        return Session(
            params,
            annotator=who,
            queue=queue_path,
            items=items,
            pending=pending,
            keys=keys,
            console=console,
        )

    if sys.stdin.isatty():
        with TerminalKeys(sys.stdin.fileno()) as keys:
            session(keys).run()
    else:
        session(LineKeys(sys.stdin)).run()
