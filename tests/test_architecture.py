"""The architecture of socialmarl, checked from the source text (docs/ARCHITECTURE.md).

Every ``.py`` file under ``socialmarl/`` is parsed with :mod:`ast`; nothing is imported, so
these tests run in a fraction of a second and report a broken layout even when the package
itself no longer imports.

Import edges (one convention for every check here):

* Every ``import`` / ``from ... import`` statement counts, at module level or inside a
  function or class body, except those in the body of ``if TYPE_CHECKING:`` (or
  ``if typing.TYPE_CHECKING:``). Those are typing only: they are skipped by the cycle check
  but still count for the layer check (a lower layer should not even name a higher one's
  types).
* Relative imports are resolved against the importing module's package (a package's
  ``__init__.py`` is its own package).
* ``import a.b.c`` is an edge to ``a.b.c``. ``from a.b import c`` is an edge to ``a.b.c``
  when ``a.b.c`` is a module of the package, otherwise (``c`` is a name defined in ``a.b``)
  to ``a.b``.
* Importing a module does *not* count an edge to its parent packages' ``__init__``, although
  Python runs them first: ``from ..networks.graph import Graph`` is an edge to
  ``socialmarl.networks.graph`` only. The sub-packages' ``__init__`` files are kept light
  (lazy names) so that this holds in practice.
* Names loaded by string (``importlib.import_module``, the lazy ``_PARTS`` tables) are not
  edges; only import statements are.
* A module's edge to itself is ignored; an import of a name outside the package is ignored.

Layers, low to high: common < networks < game < rules, learning < analysis, adapters < apps.
A module may import its own sub-package and any lower layer; ``rules`` and ``learning`` are
siblings and may not import each other, nor may ``analysis`` and ``adapters``. The package
root (``socialmarl/__init__.py``, ``socialmarl/__main__.py``) is exempt and no sub-package
may import it.

Each checker is also run on small synthetic packages written to ``tmp_path`` (the
``test_checker_*`` tests) to prove it fails when it should.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO / "socialmarl"
ARCHITECTURE_MD = REPO / "docs" / "ARCHITECTURE.md"

#: sub-package -> layer rank (low to high). Equal ranks are siblings: they may not import
#: each other. A new sub-package must be added here (and to docs/ARCHITECTURE.md).
LAYERS: dict[str, int] = {
    "common": 0,
    "networks": 1,
    "game": 2,
    "rules": 3,
    "learning": 3,
    "analysis": 4,
    "adapters": 4,
    "sweeps": 5,
    "apps": 6,
}

#: files of the package root that are allowed besides the sub-packages
ROOT_FILES = frozenset({"__init__.py", "__main__.py"})


# --------------------------------------------------------------------------------------
# reading a package


def _rel(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it (messages stay short)."""
    try:
        return path.relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. "socialmarl.networks.graph"; a package's __init__ is the package
    path: Path
    is_package: bool  # an __init__.py


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    lineno: int
    type_checking: bool  # inside `if TYPE_CHECKING:`


