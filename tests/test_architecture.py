"""The package's shape: imports never go round in a circle, and each `dvc.yaml` stage
declares the code it runs (so `dvc repro` reruns a stage when that code changes).

Both read the source with `ast` (`tests/import_graph.py`); nothing is imported.
"""

from __future__ import annotations

import ast

import yaml

from tests.import_graph import REPO, cycles, import_edges, imported, modules, reachable


def stage_entries(cmd: str) -> set[str]:
    """The modules a stage's `stance <command>` runs: what that command's function in
    `pipeline/cli.py` imports (the CLI itself is the face, not the stage's code)."""
    words = cmd.split()
    assert words[0] == "stance" and len(words) >= 2, f"unexpected stage command {cmd!r}"
    cli = modules()["pipeline.cli"]
    for node in cli.tree.body:
        if isinstance(node, ast.FunctionDef) and _command_name(node) == words[1]:
            statements = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
            return set().union(*(imported(cli, statement) for statement in statements))
    raise AssertionError(f"pipeline/cli.py has no command {words[1]!r}")


def _command_name(function: ast.FunctionDef) -> str | None:
    """The name `@app.command(...)` gives the function (its own, dashed, by default)."""
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        if call is not None and getattr(call.func, "attr", None) == "command":
            named = call.args[0] if call.args else None
            return (
                named.value if isinstance(named, ast.Constant) else function.name.replace("_", "-")
            )
    return None


def covers(declared: str, path: str) -> bool:
    """Whether a declared dep (a file or a folder) includes the file `path`."""
    return path == declared or path.startswith(declared.rstrip("/") + "/")


def test_no_import_cycles() -> None:
    found = cycles(import_edges())
    assert not found, "import cycles in pipeline/ (each a closed path):\n" + "\n".join(
        " -> ".join(cycle) for cycle in found
    )


def stance_commands(spec: dict) -> list[str]:
    """A stage's `stance ...` commands (a `cmd` may be a list; other tools are not ours)."""
    commands = spec["cmd"] if isinstance(spec["cmd"], list) else [spec["cmd"]]
    return [command for command in commands if command.split()[0] == "stance"]


def test_each_stage_declares_the_code_it_imports() -> None:
    problems = []
    for pipeline_file in ("dvc.yaml", "compare/dvc.yaml"):
        stages = yaml.safe_load((REPO / pipeline_file).read_text(encoding="utf-8"))["stages"]
        for stage, spec in stages.items():
            entries = set().union(*(stage_entries(cmd) for cmd in stance_commands(spec)))
            runs = reachable(entries)
            files = sorted(modules()[name].path.relative_to(REPO).as_posix() for name in runs)
            declared = [dep for dep in spec.get("deps", []) if dep.startswith("pipeline")]
            where = f"{pipeline_file}: {stage}"
            problems += [
                f"{where}: missing {path} (it imports it)"
                for path in files
                if not any(covers(dep, path) for dep in declared)
            ]
            problems += [
                f"{where}: extra {dep} (nothing it imports is there)"
                for dep in declared
                if not any(covers(dep, path) for path in files)
            ]
    assert not problems, "dvc.yaml deps disagree with the imports:\n" + "\n".join(problems)


def test_the_graph_sees_function_local_and_type_checking_imports() -> None:
    edges = import_edges()
    # A function-local import (the CLI loads each stage only when its command runs).
    assert "pipeline.segment.stage" in edges["pipeline.cli"]
    # An `if TYPE_CHECKING:` import.
    assert "pipeline.score.model" in edges["pipeline"]
    assert cycles({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"})}) == [
        ["a", "b", "c", "a"]
    ]
    assert cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_a_stage_reaches_its_packages_and_what_they_import() -> None:
    runs = reachable({"pipeline.segment.stage"})
    assert {"pipeline", "pipeline.segment", "pipeline.kernels", "pipeline.config"} <= runs
    assert "pipeline.score.model" not in runs  # only `pipeline.StanceModel` imports it
