"""`stance score --backend` and `--cache/--no-cache` reach the loaded model's encoder options."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.score import model as score_model
from tests.conftest import run_cli
from tests.score.conftest import ARTICLE


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[score_model.StanceModel]:
    """Every StanceModel the command loads, to inspect its encoding options."""
    models: list[score_model.StanceModel] = []
    original = score_model.StanceModel.load.__func__

    def spy(cls, *args, **kwargs):
        models.append(original(cls, *args, **kwargs))
        return models[-1]

    monkeypatch.setattr(score_model.StanceModel, "load", classmethod(spy))
    return models


@pytest.fixture
def article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no params.yaml: the encoder defaults apply
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def test_flags_set_the_models_encoder_options(article, tiny_model, loaded) -> None:
    args = ("score", str(article), "--model", str(tiny_model), "-f", "jsonl")
    code, _, _ = run_cli(*args, "--backend", "onnx-int8", "--no-cache")
    assert code == 0
    assert (loaded[-1].encoding.backend, loaded[-1].encoding.cache) == ("onnx-int8", False)
    code, _, _ = run_cli(*args)
    assert code == 0
    assert (loaded[-1].encoding.backend, loaded[-1].encoding.cache) == ("torch", True)


def test_an_unknown_backend_is_a_usage_error(article, tiny_model) -> None:
    code, out, err = run_cli("score", str(article), "--model", str(tiny_model), "--backend", "gpu")
    assert code == 2 and out == ""
    assert "gpu" in err and "Traceback" not in err


def test_params_choose_the_backend_and_flags_override_them(tiny_model) -> None:
    from pipeline.config import load_params
    from tests.conftest import REPO

    params = load_params(REPO / "params.yaml")
    encoder = params.encoder.model_copy(update={"backend": "onnx", "cache": False})
    chosen = params.model_copy(update={"encoder": encoder})
    model = score_model.StanceModel.load(tiny_model, params=chosen)
    assert (model.encoding.backend, model.encoding.cache) == ("onnx", False)
    model = score_model.StanceModel.load(tiny_model, params=chosen, backend="torch", cache=True)
    assert (model.encoding.backend, model.encoding.cache) == ("torch", True)
