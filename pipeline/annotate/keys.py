"""Keys of the labelling session: what each key means (`KeyMap`) and where keys come
from (`TerminalKeys`: one key at a time in cbreak mode, restored on the way out;
`LineKeys`: one line per command, from a pipe or a file, so a session can be scripted).
"""

from __future__ import annotations

import os
import select
import signal
import termios
import tty
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TextIO

_RESERVED_KEYS = frozenset("suq")
_END = "\x04"  # what a key source returns at end of input (also Ctrl-D itself)
_QUIT_KEYS = frozenset({"q", "Q", "\x03", _END})
_NOTE_PREFIX = "!"


CommandKind = Literal["label", "skip", "undo", "quit", "help", "note", "ignore", "unknown"]
_COMMAND_KEYS: dict[str, CommandKind] = {
    "s": "skip",
    "u": "undo",
    "?": "help",
    _NOTE_PREFIX: "note",
    **dict.fromkeys(_QUIT_KEYS, "quit"),
}


@dataclass(frozen=True)
class Command:
    """What a key asks for."""

    kind: CommandKind
    label: str | None = None
    wants_note: bool = False


@dataclass(frozen=True)
class KeyMap:
    """The keys of a session, derived from `params.labels`.

    A label's key is its first letter when the labels' first letters are distinct
    and clash with no command key; the digits 1..k always work too. A capital
    letter, or `!` before any label key, asks for a note first.
    """

    labels: tuple[str, ...]
    letters: bool

    @classmethod
    def for_labels(cls, labels: Sequence[str]) -> KeyMap:
        """Letters when they are unambiguous, digits only otherwise."""
        initials = [label[0] for label in labels]
        distinct = len(set(initials)) == len(initials)
        return cls(tuple(labels), distinct and not _RESERVED_KEYS & set(initials))

    def label_keys(self) -> dict[str, str]:
        """Key -> label, for the keys that label without a note."""
        keys = {str(number): label for number, label in enumerate(self.labels, start=1)}
        if self.letters:
            keys.update({label[0]: label for label in self.labels})
        return keys

    def command(self, key: str) -> Command:
        """The command a single key stands for."""
        keys = self.label_keys()
        if key in keys:
            return Command("label", keys[key])
        if self.letters and key.isupper() and key.lower() in keys:
            return Command("label", keys[key.lower()], wants_note=True)
        if key in _COMMAND_KEYS:
            return Command(_COMMAND_KEYS[key])
        return Command("ignore" if key.isspace() else "unknown")

    def help_line(self) -> str:
        """The one-line key summary shown under every paragraph."""
        if self.letters:
            labels = "  ".join(f"{label[0]} {label}" for label in self.labels)
            capitals = "/".join(label[0].upper() for label in self.labels)
            return f"{labels}  ({capitals}: with a note)  s skip  u undo  q quit  ? help"
        labels = "  ".join(f"{n} {label}" for n, label in enumerate(self.labels, start=1))
        return f"{labels}  (! then the key: with a note)  s skip  u undo  q quit  ? help"

    def help_text(self) -> str:
        """The longer help behind `?`."""
        digits = ", ".join(f"{n} {label}" for n, label in enumerate(self.labels, start=1))
        letters = ", ".join(f"{label[0]} {label}" for label in self.labels)
        capitals = (
            f"; a capital ({'/'.join(label[0].upper() for label in self.labels)}) does the same"
            if self.letters
            else ""
        )
        return "\n".join(
            [
                f"label: {letters + ' (or ' + digits + ')' if self.letters else digits}",
                f"note: {_NOTE_PREFIX} then a label key asks for a one-line note first"
                f"{capitals}; Enter saves it, Ctrl-D on an empty note cancels the label",
                "s skips (nothing written), u undoes this session's last label "
                "(a retraction line) and shows it again, q / Ctrl-C / Ctrl-D quits",
                "each label is on disk before the next paragraph shows; "
                "a new session resumes after the paragraphs you labelled",
            ]
        )


class KeySource(Protocol):
    """Where a session reads its commands: single keys, or one line per command."""

    def read_key(self) -> tuple[str, str]:
        """The next key and, when reading lines, the rest of its line (else "")."""
        ...

    def read_line(self) -> str | None:
        """One line of text with echo (a note); None at end of input."""
        ...


class LineKeys:
    """Commands from a pipe or a file: the first character of each line is the key."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def read_key(self) -> tuple[str, str]:
        line = self.stream.readline()
        if not line:
            return _END, ""
        line = line.rstrip("\r\n")
        return (line[:1] or "\n"), line[1:]

    def read_line(self) -> str | None:
        line = self.stream.readline()
        return line.rstrip("\r\n") if line else None


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


class TerminalKeys:
    """Single keys from a terminal in cbreak mode (no echo, no Enter needed).

    Signals stay on, so Ctrl-C raises KeyboardInterrupt (the session quits) and
    Ctrl-Z still suspends. Use as a context manager: the terminal's settings are
    restored on the way out, whatever ended the session.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._saved: list | None = None
        self._on_term: Any = None
        self._on_int: Any = None

    def __enter__(self) -> TerminalKeys:
        self._saved = termios.tcgetattr(self.fd)
        # `kill PID` from elsewhere ends the session like Ctrl-C: summary, terminal restored.
        self._on_term = signal.signal(signal.SIGTERM, _interrupt)
        # Ctrl-C quits even when the shell that started us ignored SIGINT (a background
        # job of a script does), in which case Python installs no handler of its own.
        self._on_int = signal.signal(signal.SIGINT, _interrupt)
        tty.setcbreak(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        if self._on_term is not None:
            signal.signal(signal.SIGTERM, self._on_term)
        if self._on_int is not None:
            signal.signal(signal.SIGINT, self._on_int)

    def read_key(self) -> tuple[str, str]:
        data = os.read(self.fd, 1)
        if not data:
            return _END, ""
        if data == b"\x1b":  # an arrow or function key: drop the rest of its sequence
            while select.select([self.fd], [], [], 0.05)[0]:
                os.read(self.fd, 32)
            return "\x1b", ""
        if data[0] >= 0xC0:  # the lead byte of a multi-byte UTF-8 character
            width = 2 if data[0] < 0xE0 else 3 if data[0] < 0xF0 else 4
            while len(data) < width and (more := os.read(self.fd, width - len(data))):
                data += more
        return data.decode("utf-8", errors="replace"), ""

    def read_line(self) -> str | None:
        assert self._saved is not None, "read_line outside the context manager"
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        try:
            data = os.read(self.fd, 4096)  # canonical mode: one line, echoed and editable
        finally:
            tty.setcbreak(self.fd, termios.TCSANOW)
        return data.decode("utf-8", errors="replace").rstrip("\r\n") if data else None
