"""params.yaml: the repository's file is valid; mistakes fail naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import load_params, parse_params
from pipeline.errors import ConfigError
from tests.conftest import REPO


def repo_params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))


def test_repository_params_load() -> None:
    params = load_params(REPO / "params.yaml")
    assert params.labels == ("favor", "against", "none")
    assert params.paths.paragraphs == REPO / "data" / "paragraphs.parquet"
    assert params.proposition.text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p["segment"].update(min_wrods=2), "segment.min_wrods: unknown key"),
        (lambda p: p["segment"].update(min_words="many"), "segment.min_words: "),
        (lambda p: p["segment"].update(min_words=0), "segment.min_words: "),
        (lambda p: p.pop("labels"), "labels: required key is missing"),
        (lambda p: p.update(labels=["favor", "favor", "none"]), "labels: .*distinct"),
        (lambda p: p.update(labels=["favor", "against"]), "labels: .*exactly three labels"),
        (
            lambda p: p["proposition"]["statements"].update(neutral=["x"]),
            "proposition.statements: 'neutral' is not one of labels",
        ),
        (
            lambda p: p["label"]["nli"].update(enabled=True),
            "label.nli: .*no model path is set",
        ),
        (lambda p: p["label"]["prototypes"].update(wieght=1), "label.prototypes.wieght: unknown"),
        (lambda p: p["label"].update(on_stale="ignore"), "label.on_stale: "),
        (lambda p: p["paths"].pop("corpus_dir"), "paths.corpus_dir: required key is missing"),
        (
            lambda p: p["segment"].update(extra_chrome_patterns=["(unclosed"]),
            "extra_chrome_patterns",
        ),
        (lambda p: p.update(surprise=1), "surprise: unknown key"),
    ],
)
def test_bad_params_name_the_key(edit, message: str) -> None:
    params = repo_params()
    edit(params)
    with pytest.raises(ConfigError, match=message):
        parse_params(params, source="params.yaml")


def test_unreadable_params_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="params file not found"):
        load_params(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("labels: [favor\n  paths: {", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid YAML \(line"):
        load_params(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_params(scalar)


def test_relative_paths_resolve_against_the_params_folder(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(repo_params()), encoding="utf-8")
    params = load_params(tmp_path / "params.yaml")
    assert params.paths.corpus_dir == tmp_path / "seeds"


def test_only_the_config_module_parses_yaml() -> None:
    offenders = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "pipeline").rglob("*.py")
        if "import yaml" in path.read_text(encoding="utf-8") and path.name != "config.py"
    ]
    assert offenders == []


def test_domain_words_live_only_in_params_seeds_and_tests() -> None:
    """The pipeline is generic: the proposition's actors are named only in params."""
    offenders = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "pipeline").rglob("*.py")
        if any(
            word in path.read_text(encoding="utf-8").lower()
            for word in ("russia", "china", "moscow", "beijing")
        )
    ]
    assert offenders == []
