"""`dvc repro` on a copy of the project: the stage runs, and a second repro has nothing to do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO, run_module

pytestmark = pytest.mark.slow


def dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The repository's whole pipeline on its ~5,300 training and development paragraphs,
    # with an empty encoder cache: about two minutes on two cores, more on a busy machine.
    return run_module("dvc", *args, cwd=cwd, timeout=1200)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
        shutil.copy2(REPO / name, tmp_path / name)
    for folder in ("seeds", "pipeline", "data/annotations", "data/behaviour"):
        shutil.copytree(
            REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    assert dvc("init", "--no-scm", "-q", cwd=tmp_path).returncode == 0
    return tmp_path


def test_repro_then_nothing_to_do(project: Path) -> None:
    first = dvc("repro", cwd=project)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "Running stage 'segment'" in first.stdout
    assert "Running stage 'label'" in first.stdout
    table = pd.read_parquet(project / "data" / "paragraphs.parquet")
    assert len(table) == 60 and table.source.nunique() == 5
    labels = pd.read_parquet(project / "data" / "labels.parquet")
    assert (labels.provenance == "gold").sum() == 60
    assert (project / "metrics" / "labeling.json").is_file()
    assert "Running stage 'report'" in first.stdout
    sources = pd.read_csv(project / "reports" / "sources.csv").set_index("source")
    assert len(sources) == 5 and sources.n_paragraphs.sum() == 60
    assert (sources.ci_low <= sources.stance_index).all()
    assert (sources.stance_index <= sources.ci_high).all()
    assert sources.loc["The Punching Bag Post", "gold_stance_index"] > 0
    assert sources.loc["AFP", "gold_stance_index"] < 0
    assert (project / "reports" / "report.html").stat().st_size > 0

    second = dvc("repro", cwd=project)
    assert second.returncode == 0, second.stderr
    assert "Running stage" not in second.stdout
    assert "up to date" in second.stdout

    # A new article in the corpus makes both stages run again; its paragraph is weakly labelled.
    (project / "seeds" / "extra.md").write_text(
        "# A New Piece\n\nA fresh paragraph for the corpus.\n", encoding="utf-8"
    )
    third = dvc("repro", cwd=project)
    assert "Running stage 'segment'" in third.stdout
    assert "Running stage 'label'" in third.stdout
    assert len(pd.read_parquet(project / "data" / "paragraphs.parquet")) == 61
    scored = pd.read_csv(project / "reports" / "paragraphs.csv")
    assert scored.origin.value_counts().to_dict() == {"out-of-fold": 60, "final model": 1}
    labels = pd.read_parquet(project / "data" / "labels.parquet")
    corpus = labels[labels.provenance.isin(["gold", "weak", "unlabeled"])]
    assert len(corpus) == 61 and (corpus.provenance != "gold").sum() == 1
