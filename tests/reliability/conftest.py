"""A small but complete project for the reliability suite.

Three invented articles from three outlets, gold labels for their paragraphs, a
dozen written examples and the repository's rules, configured with the quick
TF-IDF model so that the whole pipeline runs in seconds. The texts are written
for these tests; none comes from the seed articles.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.config import Params, load_params
from pipeline.text import sha256_hex
from tests.conftest import REPO
from tests.score.conftest import articles, tiny_model  # noqa: F401  (two articles; a TF-IDF model)

# Each article: outlet, title, and paragraphs with the label a reader would give them.
ARTICLES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "north.txt": (
        "Northern Ledger",
        "A Partnership Under Strain",
        [
            (
                "Russian officials complain in private that Beijing drives a hard bargain on "
                "every pipeline and treats Moscow as a supplier rather than an equal.",
                "favor",
            ),
            (
                "Chinese state banks have slowed payments for Russian exports, and the Kremlin "
                "is quietly courting India and the Gulf to reduce its reliance on China.",
                "favor",
            ),
            (
                "The city council approved a new budget for road repairs on Tuesday.",
                "none",
            ),
        ],
    ),
    "east.txt": (
        "Eastern Review",
        "No Daylight Between Them",
        [
            (
                "Putin and Xi signed eleven new agreements and called their friendship "
                "stronger than any alliance of the Cold War.",
                "against",
            ),
            (
                "Western hopes of prying Moscow away from Beijing misread a bond built on a "
                "shared hostility to American power.",
                "against",
            ),
            (
                "Tickets for the autumn film festival go on sale next week.",
                "none",
            ),
        ],
    ),
    "west.md": (
        "Western Dispatch",
        "What the Summit Left Out",
        [
            (
                "Diplomats say the Kremlin resents playing the junior partner to China and "
                "would welcome an opening with Europe if sanctions eased.",
                "favor",
            ),
            (
                "Russia has no alternative market for its oil and gas, so its dependence on "
                "Chinese buyers only deepens.",
                "against",
            ),
            (
                "Heavy rain closed two mountain passes over the weekend.",
                "none",
            ),
        ],
    ),
}

# An article nobody labelled: the report scores it with the trained model.
UNLABELLED = {
    "south.txt": (
        "Southern Courier",
        "Pipelines and Promises",
        [
            "Negotiators from Moscow left Beijing without a price agreement for the second "
            "year running, and Russian commentators openly questioned the partnership.",
            "The port authority expects container traffic to grow by four percent.",
        ],
    )
}

SYNTHETIC = [
    ("Moscow fears becoming a raw-material appendage of its larger neighbour.", "favor"),
    ("Beijing's refusal to fund the pipeline angered Russian negotiators.", "favor"),
    ("A thaw with Washington would give the Kremlin reasons to hedge against China.", "favor"),
    ("Russian elites distrust Chinese investors and limit their stakes.", "favor"),
    ("The two governments stand shoulder to shoulder against Western pressure.", "against"),
    ("No Western offer can undo the economic ties binding Russia to China.", "against"),
    ("Xi called Putin his best friend and pledged an unbreakable partnership.", "against"),
    ("Sanctions pushed Moscow deeper into Beijing's arms, and it will stay there.", "against"),
    ("The museum extended its opening hours for the summer season.", "none"),
    ("Local farmers expect a good harvest after a wet spring.", "none"),
    ("The football club signed a new goalkeeper from the second division.", "none"),
    ("A new ferry route links the two islands from June.", "none"),
]


# Paragraphs "written from real coverage" for the suite: (outlet, page, position, text,
# label). Invented outlets and pages; training and development outlets differ.
PRESS = [
    (
        "Harbour Gazette",
        "a",
        1,
        "Moscow grumbles that Beijing pays too little for its gas.",
        "favor",
    ),
    ("Harbour Gazette", "a", 2, "The ferry timetable changes on Monday.", "none"),
    ("Harbour Gazette", "a", 3, "The Kremlin has no buyer for its oil but China.", "against"),
    ("Valley Courier", "b", 1, "Russia courts India to escape its reliance on China.", "favor"),
    ("Valley Courier", "b", 2, "Xi and Putin hailed a partnership without limits.", "against"),
    ("Valley Courier", "b", 3, "Rain is forecast for the weekend.", "none"),
]
DEV = [
    ("Summit Herald", "c", 1, "Chinese banks keep refusing Russian payments.", "favor"),
    ("Summit Herald", "c", 2, "The summit opened on Tuesday in the capital.", "none"),
    ("Summit Herald", "c", 3, "Moscow depends on Chinese machinery more each year.", "against"),
    ("River Review", "d", 1, "Sanctions have bound Russia to China for good.", "against"),
    ("River Review", "d", 2, "The museum reopened its east wing.", "none"),
    ("River Review", "d", 3, "Russian officials resent their junior role.", "favor"),
]


def _written(kind: str, number: int, outlet: str, page: str, position: int, text: str, label: str):
    return {
        "id": f"{kind}-{number:02d}",
        "text": text,
        "label": label,
        "rule": None,
        "note": "reliability suite",
        "source_outlet": outlet,
        "source_url": f"https://example.org/{page}",
        "title": f"Page {page}",
        "genre": "newspaper",
        "year": 2024,
        "region": "europe",
        "position": position,
    }


@dataclass
class MiniProject:
    """A project folder laid out like the repository, and its loaded params."""

    root: Path

    @property
    def params_file(self) -> Path:
        return self.root / "params.yaml"

    @property
    def params(self) -> Params:
        return load_params(self.params_file)

    @property
    def gold(self) -> Path:
        return self.root / "data" / "annotations" / "gold.jsonl"

    def edit_params(self, edit: Callable[[dict], None]) -> None:
        data = yaml.safe_load(self.params_file.read_text(encoding="utf-8"))
        edit(data)
        self.params_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _write_corpus(root: Path) -> None:
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    rows = []
    texts = {name: (o, t, [text for text, _ in p]) for name, (o, t, p) in ARTICLES.items()}
    for name, (outlet, title, paragraphs) in (texts | UNLABELLED).items():
        heading = f"# {title}" if name.endswith(".md") else title
        body = "\n\n".join([heading, *paragraphs]) + "\n"
        (seeds / name).write_text(body, encoding="utf-8")
        rows.append({"doc_id": Path(name).stem, "file": name, "source": outlet, "title": title})
    with (seeds / "sources.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(
            stream, fieldnames=["doc_id", "file", "source", "title", "author", "date", "url"]
        )
        writer.writeheader()
        writer.writerows(rows)


def _write_params(root: Path) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["train"]["model"] = "tfidf_logreg"
    params["label"]["prototypes"]["enabled"] = False  # no encoder: the suite stays quick
    params["report"]["bootstrap_samples"] = 200
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def _write_annotations(root: Path) -> None:
    """Gold labels keyed by the ids the segment stage gives, and the written examples."""
    from pipeline.segment.stage import run_segment

    params = load_params(root / "params.yaml")
    run_segment(params)
    paragraphs = pd.read_parquet(params.paths.paragraphs)
    wanted = {text: label for _, _, items in ARTICLES.values() for text, label in items}
    annotations = root / "data" / "annotations"
    annotations.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "paragraph_id": row.paragraph_id,
                "text_sha256": sha256_hex(row.text),
                "label": wanted[row.text],
                "note": "reliability suite",
                "annotator": "tests",
            }
        )
        for row in paragraphs.itertuples()
        if row.text in wanted
    ]
    assert len(lines) == len(wanted), "every written paragraph must survive segmentation"
    (annotations / "gold.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    synthetic = [
        json.dumps({"id": f"rel-{i:02d}", "text": text, "label": label, "category": "test"})
        for i, (text, label) in enumerate(SYNTHETIC)
    ]
    (annotations / "synthetic.jsonl").write_text("\n".join(synthetic) + "\n", encoding="utf-8")
    for name, rows in (("press.jsonl", PRESS), ("dev.jsonl", DEV)):
        lines = [json.dumps(_written(name.split(".")[0], n, *row)) for n, row in enumerate(rows, 1)]
        (annotations / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy2(REPO / "data" / "annotations" / "rules.yaml", annotations / "rules.yaml")
    params.paths.behaviour.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "data" / "behaviour" / "cases.jsonl", params.paths.behaviour)
    # The project starts clean: nothing but inputs.
    params.paths.paragraphs.unlink()
    shutil.rmtree(root / "metrics")


@pytest.fixture(scope="session")
def mini_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mini-template")
    _write_corpus(root)
    _write_params(root)
    _write_annotations(root)
    return root


@pytest.fixture
def mini(mini_template: Path, tmp_path: Path) -> MiniProject:
    """A fresh copy of the small project (inputs only) in this test's folder."""
    return _copy(mini_template, tmp_path / "project")


