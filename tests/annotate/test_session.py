"""The labelling session of `stance annotate`, driven as a user drives it.

The interactive tests run `python -m pipeline annotate` on a real pseudo-terminal,
type one key at a time, wait for the screen to answer, and read `gold.jsonl`
after every step: a label is on disk before the next paragraph shows, undo
appends a retraction, quitting writes nothing more, and a killed session keeps
every label already given.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.annotate.keys import KeyMap
from pipeline.annotate.queue_file import read_queue
from pipeline.annotate.session import shorten
from pipeline.config import Params, load_params
from pipeline.errors import InputDataError
from pipeline.label.annotations import read_gold_log, resolve_gold
from pipeline.text import sha256_hex
from tests.conftest import write_params

LABELS = ("favor", "against", "none")
STEP_TIMEOUT = 20.0  # seconds to wait for each screen; generous for slow CI machines
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r")

# One invented article, four paragraphs in order.
PARAGRAPHS = [
    "Officials in Moscow complain in private that Chinese lenders have quietly "
    "frozen credit lines, and some ask aloud whether one patron is enough.",
    "Trade between the two countries set another record last year, and both "
    "capitals described the partnership as steadier than any treaty.",
    "The delegation flew home on Tuesday evening after a day of meetings.",
    "A thaw with Washington, one adviser argued, would give the Kremlin a second "
    "customer for its gas and weaken Beijing's bargaining hand.",
]
IDS = [f"north-wind:{n}" for n in range(len(PARAGRAPHS))]

pty_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def queue_record(index: int, *, text_sha256: str | None = None) -> dict:
    text = PARAGRAPHS[index]
    return {
        "rank": index + 1,
        "paragraph_id": IDS[index],
        "doc_id": "north-wind",
        "source": "The Northern Courier",
        "title": "Cold Comfort in the East",
        "section": "Analysis",
        "position": index,
        "text": text,
        "text_sha256": text_sha256 or sha256_hex(text),
        "model": "tfidf_logreg",
        "probs": {"favor": 0.41, "against": 0.37, "none": 0.22},
        "guess": "favor",
        "score": 1.05,
        "strategy": "uncertainty",
        "context": {
            "before": PARAGRAPHS[index - 1] if index > 0 else None,
            "after": PARAGRAPHS[index + 1] if index + 1 < len(PARAGRAPHS) else None,
        },
    }


@pytest.fixture
def project(tmp_path: Path) -> Params:
    """A params file, a four-paragraph queue at annotate.queue and no gold file yet."""
    params = load_params(write_params(tmp_path))
    queue = tmp_path / params.annotate.queue
    queue.parent.mkdir(parents=True, exist_ok=True)
    queue.write_text(
        "".join(json.dumps(queue_record(n)) + "\n" for n in range(len(PARAGRAPHS))),
        encoding="utf-8",
    )
    return params


def child_env() -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HF_HUB_OFFLINE": "1",
        "DVC_NO_ANALYTICS": "1",
        "TERM": "xterm-256color",
        "COLUMNS": "200",  # wide enough that no expected phrase is wrapped
        "LINES": "50",
    }


def annotate_command(root: Path, *extra: str) -> list[str]:
    params = str(root / "params.yaml")
    return [sys.executable, "-m", "pipeline", "annotate", "--params", params, *extra]


class Terminal:
    """`stance annotate` on a pseudo-terminal: type keys, wait for text, collect output."""

    def __init__(self, root: Path, *extra: str, sigint_ignored: bool = False) -> None:
        import pty

        command = annotate_command(root, "--annotator", "tester", *extra)
        env = child_env()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the annotator's session
            try:
                os.chdir(root)
                if sigint_ignored:  # as a script's background job starts: kept across exec
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                os.execve(command[0], command, env)
            finally:
                os._exit(127)
        self.output = ""
        self.seen = 0  # how much of `output` earlier expectations consumed
        self.status: int | None = None

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def _read(self, wait: float) -> bool:
        """Read what the child printed within `wait` seconds; False once it closed."""
        if not select.select([self.fd], [], [], wait)[0]:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child side is closed
            return False
        self.output += ANSI.sub("", data.decode("utf-8", errors="replace"))
        return bool(data)

    def expect(self, *phrases: str) -> str:
        """Wait until every phrase has appeared, in order, after the last expectation."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            at, found = self.seen, True
            for phrase in phrases:
                position = self.output.find(phrase, at)
                if position < 0:
                    found = False
                    break
                at = position + len(phrase)
            if found:
                shown, self.seen = self.output[self.seen : at], at
                return shown
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.5)):
                pytest.fail(
                    f"never saw {phrases!r}; the screen after the last step:\n"
                    f"{self.output[self.seen :]}"
                )

    def wait(self) -> int:
        """Wait for the child to exit and return its exit code."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while self.status is None and time.monotonic() < deadline:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        if self.status is None:
            pytest.fail(f"the session did not exit; the screen:\n{self.output[self.seen :]}")
        return self.status

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.wait()

    def close(self) -> None:
        if self.status is None:
            self.kill()
        os.close(self.fd)


@pytest.fixture
def terminal(project: Params) -> Iterator[Callable[..., Terminal]]:
    """Start sessions on pseudo-terminals; whatever is left running is killed afterwards."""
    started: list[Terminal] = []

    def start(*extra: str, sigint_ignored: bool = False) -> Terminal:
        root = project.paths.gold.parents[2]
        started.append(Terminal(root, *extra, sigint_ignored=sigint_ignored))
        return started[-1]

    yield start
    for session in started:
        session.close()


def gold_records(params: Params) -> list[dict]:
    """Every line of gold.jsonl as JSON, after checking the whole file parses as a log."""
    gold = params.paths.gold
    if not gold.exists():
        return []
    read_gold_log(gold, LABELS)
    assert gold.read_bytes().endswith(b"\n")
    return [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]


def assert_label(record: dict, index: int, label: str, note: str = "") -> None:
    assert record["paragraph_id"] == IDS[index]
    assert record["text_sha256"] == sha256_hex(PARAGRAPHS[index])
    assert (record["label"], record["note"], record["annotator"]) == (label, note, "tester")
    assert TIMESTAMP.fullmatch(record["timestamp"])


@pty_only
def test_labels_notes_undo_skip_and_quit_each_reach_gold_at_once(terminal, project) -> None:
    session = terminal()
    screen = session.expect("[1/4] The Northern Courier — Cold Comfort in the East — Analysis")
    screen = session.expect("model: favor  favor 0.41  against 0.37  none 0.22", "? help", "> ")
    assert PARAGRAPHS[0] in screen and PARAGRAPHS[1][:40] in screen  # the next one, dimmed
    assert gold_records(project) == []

    session.send("f")
    session.expect("favor → ", "[2/4]", "> ")
    [first] = gold_records(project)
    assert_label(first, 0, "favor")

    session.send("A")  # a capital asks for a note first
    session.expect("note for against: ")
    session.send("steady trade presented as closeness\r")
    session.expect("[3/4]", "> ")
    records = gold_records(project)
    assert records[0] == first and len(records) == 2
    assert_label(records[1], 1, "against", note="steady trade presented as closeness")

    session.send("u")
    session.expect("undone: line 2 (against)", "[2/4]", "> ")
    records = gold_records(project)
    assert len(records) == 3
    assert records[2]["retracts_line"] == 2 and records[2]["paragraph_id"] == IDS[1]
    assert records[2]["annotator"] == "tester" and TIMESTAMP.fullmatch(records[2]["timestamp"])
    assert [a.line for a in read_gold_log(project.paths.gold, LABELS).active()] == [1]

    session.send("3")  # digits label too
    session.expect("none → ", "[3/4]", "> ")
    records = gold_records(project)
    assert len(records) == 4
    assert_label(records[3], 1, "none")

    session.send("s")
    session.expect("skipped", "[4/4]", "> ")
    session.send("x")
    session.expect("unknown key 'x'", "> ")
    session.send("?")
    session.expect("s skips (nothing written)", "> ")
    before_quit = project.paths.gold.read_bytes()
    assert len(gold_records(project)) == 4

    session.send("q")
    session.expect("2 labelled, 1 skipped, 1 undone, 0 conflicts; 2 left to label")
    assert session.wait() == 0
    assert project.paths.gold.read_bytes() == before_quit


@pty_only
def test_a_killed_session_keeps_every_label_already_given(terminal, project) -> None:
    session = terminal()
    session.expect("[1/4]", "> ")
    session.send("n")
    session.expect("[2/4]", "> ")
    session.send("a")
    session.expect("[3/4]", PARAGRAPHS[2], "> ")  # the third paragraph is on screen
    session.kill()

    log = read_gold_log(project.paths.gold, LABELS)
    assert [(a.paragraph_id, a.label) for a in log.labels] == [
        (IDS[0], "none"),
        (IDS[1], "against"),
    ]
    assert log.retractions == ()
    records = gold_records(project)  # each line whole and valid JSON
    assert_label(records[0], 0, "none")
    assert_label(records[1], 1, "against")

    resumed = terminal()  # a new session starts at the paragraph that was on screen
    resumed.expect("2 of 4 already labelled by tester", "[3/4]", "> ")
    resumed.send("\x04")  # Ctrl-D quits
    resumed.expect("0 labelled, 0 skipped, 0 undone, 0 conflicts")
    assert resumed.wait() == 0


@pty_only
@pytest.mark.parametrize("interrupt", ["ctrl-c", "ctrl-c, started with SIGINT ignored", "sigterm"])
def test_an_interrupt_quits_and_restores_the_terminal(terminal, project, interrupt: str) -> None:
    session = terminal(sigint_ignored="SIGINT ignored" in interrupt)
    session.expect("[1/4]", "> ")
    session.send("f")
    session.expect("[2/4]", "> ")
    if interrupt.startswith("ctrl-c"):
        session.send("\x03")
    else:  # `kill PID` from another terminal
        os.kill(session.pid, signal.SIGTERM)
    session.expect("1 labelled, 0 skipped, 0 undone, 0 conflicts; 3 left to label")
    assert session.wait() == 0
    local_flags = termios.tcgetattr(session.fd)[3]
    assert local_flags & termios.ECHO and local_flags & termios.ICANON
    assert [r["label"] for r in gold_records(project)] == ["favor"]


@pty_only
def test_a_conflicting_label_is_appended_and_reported_not_overwritten(terminal, project) -> None:
    gold = project.paths.gold
    gold.parent.mkdir(parents=True, exist_ok=True)
    earlier = {
        "paragraph_id": IDS[0],
        "text_sha256": sha256_hex(PARAGRAPHS[0]),
        "label": "favor",
        "note": "",
        "annotator": "alice",
        "timestamp": "2026-01-05T09:30:00Z",
    }
    gold.write_text(json.dumps(earlier) + "\n", encoding="utf-8")
    original = gold.read_bytes()

    session = terminal()
    session.expect("[1/4]", "> ")  # alice's label does not count as done for tester
    session.send("a")
    session.expect(
        "conflict: line 1 says 'favor' (by alice); both kept, "
        "`stance annotate stats` lists conflicts",
        "[2/4]",
    )
    assert gold.read_bytes().startswith(original)
    records = gold_records(project)
    assert records[0] == earlier and len(records) == 2
    assert_label(records[1], 0, "against")
    [conflict] = resolve_gold(read_gold_log(gold, LABELS)).conflicts
    assert conflict.paragraph_id == IDS[0]

    session.send("q")
    session.expect("1 labelled, 0 skipped, 0 undone, 1 conflicts")
    assert session.wait() == 0


def run_piped(root: Path, commands: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        annotate_command(root, "--annotator", "tester"),
        input=commands,
        capture_output=True,
        text=True,
        cwd=root,
        env=child_env(),
        timeout=60,
        check=False,
    )


def test_a_piped_session_reads_one_command_per_line_and_resumes(project) -> None:
    root = project.paths.gold.parents[2]
    first = run_piped(root, "f\n")  # then end of input: quits like q
    assert first.returncode == 0, first.stderr
    assert "[1/4]" in first.stdout and "1 labelled, 0 skipped" in first.stdout
    assert "\x1b[" not in first.stdout  # plain text when stdout is not a terminal

    second = run_piped(root, "z\n\n2\n!3 a ferry schedule, no bearing\nF\nsame side again\n")
    assert second.returncode == 0, second.stderr
    assert "1 of 4 already labelled by tester" in second.stdout
    assert "[1/4]" not in second.stdout and "unknown key 'z'" in second.stdout
    assert "end of the queue" in second.stdout
    records = gold_records(project)
    assert [r["paragraph_id"] for r in records] == IDS
    assert_label(records[0], 0, "favor")
    assert_label(records[1], 1, "against")
    assert_label(records[2], 2, "none", note="a ferry schedule, no bearing")
    assert_label(records[3], 3, "favor", note="same side again")

    third = run_piped(root, "")
    assert third.returncode == 0 and "nothing left to label" in third.stdout


def test_a_stale_queue_item_is_skipped_with_a_message_and_never_labelled(project) -> None:
    root = project.paths.gold.parents[2]
    queue = root / project.annotate.queue
    lines = queue.read_text(encoding="utf-8").splitlines()
    lines[0] = json.dumps(queue_record(0, text_sha256="0" * 64))
    queue.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_piped(root, "n\nq\n")
    assert result.returncode == 0, result.stderr
    assert "queue.jsonl:1: paragraph north-wind:0" in result.stdout
    assert "queue is stale" in " ".join(result.stdout.split())
    [record] = gold_records(project)
    assert_label(record, 1, "none")


def test_a_missing_queue_is_one_error_line_that_says_how_to_make_one(project) -> None:
    root = project.paths.gold.parents[2]
    (root / project.annotate.queue).unlink()
    result = run_piped(root, "f\n")
    assert result.returncode == InputDataError.exit_code
    [line] = result.stderr.splitlines()
    assert line.startswith("stance: error:") and "stance annotate queue" in line
    assert not project.paths.gold.exists()


def test_a_malformed_queue_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    queue = tmp_path / "queue.jsonl"
    queue.write_text(json.dumps(queue_record(0)) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"queue.jsonl:2: not valid JSON"):
        read_queue(queue, LABELS)
    queue.write_text(json.dumps({**queue_record(0), "guess": "maybe"}) + "\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"queue.jsonl:1: guess 'maybe' is not one of"):
        read_queue(queue, LABELS)
    queue.write_text(json.dumps({**queue_record(0), "text": ""}) + "\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"queue.jsonl:1: 'text' must be a non-empty"):
        read_queue(queue, LABELS)


def test_keys_are_first_letters_when_distinct_and_free_else_digits() -> None:
    letters = KeyMap.for_labels(LABELS)
    assert letters.letters
    assert letters.command("a").label == "against" and not letters.command("a").wants_note
    assert letters.command("N").label == "none" and letters.command("N").wants_note
    assert letters.command("2").label == "against"
    assert [letters.command(k).kind for k in "suq?!x"] == [
        "skip",
        "undo",
        "quit",
        "help",
        "note",
        "unknown",
    ]
    for labels in (("stay", "go", "none"), ("pro", "protest", "none")):
        digits = KeyMap.for_labels(labels)
        assert not digits.letters and digits.command("1").label == labels[0]
        assert digits.command(labels[1][0]).kind in ("unknown", "skip", "quit", "undo")
        assert "! then the key" in digits.help_line()


def test_neighbours_are_shortened_at_a_word_and_the_paragraph_never_is() -> None:
    long = " ".join(f"word{n}" for n in range(200))
    head, tail = shorten(long, keep="head"), shorten(long, keep="tail")
    assert head.startswith("word0 ") and head.endswith(" …") and len(head) <= 302
    assert tail.startswith("… ") and tail.endswith("word199") and len(tail) <= 302
    assert shorten("short", keep="head") == "short"
