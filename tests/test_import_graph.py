# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The package's stages import one way. Every import statement of ilwp_embedded (module level or
inside a function) is read with `ast`; each module belongs to one stage, a stage imports only from the
stages it builds on (and their own), and no set of modules imports itself round in a cycle.

    shared -> ingest -> ops ----------> generate -> target -> run -> pipeline -> cli
                 \\-> compress ------/                        /
                 \\-> reference (datasets, golden, metrics) -> train --/-----------------/

`docs/architecture.md` draws the same picture; a new module goes in the stage of its folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "ilwp_embedded"

# stage -> (its packages/modules under ilwp_embedded, the stages it builds on directly)
STAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "shared": (("__init__", "errors", "fileio", "tfquiet", "resources", "bundled"), ()),
    "ingest": (("ingest",), ("shared",)),
    "ops": (("ops",), ("ingest",)),
    "compress": (("compress",), ("ingest",)),
    "reference": (("datasets", "golden", "metrics"), ("ingest",)),
    "train": (("train", "zoo"), ("compress", "reference")),
    "generate": (("generate",), ("ops", "compress")),
    "target": (("target", "cycles"), ("generate",)),
    "run": (("run",), ("target", "reference")),
    "pipeline": (("pipeline",), ("run",)),
    "cli": (("cli", "__main__", "commands"), ("pipeline", "train")),
}


def _modules() -> dict[str, Path]:
    """'ingest.graph' -> path, for every module of the package ('ingest' for ingest/__init__.py)."""
    out = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(PKG).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules that `name` imports (resolving `from pkg import submodule`)."""
    is_pkg = path.name == "__init__.py"
    deps = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                mod = ".".join(["ilwp_embedded", *base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            # `from pkg import sub` imports the submodule; `from pkg import name` the package
            targets = [f"{mod}.{a.name}" if _local(f"{mod}.{a.name}") in modules else mod for a in node.names]
        else:
            continue
        for t in targets:
            if not (t == "ilwp_embedded" or t.startswith("ilwp_embedded.")):
                continue
            t = _local(t)
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                deps.add(t)
    return deps


def _local(dotted: str) -> str:
    """'ilwp_embedded.ingest.graph' -> 'ingest.graph'; the package itself -> '__init__'."""
    return "__init__" if dotted == "ilwp_embedded" else dotted[len("ilwp_embedded."):]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(m, p, modules) for m, p in modules.items()}


def _stage_of(module: str) -> str | None:
    top = module.split(".")[0]
    return next((s for s, (members, _) in STAGES.items() if top in members), None)


def _below(stage: str) -> set[str]:
    """The stages `stage` may import: itself and everything it builds on, transitively."""
    seen, todo = set(), [stage]
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(STAGES[s][1])
    return seen


def test_every_module_has_a_stage():
    assert [m for m in _graph() if _stage_of(m) is None] == []


def test_the_stage_table_is_a_chain_without_cycles():
    for s in STAGES:
        for before in STAGES[s][1]:
            assert s not in _below(before), f"{s} and {before} build on each other"


def test_no_stage_imports_a_later_one():
    bad = [f"{m} ({_stage_of(m)}) imports {d} ({_stage_of(d)})"
           for m, deps in _graph().items() for d in sorted(deps)
           if _stage_of(d) not in _below(_stage_of(m))]
    assert bad == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node: the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycle_between_modules():
    assert _cycles(_graph()) == []


def test_no_import_cycle_between_packages():
    """ingest -> zoo -> golden -> ingest was one: each package (top-level folder or module) apart."""
    packages: dict[str, set[str]] = {}
    for m, deps in _graph().items():
        top = m.split(".")[0]
        packages.setdefault(top, set()).update(d.split(".")[0] for d in deps if d.split(".")[0] != top)
    assert _cycles(packages) == []


def test_the_package_never_imports_the_tools_beside_it():
    """devtools/ (tests, benches) and tests/ are not shipped: nothing in the package may need them."""
    bad = []
    for p in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            bad += [f"{p.relative_to(PKG)}: {n}" for n in names if n.split(".")[0] in ("devtools", "tests", "bench")]
    assert bad == []


def _private_imports(name: str, path: Path) -> list[str]:
    """`from ilwp_embedded.<other package>... import _name`: a private name taken across packages."""
    top = name.split(".")[0]
    bad = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("ilwp_embedded."):
            other = _local(node.module).split(".")[0]
            bad += [f"{name}: {node.module}.{a.name}" for a in node.names
                    if other != top and a.name.startswith("_") and not a.name.startswith("__")]
    return bad


def test_no_private_name_crosses_a_package():
    """What a package offers the others is public: a `_name` is free to change inside its package."""
    assert [b for m, p in _modules().items() for b in _private_imports(m, p)] == []


def test_the_checker_sees_a_backward_import(tmp_path):
    """The parser resolves the import forms the package uses (so the tests above can fail)."""
    mods = {"__init__": tmp_path / "__init__.py", "ingest": tmp_path / "ingest" / "__init__.py", "ingest.graph": tmp_path / "ingest" / "graph.py",
            "generate.codegen": tmp_path / "generate" / "codegen.py", "generate": tmp_path / "generate" / "__init__.py"}
    src = ("from ilwp_embedded.generate import codegen\nimport ilwp_embedded.generate.codegen as c\n"
           "def f():\n    from . import graph\n    from ..generate.codegen import generate\n")
    p = tmp_path / "ingest" / "x.py"
    p.parent.mkdir()
    p.write_text(src)
    assert _imports("ingest.x", p, mods) == {"generate.codegen", "ingest.graph"}
    assert _stage_of("generate.codegen") not in _below(_stage_of("ingest.x"))
    assert _cycles({"ingest": {"zoo"}, "zoo": {"golden"}, "golden": {"ingest"}, "run": {"ingest"}}) == [
        ["golden", "ingest", "zoo"]]
    q = tmp_path / "train" / "y.py"
    q.parent.mkdir()
    q.write_text("from ilwp_embedded.datasets import _find, find_file\nfrom ilwp_embedded.train.common import _x\n")
    assert _private_imports("train.y", q) == ["train.y: ilwp_embedded.datasets._find"]