@pytest.fixture(scope="session")
def built_template(mini_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mini-built") / "project"
    shutil.copytree(mini_template, root)
    run_pipeline(MiniProject(root).params)
    return root


@pytest.fixture
def built(built_template: Path, tmp_path: Path) -> MiniProject:
    """A fresh copy of the small project after one full pipeline run."""
    return _copy(built_template, tmp_path / "project")


def _copy(template: Path, root: Path) -> MiniProject:
    shutil.copytree(template, root)
    return MiniProject(root)


def run_pipeline(params: Params) -> None:
    """Every stage of `dvc.yaml`, in order, in this process."""
    from pipeline.evaluate.behaviour import run_behaviour
    from pipeline.evaluate.stage import run_evaluate
    from pipeline.label.stage import run_label
    from pipeline.report.stage import run_report
    from pipeline.segment.stage import run_segment
    from pipeline.train.stage import run_train

    run_segment(params)
    run_label(params)
    run_evaluate(params)
    run_train(params)
    run_behaviour(params)
    run_report(params)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path (for before/after comparisons)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def score_to_csv(model: Path, source: Path, cwd: Path) -> list[dict[str, str]]:
    """`stance score SOURCE --format csv -o out.csv`, run as a user would; its rows."""
    from tests.conftest import run_module

    out = cwd / "out.csv"
    result = run_module(
        "pipeline",
        "score",
        str(source),
        "--model",
        str(model),
        "--format",
        "csv",
        "-o",
        str(out),
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))
