"""The layers can be read off the tree: imports only go downward, and no cycle.

Ranks, bottom to top (see CONTRIBUTING.md): utils < _kernels < engine <
persistence < estimators < forecasting < plotting, datasets, sktime (the sktime
adapter) < cli. The package root (``tsbptt/__init__.py``, ``__main__``,
``_config``, ``_version``) re-exports and reports, and is exempt.
Every ``import`` counts, also those inside functions: an import hidden in a
function is still an arrow between layers.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tsbptt"

RANKS = {"utils": 0, "_kernels": 1, "engine": 2, "persistence": 3, "estimators": 4,
         "forecasting": 5, "plotting": 6, "datasets": 6, "sktime": 6, "cli": 7}
ROOT = {"tsbptt", "tsbptt.__main__", "tsbptt._config", "tsbptt._version"}


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(module):
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def _layer(module):
    """The layer a module of tsbptt belongs to (None for the exempt root)."""
    if module in ROOT:
        return None
    top = module.split(".")[1]
    if top not in RANKS:
        raise AssertionError(f"{module} is in no layer; add {top!r} to RANKS in {__file__}")
    return top


def _resolve(module, node):
    """The tsbptt modules an import statement reads (absolute names)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "tsbptt"]
    if node.level:
        base = module.split(".")
        if not _is_package(module):
            base = base[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "tsbptt":
        return []
    # `from pkg import name` reads pkg.name when that is a module of its own
    out = [target]
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if _is_package(sub) or (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists():
            out.append(sub)
    return out


def _edges():
    """(source module, file, line, target module) for every import in tsbptt."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(module, node):
                    edges.append((module, path.relative_to(PACKAGE.parent), node.lineno,
                                  target))
    return edges


def _upward(edges):
    bad = []
    for module, path, line, target in edges:
        src, dst = _layer(module), _layer(target)
        if src is None or dst is None or src == dst:
            continue
        if RANKS[dst] > RANKS[src]:
            bad.append(f"{path}:{line}: {src} imports {target} ({dst} is above {src})")
    return bad


def _cycles(edges):
    """One cycle per strongly connected component of more than one module."""
    graph = {}
    where = {}
    for module, path, line, target in edges:
        if target != module and not module.startswith(target + "."):
            # a module reading its own package's __init__ is not a cycle of layers
            graph.setdefault(module, set()).add(target)
            where.setdefault((module, target), f"{path}:{line}")
    cycles, seen = [], set()

    def walk(node, stack, on_stack):
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_stack:
                cycle = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    cycles.append(" -> ".join(f"{a} ({where[(a, b)]})"
                                              for a, b in zip(cycle, cycle[1:])))
            elif (node, nxt) not in visited:
                visited.add((node, nxt))
                stack.append(nxt)
                on_stack.add(nxt)
                walk(nxt, stack, on_stack)
                on_stack.discard(nxt)
                stack.pop()

    visited = set()
    for start in sorted(graph):
        walk(start, [start], {start})
    return cycles


def test_every_module_is_in_a_layer():
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    assert "tsbptt.estimators._base" in modules  # the walk sees the subpackages
    for module in modules:
        _layer(module)  # raises for a module outside every layer


def test_no_upward_import():
    bad = _upward(_edges())
    assert not bad, "imports that go up a layer:\n" + "\n".join(bad)


def test_no_import_cycle():
    cycles = _cycles(_edges())
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    from .estimators import LSTMRegressor\n",
     "tsbptt/persistence.py:2: persistence imports tsbptt.estimators"),
    ("import tsbptt.cli._main\n", "tsbptt/persistence.py:1: persistence imports "
     "tsbptt.cli._main (cli is above persistence)"),
])
def test_the_check_names_file_and_line(source, expected):
    """The checker itself finds an upward import, also one inside a function."""
    module = "tsbptt.persistence"
    tree = ast.parse(source)
    edges = [(module, Path("tsbptt/persistence.py"), node.lineno, t)
             for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for t in _resolve(module, node)]
    bad = _upward(edges)
    assert bad and bad[0].startswith(expected)


def test_the_check_finds_a_cycle():
    edges = [("tsbptt.engine.a", Path("tsbptt/engine/a.py"), 3, "tsbptt.engine.b"),
             ("tsbptt.engine.b", Path("tsbptt/engine/b.py"), 7, "tsbptt.engine.a")]
    (cycle,) = _cycles(edges)
    assert cycle == ("tsbptt.engine.a (tsbptt/engine/a.py:3) -> "
                     "tsbptt.engine.b (tsbptt/engine/b.py:7)")
