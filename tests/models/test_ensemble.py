"""The ensemble: the weighted mean of its members' probabilities, saved and loaded as
one model folder (members: tfidf_logreg and the tiny static tier, no MiniLM)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import Params, parse_params
from pipeline.errors import ConfigError
from pipeline.models.factory import build_model
from pipeline.models.persist import load_model, save_model
from tests.models.test_static_tier import PARAMS, TARGETS, TEXTS, variant

UNSEEN = ["Russia and China will stand together.", "The museum roof", "A wedge could work."]


def ensemble_params(static: Path, **settings: object) -> Params:
    params = variant(PARAMS, "ensemble", static)
    members = {"members": ("static_logreg", "tfidf_logreg"), **settings}
    ensemble = params.train.models.ensemble.model_copy(update=members)
    models = params.train.models.model_copy(update={"ensemble": ensemble})
    return params.model_copy(update={"train": params.train.model_copy(update={"models": models})})


@pytest.mark.parametrize("weights", [(), (3.0, 1.0)])
def test_the_ensemble_is_the_weighted_mean_of_its_members(
    tmp_path: Path, tiny_static_model: Path, weights: tuple[float, ...]
) -> None:
    ensemble = build_model(ensemble_params(tiny_static_model, weights=weights))
    assert ensemble.fit(TEXTS, TARGETS) is ensemble
    static, tfidf = (member.predict_proba(TEXTS + UNSEEN) for member in ensemble.members_)
    share = weights[0] / sum(weights) if weights else 0.5
    expected = share * static + (1 - share) * tfidf
    np.testing.assert_allclose(ensemble.predict_proba(TEXTS + UNSEEN), expected, atol=1e-12)
    assert not np.allclose(static, tfidf), "members must differ for the test to mean anything"

    folder = tmp_path / "ensemble"
    save_model(ensemble, folder, temperature=1.0, card={"model": "ensemble"}, readme="#\n")
    assert (folder / "static_logreg" / "static" / "model.safetensors").is_file()
    assert (folder / "tfidf_logreg").is_dir()
    loaded = load_model(folder).classifier
    np.testing.assert_array_equal(
        loaded.predict_proba(TEXTS + UNSEEN), ensemble.predict_proba(TEXTS + UNSEEN)
    )
    assert loaded.predict_proba([]).shape == (0, 3)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"members": ["tfidf_logreg"]}, "two or more"),
        ({"members": ["tfidf_logreg", "tfidf_logreg"]}, "each once"),
        ({"members": ["tfidf_logreg", "ensemble"]}, "'ensemble' is not one of"),
        ({"members": ["tfidf_logreg", "nonesuch"]}, "'nonesuch' is not one of"),
        ({"weights": [1.0]}, "one weight per member"),
        ({"weights": [1.0, -1.0]}, "non-negative"),
    ],
)
def test_ensemble_settings_are_checked_with_their_key(settings: dict, message: str) -> None:
    raw = PARAMS.model_dump(mode="json")
    raw["train"]["models"]["ensemble"] = {**raw["train"]["models"]["ensemble"], **settings}
    with pytest.raises(ConfigError, match=rf"train\.models\.ensemble.*{message}"):
        parse_params(raw, source="params.yaml")
