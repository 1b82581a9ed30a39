"""Outputs land where they should, as they should: a device or a FIFO named with -o is
written to, not replaced; an output never overwrites an input; new files and folders get
the umask's permissions and a replaced file keeps its own; a model folder is replaced
without a moment where a failure leaves neither the old nor the new one."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, suppress
from pathlib import Path

import pytest

from pipeline.errors import OutputError
from pipeline.io import atomic_folder, atomic_output
from pipeline.score.folder import RUN_FILE, staged_folder
from tests.compare.conftest import models  # noqa: F401  (two model folders with oof.parquet)
from tests.conftest import run_cli
from tests.score.conftest import ARTICLE, read_jsonl


def stance(*args: str) -> tuple[int, str, str]:
    code, out, err = run_cli(*args)
    sys.stderr.write(err)
    return code, out, err


# --- D1: special files are written to, never replaced. -------------------------------------


def test_a_fifo_is_written_to_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "scores.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the writer need not wait
    try:
        with atomic_output(fifo) as stream:
            stream.write(b"scored\n")
        assert os.read(reader, 100) == b"scored\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert list(tmp_path.iterdir()) == [fifo]  # no temporary file left


def test_dev_null_stays_a_device(monkeypatch: pytest.MonkeyPatch) -> None:
    # Were /dev/null replaced here, a run as root would destroy it: forbid the temporary file.
    def no_temporary(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temporary file beside /dev/null")

    monkeypatch.setattr("tempfile.mkstemp", no_temporary)
    with atomic_output(Path(os.devnull), "w") as stream:
        stream.write("scored\n")
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_score_onto_a_link_to_dev_null_keeps_both(articles: Path, tiny_model: Path) -> None:
    link = articles.parent / "out.jsonl"
    link.symlink_to(os.devnull)
    code, out, _ = stance("score", str(articles), "-m", str(tiny_model), "-o", str(link))
    assert code == 0 and out == ""
    assert link.is_symlink() and str(link.readlink()) == os.devnull
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_a_socket_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with (
            pytest.raises(OutputError, match=r"s\.sock: not a regular file"),
            atomic_output(path) as stream,
        ):
            stream.write(b"x")
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        server.close()


# --- D2: an output never overwrites an input. ----------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "output", "named"),
    [
        (["in/a.txt"], "in/a.txt", "in/a.txt"),
        (["in"], "in/a.txt", "in"),
        (["in"], "in/scores.jsonl", "in"),
        (["in/a.txt"], "alias.txt", "in/a.txt"),  # a link to the input
        (["in/b.md"], "MODEL/card.json", "MODEL"),  # the model folder is an input too
    ],
)
def test_score_refuses_an_output_onto_an_input(
    articles: Path,
    tiny_model: Path,
    capsys: pytest.CaptureFixture[str],
    inputs: list[str],
    output: str,
    named: str,
) -> None:
    (articles.parent / "alias.txt").symlink_to(articles / "a.txt")
    model = shutil.copytree(tiny_model, articles.parent / "MODEL")
    before = {p: p.read_bytes() for p in (*articles.iterdir(), *model.iterdir())}
    code, out, _ = stance("score", *inputs, "-m", "MODEL", "-f", "jsonl", "-o", output)
    assert code == 4 and out == ""
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("stance: error: "), errors
    assert output in errors[0] and named in errors[0].replace(output, "", 1), errors
    assert {p: p.read_bytes() for p in before} == before
    assert not (articles / "scores.jsonl").exists()


def test_score_refuses_a_parquet_folder_that_holds_an_input(
    articles: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = stance("score", "in", "-m", str(tiny_model), "-f", "parquet", "-o", "out")
    assert code == 0
    (Path("out") / "late.txt").write_text(ARTICLE, encoding="utf-8")
    capsys.readouterr()
    code, _, _ = stance(
        "score", "out/late.txt", "-m", str(tiny_model), "-f", "parquet", "-o", "out"
    )
    assert code == 4
    assert "out/late.txt" in capsys.readouterr().err
    assert (Path("out") / "late.txt").read_text(encoding="utf-8") == ARTICLE


def test_compare_refuses_an_output_inside_a_version(
    models: tuple[Path, Path],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = shutil.copytree(models[0], tmp_path / "a")
    card = (a / "card.json").read_bytes()
    code, out, _ = stance("compare", str(a), str(models[1]), "-o", str(a / "card.json"))
    assert code == 4 and out == ""
    assert str(a) in capsys.readouterr().err
    assert (a / "card.json").read_bytes() == card


# --- D3: permissions follow the umask; a replaced file keeps its mode. ----------------------


@pytest.fixture(params=[0o022, 0o077], ids=["umask-022", "umask-077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_and_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    with atomic_output(tmp_path / "report.csv", "w") as stream:
        stream.write("a,b\n")
    assert mode(tmp_path / "report.csv") == 0o666 & ~umask
    with atomic_folder(tmp_path / "model") as staging, atomic_output(staging / "w.skops") as out:
        out.write(b"w")
    assert mode(tmp_path / "model") == 0o777 & ~umask
    assert mode(tmp_path / "model" / "w.skops") == 0o666 & ~umask


@pytest.mark.parametrize("existing", [0o644, 0o600, 0o640])
def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask: int, existing: int) -> None:
    report = tmp_path / "report.csv"
    report.write_text("old\n", encoding="utf-8")
    report.chmod(existing)
    with atomic_output(report, "w") as stream:
        stream.write("new\n")
    assert report.read_text(encoding="utf-8") == "new\n"
    assert mode(report) == existing


def test_score_output_follows_the_umask(articles: Path, tiny_model: Path, umask: int) -> None:
    target = articles.parent / "scores.jsonl"
    code, _, _ = stance("score", str(articles), "-m", str(tiny_model), "-o", str(target))
    assert code == 0 and read_jsonl(target.read_text(encoding="utf-8"))
    assert mode(target) == 0o666 & ~umask


# --- D13: replacing a folder never leaves neither the old nor the new one. -----------------


def _fill_old(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    for name in ("model.json", "card.json", RUN_FILE, "weights.skops"):
        (folder / name).write_bytes(f"old {name}\n".encode())
    return _contents(folder)


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _atomic_folder(target: Path) -> AbstractContextManager[Path]:
    return atomic_folder(target)


def _staged_folder(target: Path) -> AbstractContextManager[Path]:
    return staged_folder(target)


WRITERS: list[Callable[[Path], AbstractContextManager[Path]]] = [_atomic_folder, _staged_folder]


def _write_new(writer: Callable[[Path], AbstractContextManager[Path]], target: Path) -> None:
    with writer(target) as staging:
        for name in ("model.json", "card.json", RUN_FILE):
            (staging / name).write_bytes(f"new {name}\n".encode())


NEW = {name: f"new {name}\n".encode() for name in ("card.json", "model.json", RUN_FILE)}


@pytest.mark.parametrize("writer", WRITERS, ids=["atomic_folder", "score_folder"])
def test_a_failed_rename_into_place_keeps_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: Callable
) -> None:
    target = tmp_path / "models" / "tfidf_logreg"
    target.parent.mkdir()
    old = _fill_old(target)
    rename = Path.rename

    def fail_first_rename_onto_target(self: Path, destination: Path) -> Path:
        if Path(destination) == target and not getattr(fail_first_rename_onto_target, "done", 0):
            fail_first_rename_onto_target.done = 1  # type: ignore[attr-defined]
            raise KeyboardInterrupt  # the run stopped between the two steps
        return rename(self, destination)

    monkeypatch.setattr(Path, "rename", fail_first_rename_onto_target)
    with pytest.raises(KeyboardInterrupt):
        _write_new(writer, target)
    assert _contents(target) == old
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # nothing left beside


@pytest.mark.parametrize("writer", WRITERS, ids=["atomic_folder", "score_folder"])
def test_a_failure_while_deleting_the_old_folder_keeps_the_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: Callable
) -> None:
    target = tmp_path / "models" / "tfidf_logreg"
    target.parent.mkdir()
    _fill_old(target)
    rmtree = shutil.rmtree
    calls: list[Path] = []

    def delete_one_file_then_stop(path: Path, *args: object, **kwargs: object) -> None:
        calls.append(Path(path))
        if len(calls) > 1:
            return rmtree(path, *args, **kwargs)
        next(Path(path).iterdir()).unlink()  # part of the folder is gone...
        raise KeyboardInterrupt  # ...when the run stops

    monkeypatch.setattr(shutil, "rmtree", delete_one_file_then_stop)
    with suppress(KeyboardInterrupt):  # the run stopped while deleting the old folder
        _write_new(writer, target)
    assert _contents(target) == NEW
