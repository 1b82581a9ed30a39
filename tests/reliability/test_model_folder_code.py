"""No code from a model folder: a planted Python module is never imported (S1).

sentence-transformers imports whatever class a folder's `modules.json` names, from a
`.py` file beside it too; and a model's `model.json` could point `encoder_path` at such
a folder. Each test plants a module that would write a marker file when imported.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

from pipeline.encoders.base import bundled_encoder_path
from pipeline.encoders.torch_encoder import check_sentence_folder, load_sentence_transformer
from pipeline.errors import ConfigError, InputDataError
from pipeline.models.persist import load_model
from pipeline.models.safe_io import dump_estimator
from tests.conftest import run_module

PLANTED = """
from pathlib import Path
Path({marker!r}).write_text("imported")

class Planted:
    pass
"""


def plant_module(folder: Path, marker: Path) -> Path:
    """A copy of the bundled encoder whose modules.json adds a class from `planted.py`."""
    shutil.copytree(bundled_encoder_path(), folder)
    (folder / "planted.py").write_text(PLANTED.format(marker=str(marker)), encoding="utf-8")
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    modules.append({"idx": 3, "name": "3", "path": "", "type": "planted.Planted"})
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    return folder


def test_the_bundled_encoder_passes_the_check() -> None:
    check_sentence_folder(bundled_encoder_path())


def test_a_planted_module_is_refused_before_import(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    folder = plant_module(tmp_path / "encoder", marker)
    with pytest.raises(ConfigError, match=r"'planted\.Planted'"):
        load_sentence_transformer(folder)
    assert not marker.exists()


def test_a_module_path_outside_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "encoder"
    shutil.copytree(bundled_encoder_path(), folder)
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    modules[1]["path"] = "../../elsewhere"
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    with pytest.raises(ConfigError, match="leaves the folder"):
        check_sentence_folder(folder)


@pytest.mark.slow
def test_a_setfit_folder_with_a_planted_body_module_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    model = tmp_path / "model"
    model.mkdir()
    plant_module(model / "body", marker)
    head = LogisticRegression().fit([[0.0] * 384, [1.0] * 384, [2.0] * 384], [0, 1, 2])
    dump_estimator(head, model / "head.skops")
    spec = {"format_version": 1, "model": "setfit", "labels": ["favor", "against", "none"]}
    spec |= {"seed": 0, "settings": {}, "temperature": 1.0}
    (model / "model.json").write_text(json.dumps(spec), encoding="utf-8")
    article = tmp_path / "a.txt"
    article.write_text("Moscow and Beijing signed a deal.\n", encoding="utf-8")
    result = run_module("pipeline", "score", str(article), "--model", str(model), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    (error,) = result.stderr.splitlines()
    assert "planted.Planted" in error and "refusing to import code" in error
    assert not marker.exists()


def _with_encoder_path(tiny_model: Path, folder: Path, encoder: str) -> Path:
    shutil.copytree(tiny_model, folder)
    spec = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    spec["settings"]["encoder_path"] = encoder
    (folder / "model.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def test_an_encoder_path_in_a_model_file_is_not_followed(tiny_model: Path, tmp_path: Path):
    marker = tmp_path / "marker"
    planted = plant_module(tmp_path / "encoder", marker)
    folder = _with_encoder_path(tiny_model, tmp_path / "model", str(planted))
    with pytest.raises(InputDataError, match="not the bundled encoder"):
        load_model(folder)
    assert not marker.exists()


def test_an_encoder_path_the_user_trusts_is_followed(tiny_model: Path, tmp_path: Path):
    own = tmp_path / "encoder"
    shutil.copytree(bundled_encoder_path(), own)
    folder = _with_encoder_path(tiny_model, tmp_path / "model", str(own))
    assert load_model(folder, trusted_encoder=own).labels
    bundled = _with_encoder_path(tiny_model, tmp_path / "bundled", str(bundled_encoder_path()))
    assert load_model(bundled).labels


def test_stance_score_refuses_a_model_file_naming_another_encoder(
    tiny_model: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    planted = plant_module(tmp_path / "encoder", marker)
    folder = _with_encoder_path(tiny_model, tmp_path / "model", str(planted))
    article = tmp_path / "a.txt"
    article.write_text("Moscow and Beijing signed a deal.\n", encoding="utf-8")
    result = run_module("pipeline", "score", str(article), "--model", str(folder), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    (error,) = result.stderr.splitlines()
    assert "not the bundled encoder" in error and "encoder.path" in error
    assert not marker.exists()
