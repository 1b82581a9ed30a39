"""The `stance` command: help, one-line errors with documented exit codes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.config import Params
from tests.conftest import article, run_module


def stance(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module("pipeline", *args)


def test_help_lists_commands_and_exit_codes() -> None:
    result = stance("--help")
    assert result.returncode == 0
    assert "segment" in result.stdout
    assert "Exit codes" in result.stdout
    assert stance("--version").stdout.startswith("stance ")


def test_segment_runs_from_the_cli(corpus: Callable[..., Params]) -> None:
    params = corpus({"a.txt": article("The bridge opened to traffic on Friday.", title="Bridge")})
    result = stance("segment", "--params", str(params.paths.corpus_dir.parent / "params.yaml"))
    assert result.returncode == 0, result.stderr
    assert "1 paragraph from 1 document" in result.stderr
    assert len(pd.read_parquet(params.paths.paragraphs)) == 1


def test_quiet_keeps_only_warnings(corpus: Callable[..., Params]) -> None:
    params = corpus(
        {"a.txt": article("The bridge opened on Friday.", title="Bridge"), "b.txt": b""}
    )
    result = stance("--quiet", "segment", "-p", str(params.paths.corpus_dir.parent / "params.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"stance: warning: {params.paths.corpus_dir / 'b.txt'}: empty file; skipped"
    ]


def test_missing_params_is_one_line_exit_2(tmp_path: Path) -> None:
    result = stance("segment", "--params", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "nope.yaml: params file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_manifest_is_one_line_exit_3(corpus: Callable[..., Params]) -> None:
    params = corpus({"a.txt": "Some text here."}, manifest=[{"doc_id": "a", "file": "gone.txt"}])
    result = stance("segment", "-p", str(params.paths.corpus_dir.parent / "params.yaml"))
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0
    assert "sources.csv" in result.stderr and "gone.txt" in result.stderr


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", "--no-such-flag"])
    assert exit_info.value.code == 2
    assert "No such option" in capsys.readouterr().err
