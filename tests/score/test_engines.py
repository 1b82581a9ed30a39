"""`stance score` hands one `ScoreRequest` to one of two sibling engines."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.score.local_engine import score_locally
from pipeline.score.ray_engine import score_on_ray
from pipeline.score.request import ScoreRequest
from pipeline.score.stage import engine_function


def test_the_stage_picks_between_two_engines_of_one_signature() -> None:
    assert engine_function("local") is score_locally
    assert engine_function("ray") is score_on_ray
    assert inspect.signature(score_locally) == inspect.signature(score_on_ray)


def test_the_local_engine_refuses_the_ray_engines_options(tmp_path: Path) -> None:
    request = ScoreRequest([], tmp_path / "model", None, workers=2)
    with pytest.raises(ConfigError, match="--workers and --address are options of --engine ray"):
        score_locally(request)