def package_modules(package_dir: Path) -> dict[str, Module]:
    """Every module of the package in ``package_dir`` by dotted name (``__pycache__`` skipped)."""
    base = package_dir.name
    modules: dict[str, Module] = {}
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir)
        if "__pycache__" in rel.parts:
            continue
        parts = [base, *rel.parts[:-1]]
        is_package = rel.name == "__init__.py"
        if not is_package:
            parts.append(rel.stem)
        name = ".".join(parts)
        modules[name] = Module(name, path, is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_nodes(tree: ast.AST) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in ``tree`` with whether it sits under ``if TYPE_CHECKING:``."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, typing_only = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, typing_only
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((child, True) for child in node.body)
            stack.extend((child, typing_only) for child in node.orelse)
            continue
        stack.extend((child, typing_only) for child in ast.iter_child_nodes(node))


def module_edges(module: Module, modules: Mapping[str, Module]) -> tuple[list[Edge], list[str]]:
    """The import edges of ``module`` into the package, and the imports that name no module.

    ``modules`` is :func:`package_modules` of the whole package; the second list holds
    ``"file:line: import"`` for imports of the package that resolve to no existing module.
    """
    root = next(iter(modules)).split(".")[0] if modules else ""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    here = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    edges: list[Edge] = []
    unresolved: list[str] = []

    def add(target: str, lineno: int, typing_only: bool) -> None:
        if target.split(".")[0] != root:
            return  # outside the package
        if target not in modules:
            unresolved.append(f"{_rel(module.path)}:{lineno}: {target}")
        elif target != module.name:
            edges.append(Edge(module.name, target, lineno, typing_only))

    nodes = sorted(_import_nodes(tree), key=lambda item: (item[0].lineno, item[0].col_offset))
    for node, typing_only in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno, typing_only)
            continue
        if node.level:
            if node.level - 1 > len(here) - 1:
                unresolved.append(f"{_rel(module.path)}:{node.lineno}: relative import beyond top")
                continue
            base = here[: len(here) - (node.level - 1)]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            if alias.name != "*" and sub in modules:
                add(sub, node.lineno, typing_only)
            else:
                add(source, node.lineno, typing_only)
    return edges, unresolved


def import_graph(package_dir: Path) -> tuple[dict[str, Module], list[Edge], list[str]]:
    """All modules, all import edges and all unresolved internal imports of a package."""
    modules = package_modules(package_dir)
    edges: list[Edge] = []
    unresolved: list[str] = []
    for module in modules.values():
        e, u = module_edges(module, modules)
        edges += e
        unresolved += u
    return modules, edges, unresolved


# --------------------------------------------------------------------------------------
# the checkers


def _location(edge: Edge, modules: Mapping[str, Module]) -> str:
    return f"{_rel(modules[edge.source].path)}:{edge.lineno}"


