"""The package structure: no import cycles, and no import that crosses a layer the wrong way.

The layers (docs/architecture.md): bot → handlers → services → storage → scoring/surveys.
A feature package inside services/ or handlers/ is entered through its `__init__` (issue 25).
Every `import` and `from … import` in a module counts, at any depth (also inside functions
and under TYPE_CHECKING): a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
PACKAGES: Final = ("bot", "handlers", "services", "sandbox", "storage", "scoring", "surveys")
MAX_LINES: Final = 600  # a smell alarm, not a target (issue 25)

# (importing package, imported package or module prefix): never allowed.
FORBIDDEN: Final = {
    ("handlers", "storage"): "handlers reach the database only through services",
    ("handlers", "sqlalchemy"): "SQL lives in storage",
    ("services", "sqlalchemy"): "SQL lives in storage",
    ("sandbox", "sqlalchemy"): "SQL lives in storage",
    ("bot", "sqlalchemy"): "SQL lives in storage",
    ("services", "handlers"): "services know nothing of Telegram handlers",
    ("storage", "services"): "storage is below services",
    ("storage", "handlers"): "storage is below handlers",
    ("storage", "bot"): "storage is below the composition root",
    ("storage", "telegram"): "storage knows nothing of Telegram",
}
PURE: Final = ("scoring", "surveys")  # may import each other, the stdlib and data libraries
PURE_MAY_NOT: Final = (
    "bot",
    "handlers",
    "services",
    "sandbox",
    "storage",
    "telegram",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
)
# Only entry points import the composition root: the CLI inside bot/, and tests.
ROOT_PACKAGE: Final = "bot"
# A feature package (a package inside services/ or handlers/) is entered through its
# `__init__`: code outside it imports `services.reach`, never `services.reach.contacts`.
FEATURE_LAYERS: Final = ("services", "handlers")
# Modules that are their own door, and why.
OWN_DOOR: Final = {
    "services.pushes": "the sending plumbing every feature shares (delivery, fan-out, cron) "
    "beside the scheduler that calls every feature: one door would be a cycle",
    "services.rakor.pdf": "reportlab loads only when a PDF is asked for",
    "services.miniapp": "the Mini App's server side; handlers/miniapp and the sandbox take "
    "its parts (auth, dashboard) as they need them",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic scripts are loaded by Alembic, not imported
            found[_module_name(path)] = path
    return found


def _imports(path: Path, module: str, known: frozenset[str] = frozenset()) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            members = {f"{target}.{alias.name}" for alias in node.names}
            # `from services import links` imports the module services.links; the package
            # itself only counts when a name from its __init__ is taken.
            if not members <= known:
                names.add(target)
            names.update(members)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    known = frozenset(modules)
    for module, path in modules.items():
        for name in _imports(path, module, known):
            if name in modules and name != module:
                graph[module].add(name)
            graph.setdefault(module, set())
    return graph


def _all_imports() -> dict[str, set[str]]:
    return {module: _imports(path, module) for module, path in _modules().items()}


def _top(name: str) -> str:
    return name.split(".")[0]


def test_no_import_cycle() -> None:
    graph = _graph()
    # A package imports its own __init__ implicitly; edges to a parent package are not cycles
    # of substance unless the parent imports the child back, which Tarjan below still finds.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_no_forbidden_edge() -> None:
    problems = []
    for module, names in _all_imports().items():
        source = _top(module)
        for name in names:
            target = _top(name)
            reason = FORBIDDEN.get((source, target))
            if reason:
                problems.append(f"{module} imports {name}: {reason}")
            if source in PURE and target in PURE_MAY_NOT:
                problems.append(f"{module} imports {name}: {source} is pure")
            if target == ROOT_PACKAGE and source != ROOT_PACKAGE:
                problems.append(f"{module} imports {name}: only entry points import bot/")
    assert not problems, "\n".join(sorted(problems))


def _features(modules: dict[str, Path]) -> set[str]:
    return {
        module
        for module, path in modules.items()
        if path.name == "__init__.py" and module.count(".") == 1 and _top(module) in FEATURE_LAYERS
    }


def _door_problems(
    imports: dict[str, set[str]], features: set[str], known: frozenset[str]
) -> list[str]:
    """Imports of a module inside a feature package from outside that package."""
    problems = []
    for module, names in imports.items():
        for name in names:
            feature = ".".join(name.split(".")[:2])
            if feature not in features or name == feature or name not in known:
                continue  # the package itself, or a name its __init__ offers
            if module == feature or module.startswith(f"{feature}."):
                continue  # inside the package, modules import their siblings
            if any(name == door or name.startswith(f"{door}.") for door in OWN_DOOR):
                continue
            problems.append(f"{module} imports {name}: enter {feature} through its __init__")
    return problems


def test_features_are_entered_through_their_init() -> None:
    modules = _modules()
    known = frozenset(modules)
    imports = {module: _imports(path, module, known) for module, path in modules.items()}
    problems = _door_problems(imports, _features(modules), known)
    assert not problems, "\n".join(sorted(problems))


def test_the_door_check_sees_a_side_entrance() -> None:
    """Guard the guard: a planted import of an inner module from outside is flagged."""
    features = {"services.reach", "services.actions"}
    known = frozenset({*features, "services.reach.contacts", "services.actions.plans"})
    planted = {
        "services.actions.reminders": {"services.reach.contacts", "services.actions.plans"},
        "handlers.reach": {"services.reach", "services.reach.cipher_for", "services.release"},
    }
    assert _door_problems(planted, features, known) == [
        "services.actions.reminders imports services.reach.contacts: "
        "enter services.reach through its __init__"
    ]
    assert "services.reach" in _features(_modules())


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_stay_small(package: str) -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_the_checks_see_real_imports() -> None:
    """Guard the guard: the parser finds a known edge and would flag a planted bad one."""
    graph = _graph()
    assert "services.links" in graph["services.respondent.entry"]
    assert "handlers.context" in graph["handlers.reports.scores"]
    planted = ast.parse("import storage\nfrom storage.roles import Role\n")
    found = {
        alias.name
        for node in ast.walk(planted)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert ("handlers", _top(next(iter(found)))) in FORBIDDEN


def test_storage_is_entered_by_its_modules() -> None:
    """No front door: `from storage import X` names a module, so a reader can follow a call.

    Issue 25: the package once re-exported 167 names, and a call could not be traced to the
    module (and table family) that runs it.
    """
    storage_modules = {
        name.removeprefix("storage.") for name in _modules() if name.startswith("storage.")
    }
    assert not [
        line
        for line in (ROOT / "storage" / "__init__.py").read_text(encoding="utf-8").splitlines()
        if line.startswith(("import ", "from ", "__all__"))
    ], "storage/__init__.py re-exports again"
    roots = [ROOT / package for package in (*PACKAGES, "tests", "benchmarks")]
    bad = sorted(
        f"{path.relative_to(ROOT)}: {alias.name}"
        for root in roots
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module == "storage" and not node.level
        for alias in node.names
        if alias.name not in storage_modules
    )
    assert not bad, f"names imported from the storage package itself: {bad}"
