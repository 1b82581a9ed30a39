"""Permission problems in `stance score` are bad inputs like any other: one warning naming
the path, the rest scored, exit code 1.

The suite usually runs as root, whom permission bits do not stop, so each case runs
against a simulated denial (the listing, `stat` or `open` call raising PermissionError as
it would for another user), and again with real permission bits when not root.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.score.conftest import ARTICLE, read_jsonl

ROOT = os.geteuid() == 0


@dataclass
class Denials:
    """Paths this process is to be refused, as permission bits would refuse another user."""

    files: set[str] = field(default_factory=set)  # mode 000: no reading
    folders: set[str] = field(default_factory=set)  # mode 000: no listing, nothing inside

    def unreadable(self, path: Path) -> None:
        self.files.add(str(path.absolute()))

    def unlistable(self, path: Path) -> None:
        self.folders.add(str(path.absolute()))

    def _inside(self, name: str) -> bool:
        return any(name.startswith(folder + os.sep) for folder in self.folders)

    def refuses_open(self, name: str) -> bool:
        return name in self.files or self._inside(name)

    def refuses_listing(self, name: str) -> bool:
        return name in self.folders or self._inside(name)

    def refuses_stat(self, name: str) -> bool:
        return self._inside(name)


def _name(path: object) -> str | None:
    if isinstance(path, int):
        return None
    return str(Path(os.fsdecode(os.fspath(path))).absolute())


def _denied(name: str) -> PermissionError:
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)


@pytest.fixture
def simulated(monkeypatch: pytest.MonkeyPatch) -> Denials:
    """Denials applied by patching the calls that check, list, stat and open paths."""
    denials = Denials()
    real_access, real_stat, real_scandir, real_open = os.access, os.stat, os.scandir, io.open

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        name = _name(path)
        if name is not None and (denials.refuses_open(name) or denials.refuses_listing(name)):
            return False
        return real_access(path, mode, *args, **kwargs)

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        name = _name(path)
        if name is not None and denials.refuses_stat(name):
            raise _denied(name)
        return real_stat(path, *args, **kwargs)

    def scandir(path: object = ".") -> object:
        name = _name(path)
        if name is not None and denials.refuses_listing(name):
            raise _denied(name)
        return real_scandir(path)

    def open_(file: object, *args: object, **kwargs: object) -> object:
        name = _name(file)
        if name is not None and denials.refuses_open(name):
            raise _denied(name)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(io, "open", open_)
    return denials


@pytest.fixture
def real() -> Iterator[Denials]:
    """Denials made with permission bits (restored afterwards, so the folder can be removed)."""
    denials = Denials()
    yield denials
    for name in denials.files | denials.folders:
        Path(name).chmod(0o700)


def _apply_bits(denials: Denials) -> None:
    for name in denials.files | denials.folders:
        Path(name).chmod(0)


DENIALS = [
    pytest.param("simulated", id="simulated"),
    pytest.param(
        "real", id="permission-bits", marks=pytest.mark.skipif(ROOT, reason="root reads anything")
    ),
]


@pytest.fixture(params=DENIALS)
def deny(request: pytest.FixtureRequest) -> Callable[[Callable[[Denials], None]], None]:
    """Apply denials described by a function, simulated or with real permission bits."""
    denials: Denials = request.getfixturevalue(request.param)

    def apply(describe: Callable[[Denials], None]) -> None:
        describe(denials)
        if request.param == "real":
            _apply_bits(denials)

    return apply


def score(caplog: pytest.LogCaptureFixture, model: Path, *paths: str) -> tuple[int, list[str]]:
    """`stance score PATHS` in this process: the exit code and the documents scored."""
    code, out, err = run_cli("score", *paths, "-m", str(model), "-f", "jsonl")
    sys.stderr.write(err)
    assert "Traceback" not in err
    return code, [line["doc"] for line in read_jsonl(out) if line["type"] == "document"]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_an_unreadable_file_named_is_skipped_with_a_warning(
    articles: Path, tiny_model: Path, deny: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    (articles / "locked.txt").write_text(ARTICLE, encoding="utf-8")
    deny(lambda d: d.unreadable(articles / "locked.txt"))
    code, scored = score(caplog, tiny_model, "in/a.txt", "in/locked.txt")
    assert code == 1
    assert scored == ["in/a.txt"]
    assert warnings_of(caplog) == ["in/locked.txt: permission denied; skipped"]


def test_an_unreadable_file_in_a_folder_is_skipped_with_a_warning(
    articles: Path, tiny_model: Path, deny: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    (articles / "locked.txt").write_text(ARTICLE, encoding="utf-8")
    deny(lambda d: d.unreadable(articles / "locked.txt"))
    code, scored = score(caplog, tiny_model, "in")
    assert code == 1
    assert scored == ["in/a.txt", "in/b.md"]
    assert warnings_of(caplog) == ["in/locked.txt: permission denied; skipped"]


def test_a_path_under_an_unlistable_folder_is_skipped_with_a_warning(
    articles: Path, tiny_model: Path, deny: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    locked = articles.parent / "locked"
    locked.mkdir()
    (locked / "x.txt").write_text(ARTICLE, encoding="utf-8")
    deny(lambda d: d.unlistable(locked))
    code, scored = score(caplog, tiny_model, "locked/x.txt", "in/b.md")
    assert code == 1
    assert scored == ["in/b.md"]
    assert warnings_of(caplog) == ["locked/x.txt: permission denied; skipped"]


def test_an_unlistable_folder_named_is_skipped_with_a_warning(
    articles: Path, tiny_model: Path, deny: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    locked = articles.parent / "locked"
    locked.mkdir()
    (locked / "x.txt").write_text(ARTICLE, encoding="utf-8")
    deny(lambda d: d.unlistable(locked))
    code, scored = score(caplog, tiny_model, "locked", "in/b.md")
    assert code == 1
    assert scored == ["in/b.md"]
    assert warnings_of(caplog) == ["locked: cannot list the folder (permission denied); skipped"]


def test_an_unlistable_subfolder_is_one_warning_and_the_rest_is_scored(
    articles: Path, tiny_model: Path, deny: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    sub = articles / "sub"
    sub.mkdir()
    (sub / "c.txt").write_text(ARTICLE, encoding="utf-8")
    deny(lambda d: d.unlistable(sub))
    code, scored = score(caplog, tiny_model, "in")
    assert code == 1
    assert scored == ["in/a.txt", "in/b.md"]
    assert warnings_of(caplog) == ["in/sub: cannot list the folder (permission denied); skipped"]
