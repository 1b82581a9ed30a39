"""The import graph of `pipeline/`, read with `ast` (nothing is imported).

Two kinds of edge, for the two architecture tests:
- `import_edges`: every `import` statement anywhere in a module (module level, inside
  functions, under `if TYPE_CHECKING:`), for the cycle test;
- `runtime_edges`: the imports that can run (not the `TYPE_CHECKING` ones) plus the
  registries' dynamic imports (a string constant naming a module, `pipeline.x.y` or
  `pipeline.x.y:Class`), for the stages' code dependencies.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "pipeline"
_MODULE_STRING = re.compile(r"pipeline(\.\w+)+(:\w+)?")


@dataclass(frozen=True)
class Module:
    """A module of the package: its dotted name, its file and its parsed source."""

    name: str
    path: Path
    tree: ast.Module

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


@cache
def modules() -> dict[str, Module]:
    """Every module under `pipeline/`, by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    return found


def _known(name: str) -> str | None:
    """`name` if it is a module of the package, else its longest prefix that is one."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules():
            return candidate
    return None


def _base(module: Module, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    anchor = package[: len(package) - node.level + 1]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def imported(module: Module, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's modules one import statement names."""
    if isinstance(node, ast.Import):
        targets = {_known(alias.name) for alias in node.names if alias.name.startswith("pipeline")}
    else:
        base = _base(module, node)
        if not (base == "pipeline" or base.startswith("pipeline.")):
            return set()
        targets = {_known(f"{base}.{alias.name}") for alias in node.names}
    return {target for target in targets if target is not None}


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """Ids of the import statements inside `if TYPE_CHECKING:` blocks."""
    inside = set()
    for node in ast.walk(tree):
        test = node.test if isinstance(node, ast.If) else None
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            inside |= {id(child) for branch in node.body for child in ast.walk(branch)}
    return inside


def _module_strings(tree: ast.Module) -> set[str]:
    """Modules named by string constants such as `"pipeline.models.ensemble:Ensemble"`."""
    named = set()
    for node in ast.walk(tree):
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, str) and _MODULE_STRING.fullmatch(value):
            target = _known(value.split(":")[0])
            if target is not None:
                named.add(target)
    return named


@cache
def import_edges() -> dict[str, frozenset[str]]:
    """Module -> the package's modules its import statements name (all of them)."""
    edges = {}
    for name, module in modules().items():
        targets = set()
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets |= imported(module, node)
        edges[name] = frozenset(targets - {name})
    return edges


@cache
def runtime_edges() -> dict[str, frozenset[str]]:
    """Module -> the modules it may load when it runs (no `TYPE_CHECKING` imports)."""
    return {
        name: _statement_edges(name) | (_module_strings(module.tree) - {name})
        for name, module in modules().items()
    }


def cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """Each group of modules that import one another (Tarjan's strongly connected
    components with more than one module), as one closed path through the group."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in sorted(edges.get(name, ())):
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(_closed_path(sorted(group), edges))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return groups


def _closed_path(group: list[str], edges: dict[str, frozenset[str]]) -> list[str]:
    """A path from the group's first module back to itself, inside the group (BFS)."""
    start, members = group[0], set(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for name in frontier:
            for target in sorted(edges[name] & members):
                if target == start:
                    path = [name]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if target not in previous:
                    previous[target] = name
                    following.append(target)
        frontier = following
    return [*group, start]


# Modules that import the model registry for its names only (validating params): the
# classifiers it names in strings load when a model is built or loaded, not there.
NAMES_ONLY_IMPORTERS = frozenset({"pipeline.config", "pipeline.models.settings"})


def reachable(entries: set[str]) -> set[str]:
    """The modules `entries` may load when they run, themselves and their packages included.

    Importing `pipeline.a.b` runs `pipeline/__init__.py` and `pipeline/a/__init__.py`
    first; of those, only the module-level imports are followed (a package's
    functions serve attribute access from outside, such as `pipeline.StanceModel`).
    The string-named modules of a module reached only from `NAMES_ONLY_IMPORTERS`
    are not followed.
    """
    full: set[str] = set()
    names_only: set[str] = set()
    pending = [(name, False) for name in sorted(entries)]
    while pending:
        name, by_name = pending.pop()
        if name in full or (by_name and name in names_only):
            continue
        (names_only if by_name else full).add(name)
        parts = name.split(".")
        pending += [(".".join(parts[:end]), False) for end in range(1, len(parts))]
        module = modules()[name]
        if module.is_package:
            pending += [(target, False) for target in sorted(_package_imports(module))]
            continue
        statements = _statement_edges(name)
        pending += [(target, name in NAMES_ONLY_IMPORTERS) for target in sorted(statements)]
        if not by_name:
            pending += [(target, False) for target in sorted(runtime_edges()[name] - statements)]
    return full | names_only


@cache
def _statement_edges(name: str) -> frozenset[str]:
    """The runtime edges of a module that are import statements (its strings left out)."""
    module = modules()[name]
    skipped = _type_checking_nodes(module.tree)
    targets = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            targets |= imported(module, node)
    return frozenset(targets - {name})


def _package_imports(module: Module) -> set[str]:
    """The modules a package's `__init__.py` imports at its top level (outside functions)."""
    targets = set()
    for node in module.tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            targets |= imported(module, node)
    return targets - {module.name}
