"""Terminal output shared by the commands: one stderr console, progress bars and the
one-line log format of `stance` ("stance: warning: ...")."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from rich.console import Console
from rich.progress import track

from pipeline.text import one_line

T = TypeVar("T")

# Machine-readable output goes to stdout; progress and messages go to stderr.
err_console = Console(stderr=True)


def progress(
    items: Iterable[T], description: str, *, total: int, min_items: int = 50
) -> Iterator[T]:
    """Iterate with a progress bar on stderr when it is a terminal and the work is long."""
    show = err_console.is_terminal and total >= min_items
    yield from track(
        items,
        description=description,
        total=total,
        console=err_console,
        transient=True,
        disable=not show,
    )


class _OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = one_line(record.getMessage())
        if record.levelno >= logging.WARNING:
            return f"stance: {record.levelname.lower()}: {message}"
        return f"stance: {message}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of the record (as the standard
    library's last-resort handler does), so a second `main()` in one process (tests,
    notebooks) never writes to a stream an earlier caller replaced or closed."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging() -> None:
    """Send the `pipeline` loggers' records to stderr as one line each (once per process)."""
    logger = logging.getLogger("pipeline")
    if not any(getattr(handler, "_stance", False) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_OneLineFormatter())
        handler._stance = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = True