def find_cycles(modules: Mapping[str, Module], edges: Iterable[Edge]) -> list[str]:
    """One message per import cycle (per strongly connected component), with its path."""
    out: dict[str, dict[str, Edge]] = {name: {} for name in modules}
    for edge in edges:
        if edge.type_checking:
            continue
        out[edge.source].setdefault(edge.target, edge)  # the first import of a target

    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(out):
        if start in index:
            continue
        work = [(start, iter(sorted(out[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(out[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    messages = []
    for component in components:
        members = set(component)
        first = component[0]
        # shortest way back to `first` inside the component (breadth first)
        previous: dict[str, str] = {}
        frontier = [first]
        while frontier and first not in previous:
            nxt = []
            for node in frontier:
                for child in sorted(out[node]):
                    if child in members and child not in previous:
                        previous[child] = node
                        nxt.append(child)
            frontier = nxt
        path = [first]
        node = previous[first]
        while node != first:
            path.append(node)
            node = previous[node]
        path.append(first)
        path.reverse()
        steps = [
            f"  {a} -> {b}  ({_location(out[a][b], modules)})" for a, b in zip(path, path[1:])
        ]
        messages.append(
            f"import cycle of {len(component)} modules ({', '.join(component)}):\n"
            + "\n".join(steps)
        )
    return messages


def _subpackage(name: str, modules: Mapping[str, Module]) -> str | None:
    """``socialmarl.networks.loaders.files`` -> ``networks``; the root's own files -> None."""
    parts = name.split(".")
    if len(parts) == 1 or (len(parts) == 2 and not modules[name].is_package):
        return None  # socialmarl/__init__.py, socialmarl/__main__.py
    return parts[1]


def find_layer_violations(
    modules: Mapping[str, Module], edges: Iterable[Edge], layers: Mapping[str, int] = LAYERS
) -> list[str]:
    """One message per import that points to a higher layer, a sibling layer or the root."""
    order = " < ".join(
        ", ".join(sorted(k for k, v in layers.items() if v == rank))
        for rank in sorted(set(layers.values()))
    )
    messages = []
    for module in modules.values():
        sub = _subpackage(module.name, modules)
        if sub is not None and sub not in layers:
            messages.append(
                f"{_rel(module.path)}: sub-package {sub!r} has no layer; add it to LAYERS in "
                "tests/test_architecture.py and to the layer table of docs/ARCHITECTURE.md"
            )
    for edge in edges:
        source = _subpackage(edge.source, modules)
        target = _subpackage(edge.target, modules)
        if source is None or source == target or source not in layers:
            continue  # the root is exempt; a sub-package may import its own modules
        where = _location(edge, modules)
        typing = " (under TYPE_CHECKING)" if edge.type_checking else ""
        if target is None:
            messages.append(
                f"{where}: {edge.source} imports the package root {edge.target}{typing}; "
                "import the module that defines the name instead"
            )
        elif target not in layers:
            continue  # reported above as a sub-package without a layer
        elif layers[target] > layers[source]:
            messages.append(
                f"{where}: {edge.source} ({source}) imports {edge.target}{typing}, from the "
                f"higher layer {target}; layers may only import downwards ({order})"
            )
        elif layers[target] == layers[source]:
            messages.append(
                f"{where}: {edge.source} ({source}) imports {edge.target}{typing}, from its "
                f"sibling layer {target}; siblings may not import each other ({order})"
            )
    return messages


def find_stray_root_entries(package_dir: Path) -> list[str]:
    """Entries of the package root other than ``__init__.py``, ``__main__.py`` and packages."""
    stray = []
    for entry in sorted(package_dir.iterdir()):
        if entry.name == "__pycache__" or (entry.name in ROOT_FILES and entry.is_file()):
            continue
        if entry.is_dir() and (entry / "__init__.py").is_file():
            continue
        what = "a folder without __init__.py" if entry.is_dir() else "a file"
        stray.append(f"{entry.relative_to(package_dir.parent)} ({what})")
    return stray


def module_mentions(name: str, module: Module, package_dir: Path) -> list[str]:
    """The spellings of a module that count as a mention: dotted path or file path."""
    rel = module.path.relative_to(package_dir.parent).as_posix()
    spellings = [name, rel]
    if module.is_package:
        spellings.append(rel[: -len("__init__.py")])  # socialmarl/networks/
    return spellings


def find_undocumented(modules: Mapping[str, Module], package_dir: Path, text: str) -> list[str]:
    """Modules that ``text`` names neither by dotted path nor by file path."""
    missing = []
    for name, module in sorted(modules.items()):
        found = False
        for spelling in module_mentions(name, module, package_dir):
            # a whole token: `socialmarl.networks` is not mentioned by `socialmarl.networks.graph`
            pattern = r"(?<![\w./])" + re.escape(spelling) + r"(?![\w/]|\.\w)"
            if re.search(pattern, text):
                found = True
                break
        if not found:
            missing.append(f"{name} ({module.path.relative_to(package_dir.parent).as_posix()})")
    return missing


# --------------------------------------------------------------------------------------
# the architecture of socialmarl


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Module], list[Edge], list[str]]:
    return import_graph(PACKAGE_DIR)


def test_no_import_cycles(graph):
    modules, edges, _ = graph
    cycles = find_cycles(modules, edges)
    assert not cycles, (
        "socialmarl has import cycles (function-level imports count; only `if TYPE_CHECKING:` "
        "is skipped). Break each by moving the shared piece down a layer:\n\n"
        + "\n\n".join(cycles)
    )


def test_layers_import_only_downwards(graph):
    modules, edges, _ = graph
    violations = find_layer_violations(modules, edges)
    assert not violations, (
        "imports against the layer order (see docs/ARCHITECTURE.md, 'Layers'):\n"
        + "\n".join(violations)
    )


def test_internal_imports_name_existing_modules(graph):
    # guards the two checks above: an import they cannot resolve is an edge they cannot see
    _, _, unresolved = graph
    assert not unresolved, (
        "imports of socialmarl that name no module of the package (moved or renamed?):\n"
        + "\n".join(unresolved)
    )


def test_package_root_holds_only_init_main_and_subpackages():
    stray = find_stray_root_entries(PACKAGE_DIR)
    assert not stray, (
        "socialmarl/ may hold only __init__.py, __main__.py and sub-packages; move these into "
        "the sub-package of their layer (docs/ARCHITECTURE.md, 'Where does a new X go'):\n"
        + "\n".join(stray)
    )


def test_every_subpackage_has_a_layer():
    subs = sorted(p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").is_file())
    unknown = [s for s in subs if s not in LAYERS]
    assert not unknown, (
        f"sub-packages without a layer: {unknown}; add each to LAYERS in "
        "tests/test_architecture.py and to the layer table of docs/ARCHITECTURE.md"
    )


def test_architecture_map_names_every_module(graph):
    modules, _, _ = graph
    assert ARCHITECTURE_MD.is_file(), f"{ARCHITECTURE_MD} is missing"
    missing = find_undocumented(modules, PACKAGE_DIR, ARCHITECTURE_MD.read_text("utf-8"))
    assert not missing, (
        f"docs/ARCHITECTURE.md does not mention {len(missing)} module(s) by dotted or file path; "
        "add one line each to its module list:\n" + "\n".join(missing)
    )


# --------------------------------------------------------------------------------------
# the checkers can fail: synthetic packages


def write_package(root: Path, files: Mapping[str, str], name: str = "socialmarl") -> Path:
    """Write ``{relative path: source}`` as a package ``name`` under ``root``; return its dir."""
    package_dir = root / name
    for rel, source in files.items():
        path = package_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return package_dir


def _cycles(package_dir: Path) -> list[str]:
    modules, edges, unresolved = import_graph(package_dir)
    assert not unresolved, unresolved
    return find_cycles(modules, edges)


def _violations(package_dir: Path) -> list[str]:
    modules, edges, unresolved = import_graph(package_dir)
    assert not unresolved, unresolved
    return find_layer_violations(modules, edges)


def test_checker_finds_a_function_level_cycle_through_relative_imports(tmp_path):
    package = write_package(tmp_path, {
        "__init__.py": "",
        "game/__init__.py": "",
        "game/a.py": "from .b import thing\n",
        "game/b.py": "from ..game import c\n",  # `c` is a module: an edge to game.c
        "game/c.py": """\
            def late():
                from . import a  # function level counts
                return a
            """,
    })
    cycles = _cycles(package)
    assert len(cycles) == 1, cycles
    assert "socialmarl.game.a -> socialmarl.game.b" in cycles[0]
    assert "socialmarl.game.b -> socialmarl.game.c" in cycles[0]
    assert "socialmarl.game.c -> socialmarl.game.a" in cycles[0]
    assert "game/c.py:2" in cycles[0], cycles[0]


def test_checker_finds_a_cycle_through_a_package_init(tmp_path):
    package = write_package(tmp_path, {
        "__init__.py": "",
        "networks/__init__.py": "from .graph import Graph\n",
        "networks/graph.py": "import socialmarl.networks.stats\nGraph = 1\n",
        "networks/stats.py": "from socialmarl.networks import Graph\n",  # a name: -> __init__
    })
    cycles = _cycles(package)
    assert len(cycles) == 1, cycles
    assert "socialmarl.networks.stats -> socialmarl.networks " in cycles[0]


def test_checker_conventions_that_are_not_cycles(tmp_path):
    package = write_package(tmp_path, {
        # the root imports everything and nothing imports the root: no cycle
        "__init__.py": "from .game.a import x\n",
        # an __init__ importing its module is no cycle: importing game.a is no edge to game
        "game/__init__.py": "from .a import x\n",
        "game/a.py": """\
            from typing import TYPE_CHECKING
            import os
            x = 1
            if TYPE_CHECKING:
                from .b import y  # typing only: skipped
            """,
        "game/b.py": "from .a import x\ny = x\n",
    })
    assert _cycles(package) == []


def test_checker_reports_imports_of_missing_modules(tmp_path):
    package = write_package(tmp_path, {
        "__init__.py": "",
        "game/__init__.py": "",
        "game/a.py": "from ..networks.graph import Graph\nimport socialmarl.game.gone\n",
    })
    _, _, unresolved = import_graph(package)
    assert len(unresolved) == 2, unresolved
    assert "game/a.py:1: socialmarl.networks.graph" in unresolved[0]
    assert "game/a.py:2: socialmarl.game.gone" in unresolved[1]


def test_checker_finds_upward_sibling_and_root_imports(tmp_path):
    package = write_package(tmp_path, {
        "__init__.py": "from .apps.cli import main\n",  # the root is exempt
        "__main__.py": "from socialmarl.apps.cli import main\n",
        "common/__init__.py": "",
        "common/checks.py": "def f():\n    from ..game.game import Game\n",  # upward
        "game/__init__.py": "",
        "game/game.py": "from ..common.checks import f\nGame = 1\n",  # downward: fine
        "game/strategies.py": "from .game import Game\n",  # own sub-package: fine
        "rules/__init__.py": "",
        "rules/base.py": "from socialmarl.learning import policy\n",  # sibling
        "learning/__init__.py": "",
        "learning/policy.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from ..analysis.metrics import summarise  # counts for layers
            """,
        "analysis/__init__.py": "",
        "analysis/metrics.py": "import socialmarl\nsummarise = 1\n",  # the root
        "apps/__init__.py": "",
        "apps/cli.py": "from ..analysis.metrics import summarise\nmain = 1\n",  # fine
    })
    violations = _violations(package)
    assert len(violations) == 4, "\n".join(violations)
    text = "\n".join(violations)
    assert "common/checks.py:2: socialmarl.common.checks (common) imports " in text
    assert "from the higher layer game" in text
    assert "rules/base.py:1:" in text and "sibling layer learning" in text
    assert "learning/policy.py:3:" in text and "(under TYPE_CHECKING)" in text
    assert "analysis/metrics.py:1:" in text and "package root" in text


def test_checker_flags_a_subpackage_without_a_layer(tmp_path):
    package = write_package(tmp_path, {
        "__init__.py": "",
        "common/__init__.py": "",
        "plugins/__init__.py": "",
        "plugins/grid.py": "from ..common import checks\n",
        "common/checks.py": "",
    })
    violations = _violations(package)
    assert violations and all("'plugins' has no layer" in v for v in violations), violations


def test_checker_finds_stray_root_entries(tmp_path):
    package = write_package(tmp_path, {
        "__init__.py": "",
        "__main__.py": "",
        "game/__init__.py": "",
        "helpers.py": "",
        "notes/readme.txt": "",
    })
    (package / "__pycache__").mkdir()
    stray = find_stray_root_entries(package)
    assert stray == ["socialmarl/helpers.py (a file)",
                     "socialmarl/notes (a folder without __init__.py)"], stray


def test_checker_finds_undocumented_modules(tmp_path):
    package = write_package(tmp_path, {
        "__init__.py": "",
        "networks/__init__.py": "",
        "networks/graph.py": "",
        "networks/stats.py": "",
        "networks/loaders/__init__.py": "",
        "networks/loaders/files.py": "",
    })
    modules = package_modules(package)
    text = """
    * `socialmarl` and `socialmarl/networks/graph.py`, `socialmarl.networks.loaders.files`.
    * `socialmarl.networks.statistics` is not stats; `socialmarl/networks/loaders/` is.
    """
    missing = find_undocumented(modules, package, text)
    assert missing == [
        "socialmarl.networks (socialmarl/networks/__init__.py)",
        "socialmarl.networks.stats (socialmarl/networks/stats.py)",
    ], missing
