"""What every benchmark here shares: the generated corpus, the machine's facts, result files.

The corpus is the seed articles' paragraphs, segmented by the pipeline and
cycled, each one made unique by a short dispatch note so no embedding cache
(in memory or on disk) can serve it twice; its length mix is the seeds'.
Articles hold 20 paragraphs each, as folders of .txt files or as tables
(jsonl/parquet, columns doc_id, source, title, text). Every benchmark also
points `STANCE_CACHE_DIR` at a fresh temporary folder, so nothing cached by an
earlier run helps.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PARAGRAPHS_PER_ARTICLE = 20
BACKENDS = ("torch", "onnx", "onnx-int8")
PACKAGES = ("torch", "onnxruntime", "transformers", "sentence-transformers", "scikit-learn")


def seed_paragraphs() -> list[str]:
    """The seed corpus's paragraphs, cut by the segment stage's own code."""
    from pipeline.config import load_params
    from pipeline.segment.files import discover_documents
    from pipeline.segment.stage import segment_document

    params = load_params(REPO / "params.yaml")
    documents = discover_documents(
        REPO / params.paths.corpus_dir, REPO / params.paths.manifest, params.segment.extensions
    )
    paragraphs = []
    for document in documents:
        _, segmentation = segment_document(document, params.segment)
        paragraphs += [paragraph.text for paragraph in segmentation.paragraphs]
    return paragraphs


def generated_articles(sources: list[str], count: int, tag: str) -> list[list[str]]:
    """`count` unique paragraphs cut from `sources`, 20 to an article.

    `tag` keeps two calls apart: the same tag gives the same texts, another tag
    texts no cache has seen.
    """
    articles = []
    for index in range(-(-count // PARAGRAPHS_PER_ARTICLE)):
        size = min(PARAGRAPHS_PER_ARTICLE, count - index * PARAGRAPHS_PER_ARTICLE)
        chosen = [sources[(index * 7 + k) % len(sources)] for k in range(size)]
        articles.append([f"{text} (Dispatch {tag}{index}.{k}.)" for k, text in enumerate(chosen)])
    return articles


def generated_paragraphs(sources: list[str], count: int, tag: str) -> list[str]:
    """The same paragraphs as `generated_articles`, as one flat list."""
    return [text for article in generated_articles(sources, count, tag) for text in article]


def write_article_folder(folder: Path, articles: list[list[str]], tag: str) -> None:
    """One .txt file per article: a title line, then its paragraphs."""
    folder.mkdir(parents=True)
    for index, paragraphs in enumerate(articles):
        text = "\n\n".join([f"Dispatch number {tag}{index}", *paragraphs]) + "\n"
        (folder / f"article_{index:06d}.txt").write_text(text, encoding="utf-8")


def write_article_table(path: Path, articles: list[list[str]], tag: str) -> None:
    """One row per article (doc_id, source, title, text) as .jsonl, or .parquet by suffix."""
    rows = [
        {
            "doc_id": f"bench-{tag}{index:06d}",
            "source": f"Wire {index % 5}",
            "title": f"Dispatch number {tag}{index}",
            "text": "\n\n".join(paragraphs),
        }
        for index, paragraphs in enumerate(articles)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        import pandas as pd

        pd.DataFrame(rows).to_parquet(path, index=False)
        return
    with path.open("w", encoding="utf-8") as stream:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")


def isolate_stance_cache() -> Path:
    """Point `STANCE_CACHE_DIR` at a fresh temporary folder for this process and its children.

    Removed when the process exits. Call before a model loads.
    """
    folder = Path(tempfile.mkdtemp(prefix="stance-bench-cache-"))
    os.environ["STANCE_CACHE_DIR"] = str(folder)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def default_model_folder() -> Path:
    """The model `stance score` uses without --model: models/<train.model> from params."""
    from pipeline.config import load_params

    params = load_params(REPO / "params.yaml")
    folder = params.paths.models / params.train.model
    return folder if folder.is_absolute() else REPO / folder


def model_kind(folder: Path) -> str | None:
    """The model name a saved folder's model.json records, or None if it is not a model."""
    try:
        return json.loads((folder / "model.json").read_text(encoding="utf-8"))["model"]
    except (OSError, ValueError, KeyError):
        return None


def relative(path: Path) -> str:
    """A path as the repository names it (absolute when outside)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def rate(count: int, seconds: float) -> float | None:
    """Paragraphs per second, rounded; None when nothing was timed."""
    return round(count / seconds, 2) if seconds > 0 else None


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: other work slows every measurement."""
    return [round(value, 2) for value in os.getloadavg()]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The instruction sets that decide MiniLM's speed here (int8 ONNX uses VNNI when present).
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_flags(cpuinfo: str | None = None) -> dict[str, bool]:
    """Which of `CPU_FLAGS` the first CPU of /proc/cpuinfo (or `cpuinfo`) lists."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            cpuinfo = ""
    listed: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.lower().startswith("flags"):
            listed = set(line.split(":", 1)[1].split())
            break
    return {flag: flag in listed for flag in CPU_FLAGS}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict:
    """The machine and software a result was measured on (no timestamps)."""
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": _cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "ram_gb": round(pages * page_size / 1e9, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **{package: _version(package) for package in PACKAGES},
    }


def write_result(results_dir: Path, name: str, result: dict) -> Path:
    """Write `results_dir/<name>.json` atomically and print it."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    handle, staging = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=results_dir)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    Path(staging).replace(path)
    print(text, end="")
    return path
