"""Files of the wrong shape are one line naming the file or key, never a traceback
(D4 model.json, D5 card.json in `stance compare`, D12 a key given twice in params.yaml)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.config import load_params
from pipeline.errors import ConfigError
from tests.compare.conftest import models  # noqa: F401  (two model folders with oof.parquet)
from tests.conftest import REPO, run_cli, run_module


def _one_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("stance: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ([], "unsupported model format"),
        ({"format_version": 1, "model": ["tfidf_logreg"]}, "model: Input should be a valid string"),
        ({"settings": []}, "settings: Input should be a valid dictionary"),
        ({"labels": "favor"}, "labels: Input should be a valid list"),
        ({"temperature": "hot"}, "temperature: Input should be a valid number"),
        ({"temperature": 0}, "temperature: Input should be greater than 0"),
    ],
)
def test_a_model_file_of_the_wrong_shape_is_one_line(
    tiny_model: Path, tmp_path: Path, spec: object, words: str
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    if isinstance(spec, dict):
        spec = json.loads((folder / "model.json").read_text(encoding="utf-8")) | spec
    (folder / "model.json").write_text(json.dumps(spec), encoding="utf-8")
    article = tmp_path / "a.txt"
    article.write_text("Moscow and Beijing signed a deal.\n", encoding="utf-8")
    result = run_module("pipeline", "score", str(article), "--model", str(folder), cwd=tmp_path)
    assert result.returncode == 3
    error = _one_error(result.stderr)
    assert "model" in error and words in error, error


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("labels", "favor,against,none", "labels: Input should be a valid list"),
        ("labels", [1, 2, 3], "labels.0: Input should be a valid string"),
        ("model_id", ["x"], "model_id: Input should be a valid string"),
    ],
)
def test_a_card_of_the_wrong_shape_is_one_line_in_compare(
    models: tuple[Path, Path],  # noqa: F811
    tmp_path: Path,
    field: str,
    value: object,
    words: str,
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(models[1], broken)
    card = json.loads((broken / "card.json").read_text(encoding="utf-8"))
    (broken / "card.json").write_text(json.dumps(card | {field: value}), encoding="utf-8")
    code, _, stderr = run_cli("compare", str(models[0]), str(broken))
    assert code == 3
    error = _one_error(stderr)
    assert "card.json" in error and words in error, error


def test_a_section_given_twice_in_params_is_refused(tmp_path: Path) -> None:
    text = (REPO / "params.yaml").read_text(encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text(text + "\nsegment:\n  min_words: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'segment' appears twice"):
        load_params(params)


def test_a_key_given_twice_inside_a_section_is_refused_by_the_cli(tmp_path: Path) -> None:
    text = (REPO / "params.yaml").read_text(encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text(text.replace("segment:\n", "segment:\n  min_words: 2\n", 1), "utf-8")
    code, _, stderr = run_cli("segment", "--params", str(params))
    assert code == 2
    assert "params.yaml" in _one_error(stderr) and "'min_words' appears twice" in stderr
