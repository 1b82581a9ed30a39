"""Shared fixtures: small corpora and params files built in a temporary folder."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from pipeline.cli import main
from pipeline.config import Params, load_params

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The encoder cache and ONNX exports of the tests never touch the user's ~/.cache/stance.
os.environ["STANCE_CACHE_DIR"] = tempfile.mkdtemp(prefix="stance-test-cache.")

# Property tests: a fixed, derandomised run in CI; `HYPOTHESIS_PROFILE=deep` to search harder.
settings.register_profile("default", max_examples=150)
settings.register_profile("ci", max_examples=150, derandomize=True)
settings.register_profile("deep", max_examples=5000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


def write_manifest(path: Path, rows: list[dict[str, str]]) -> None:
    columns = ["doc_id", "file", "source", "title", "author", "date", "url"]
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})


def write_params(root: Path, **segment: object) -> Path:
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["paths"] = {
        "corpus_dir": "corpus",
        "manifest": "corpus/sources.csv",
        "paragraphs": "data/paragraphs.parquet",
        "segment_metrics": "metrics/segment.json",
    }
    params["segment"].update(segment)
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Callable[..., Params]:
    """Build `tmp_path/corpus` from {file name: text or bytes} and return its Params.

    `manifest` rows default to one per file (doc_id = stem, source = "Outlet <stem>");
    pass `manifest=None` to write no manifest at all.
    """

    def build(
        files: dict[str, str | bytes],
        manifest: list[dict[str, str]] | str | None = "auto",
        **segment: object,
    ) -> Params:
        folder = tmp_path / "corpus"
        folder.mkdir(exist_ok=True)
        for name, content in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if manifest == "auto":
            manifest = [
                {"doc_id": Path(name).stem, "file": name, "source": f"Outlet {Path(name).stem}"}
                for name in files
            ]
        if manifest is not None:
            write_manifest(folder / "sources.csv", manifest)
        return load_params(write_params(tmp_path, **segment))

    return build


def article(*paragraphs: str, title: str = "") -> str:
    """An article in the blank-line format, with an optional title line."""
    return "\n\n".join(([title] if title else []) + list(paragraphs)) + "\n"


def run_module(
    module: str, *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m module args` as a user would: venv first on PATH, offline, no analytics."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HF_HUB_OFFLINE": "1",
        "DVC_NO_ANALYTICS": "1",
        "COLUMNS": "100",
    }
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run `stance ARGS` in this process: exit code, standard output, standard error."""
    stdout, stderr = io.StringIO(), io.StringIO()
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    try:
        main(list(args))
    except SystemExit as done:
        code = done.code or 0
    else:
        code = 0
    finally:
        sys.stdout, sys.stderr = real
    return int(code), stdout.getvalue(), stderr.getvalue()


# Words of the tiny static model's vocabulary: enough for the tests' paragraphs to have
# known tokens, few enough that distilling takes a second.
_TINY_TEXT = """
moscow beijing russia russian china chinese kremlin putin xi washington west sanctions
partner partners partnership alliance friendship bond unbreakable strain strained rift
distrust resents junior wedge pull pulled away apart split break together stand depends
alternative buyers banks payments refuse the a an and of to is are will can not no never
would could with from their its this that on in for by as be has have whatever does
weather rain ferry timetable museum train trains festival crowds newsletter subscribe
lisbon coast season mild may august thursday evening roof renovation record weekend
"""
TINY_WORDS = tuple(_TINY_TEXT.split())


def build_tiny_bert(folder: Path) -> Path:
    """A random one-layer BERT, 16 wide, with a word-level WordPiece vocabulary of TINY_WORDS."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary = folder / "vocab.txt"
    vocabulary.write_text("\n".join([*specials, *TINY_WORDS]) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocabulary), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(specials) + len(TINY_WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        initializer_range=0.5,  # wide, so that words differ clearly before any training
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_static_params(root: Path) -> Params:
    """The repository's params with a tiny BERT as the encoder and the static model in `root`."""
    params = load_params(REPO / "params.yaml")
    return params.model_copy(
        update={
            "encoder": params.encoder.model_copy(update={"path": build_tiny_bert(root / "bert")}),
            "distill": params.distill.model_copy(update={"pca_dims": 8}),
            "paths": params.paths.model_copy(update={"static_encoder": root / "static"}),
        }
    )


@pytest.fixture(scope="session")
def tiny_static_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static model distilled by the distill stage from the tiny BERT (a few seconds)."""
    from pipeline.distill.stage import run_distill

    return run_distill(tiny_static_params(tmp_path_factory.mktemp("tiny-static")))
