"""Terminal output shared by the commands: one stderr console and progress bars."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import track

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
