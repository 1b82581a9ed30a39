"""Offline: the pipeline, with the MiniLM encoder, and `stance score` run with every
network connection refused, and they set `HF_HUB_OFFLINE` themselves."""

from __future__ import annotations

import json
import os
import socket

import pytest

from pipeline.cli import main
from tests.reliability.conftest import MiniProject, run_pipeline

pytestmark = pytest.mark.slow


class NetworkBlocked(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every connection and name lookup fail, and record what was attempted."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args[:2]))
        raise NetworkBlocked(f"network access attempted: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return attempts


def test_pipeline_and_score_with_the_encoder_run_offline(
    mini: MiniProject,
    no_network: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The default model and the prototype labeler: both load the bundled MiniLM.
    def edit(params: dict) -> None:
        params["train"]["model"] = "hybrid_logreg"
        params["label"]["prototypes"]["enabled"] = True

    mini.edit_params(edit)
    run_pipeline(mini.params)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    monkeypatch.chdir(mini.root)
    with pytest.raises(SystemExit) as exit_info:
        main(["score", "seeds", "--format", "jsonl"])
    assert exit_info.value.code in (0, None)
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0] == records[0] | {"type": "model", "name": "hybrid_logreg"}
    assert sum(r["type"] == "document" for r in records) == 4
    assert no_network == []


def test_the_block_is_real(no_network: list[str]) -> None:
    """The fixture refuses a connection: the test above would notice one."""
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("pypi.org", 443), timeout=1)
    assert no_network
