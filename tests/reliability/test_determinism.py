"""Determinism: two clean `dvc repro` runs give byte-identical outputs, and a repro
after a run has nothing to do and changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_module
from tests.reliability.conftest import MiniProject
from tests.reliability.test_bad_input import outputs

pytestmark = pytest.mark.slow


def _dvc_project(template: Path, root: Path) -> MiniProject:
    """The small project as a DVC project running the repository's own `dvc.yaml`."""
    shutil.copytree(template, root)
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(
        REPO / "pipeline", root / "pipeline", ignore=shutil.ignore_patterns("__pycache__")
    )
    done = run_module("dvc", "init", "--no-scm", "-q", cwd=root)
    assert done.returncode == 0, done.stderr
    return MiniProject(root)


def test_two_clean_repros_are_byte_identical(mini_template: Path, tmp_path: Path) -> None:
    runs = []
    for name in ("first", "second"):
        project = _dvc_project(mini_template, tmp_path / name)
        done = run_module("dvc", "repro", cwd=project.root)
        assert done.returncode == 0, done.stderr + done.stdout
        runs.append(outputs(project))
    first, second = runs
    assert first.keys() == second.keys()
    for must in (
        "data/paragraphs.parquet",
        "data/labels.parquet",
        "metrics/eval.json",
        "metrics/labeling.json",
        "reports/sources.csv",
    ):
        assert must in first
    different = sorted(name for name in first if first[name] != second[name])
    assert different == []


def test_repro_after_a_run_changes_nothing(mini_template: Path, tmp_path: Path) -> None:
    project = _dvc_project(mini_template, tmp_path / "project")
    assert run_module("dvc", "repro", cwd=project.root).returncode == 0
    lock = (project.root / "dvc.lock").read_bytes()
    before = outputs(project)
    again = run_module("dvc", "repro", cwd=project.root)
    assert again.returncode == 0, again.stderr
    assert "Running stage" not in again.stdout
    assert outputs(project) == before
    assert (project.root / "dvc.lock").read_bytes() == lock
