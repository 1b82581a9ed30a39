"""Nothing is lost: a stage killed mid-write leaves the previous output intact, and no
command ever writes to the human annotations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_module
from tests.reliability.conftest import MiniProject, run_pipeline, tree_bytes
from tests.reliability.test_bad_input import outputs

pytestmark = pytest.mark.slow

# Run one stage in a child process that kills itself with SIGKILL part-way through
# writing: after half a parquet file (`parquet`), or once an output's temporary file
# is complete but not yet renamed into place (`rename`).
_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import pyarrow.parquet as pq
    from pipeline import io as pipeline_io

    hook, stage = sys.argv[1], sys.argv[2]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if hook == "parquet":
        def write_half(table, where, **options):
            if isinstance(where, (str, os.PathLike)):
                where = open(where, "wb")
            where.write(b"PAR1" + b"\\0" * 4096)
            where.flush()
            die()
        pq.write_table = write_half
    else:
        def fsync_then_die(descriptor):
            os.fsync_real(descriptor)
            die()
        os.fsync_real = os.fsync
        pipeline_io.os.fsync = fsync_then_die

    from pipeline.cli import main
    main([stage])
    """
)


@pytest.mark.parametrize(
    ("stage", "hook"),
    [
        ("segment", "parquet"),
        ("segment", "rename"),
        ("label", "parquet"),
        ("evaluate", "rename"),
        ("train", "parquet"),
        ("report", "rename"),
    ],
)
def test_killed_stage_leaves_previous_outputs_intact(
    built: MiniProject, stage: str, hook: str
) -> None:
    project = built
    # A changed input, so the stage would write different bytes if it finished.
    (project.root / "seeds" / "extra.txt").write_text(
        "Late Edition\n\nThe Kremlin and Beijing traded warm words at the forum.\n",
        encoding="utf-8",
    )
    before = outputs(project)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLER, hook, stage],
        cwd=project.root,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after = outputs(project)
    # Every earlier output is still there, byte for byte; at most a hidden temporary
    # file or staging folder (never read by any stage) was left beside it.
    assert {k: v for k, v in after.items() if not _hidden(k)} == before
    # And the stage runs cleanly over what the kill left behind.
    finished = run_module("pipeline", stage, cwd=project.root)
    assert finished.returncode == 0, finished.stderr


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in Path(relative).parts)


def test_no_command_writes_to_the_annotations(mini: MiniProject, tmp_path: Path) -> None:
    folder = mini.root / "data" / "annotations"

    def snapshot() -> dict[str, tuple[bytes, int, int]]:
        return {
            str(path.relative_to(folder)): (
                path.read_bytes(),
                path.stat().st_mtime_ns,
                path.stat().st_ino,
            )
            for path in sorted(folder.rglob("*"))
        }

    before = snapshot()
    run_pipeline(mini.params)
    scored = run_module(
        "pipeline", "score", "seeds", "--output", str(tmp_path / "s.jsonl"), cwd=mini.root
    )
    assert scored.returncode == 0, scored.stderr
    assert snapshot() == before
    assert tree_bytes(folder).keys() == {k for k in before}
