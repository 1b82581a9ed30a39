"""Safe loading: no code path unpickles, skops loads only the types it expects, and a
tampered model file is refused by the command a user runs."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer

from tests.conftest import REPO, run_module

# Calls that can execute code hidden in a file: module.function pairs, plus keyword
# arguments that turn a safe loader into an unsafe one.
_UNSAFE_CALLS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("cPickle", "load"),
    ("joblib", "load"),
    ("dill", "load"),
    ("dill", "loads"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
    ("torch", "load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("shelve", "open"),
}
_UNSAFE_KEYWORDS = {"allow_pickle", "trusted"}  # np.load(allow_pickle=True), sio.load(trusted=)
_UNSAFE_IMPORTS = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve"}


def unsafe_loads(source: str, name: str) -> list[str]:
    """Every unsafe import or call in `source`, as 'file:line: what'."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.append(node.module)
            for module in modules:
                if module.split(".")[0] in _UNSAFE_IMPORTS:
                    found.append(f"{name}:{node.lineno}: import {module}")
        elif isinstance(node, ast.Call):
            function = node.func
            if (
                isinstance(function, ast.Attribute)
                and isinstance(function.value, ast.Name)
                and (function.value.id, function.attr) in _UNSAFE_CALLS
            ):
                found.append(f"{name}:{node.lineno}: {function.value.id}.{function.attr}")
            for keyword in node.keywords:
                if keyword.arg in _UNSAFE_KEYWORDS and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value in (False, None)
                ):
                    found.append(f"{name}:{node.lineno}: {keyword.arg}=")
    return found


def _python_files() -> list[Path]:
    return sorted(
        path
        for folder in ("pipeline", "benchmarks", "tests")
        for path in (REPO / folder).rglob("*.py")
        if path != Path(__file__)
    )


def test_no_code_unpickles() -> None:
    files = _python_files()
    assert any(path.name == "safe_io.py" for path in files)
    found = [
        hit
        for path in files
        for hit in unsafe_loads(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    ]
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle\n",
        "from joblib import load\n",
        "x = joblib.load('m.joblib')\n",
        "t = torch.load('w.bin')\n",
        "a = np.load('a.npy', allow_pickle=True)\n",
        "m = sio.load('m.skops', trusted=['x'])\n",
        "f = pd.read_pickle('f.pkl')\n",
    ],
)
def test_the_scan_finds_what_it_looks_for(snippet: str) -> None:
    assert unsafe_loads(snippet, "planted.py")


def test_the_scan_lets_safe_calls_pass() -> None:
    safe = "a = np.load('a.npy', allow_pickle=False)\nm = sio.load(path)\nj = json.load(f)\n"
    assert unsafe_loads(safe, "safe.py") == []


def _stance(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_module("pipeline", *args, cwd=cwd)


@pytest.mark.slow
def test_a_model_file_with_an_unexpected_type_is_refused(tiny_model: Path, tmp_path: Path):
    """A skops file that would call `os.system` when loaded is never loaded."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (skops_file,) = folder.glob("*.skops")
    skops_file.write_bytes(sio.dumps(FunctionTransformer(func=shutil.rmtree)))
    article = tmp_path / "a.txt"
    article.write_text("Moscow and Beijing signed a deal.\n", encoding="utf-8")
    result = _stance("score", str(article), "--model", str(folder), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    (error,) = result.stderr.splitlines()
    assert "refusing to load untrusted types" in error and "rmtree" in error
    assert skops_file.name in error


@pytest.mark.slow
def test_a_truncated_model_file_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (skops_file,) = folder.glob("*.skops")
    skops_file.write_bytes(skops_file.read_bytes()[:100])
    article = tmp_path / "a.txt"
    article.write_text("Moscow and Beijing signed a deal.\n", encoding="utf-8")
    result = _stance("score", str(article), "--model", str(folder), cwd=tmp_path)
    assert result.returncode == 3
    (error,) = result.stderr.splitlines()
    assert "damaged model file" in error and skops_file.name in error
