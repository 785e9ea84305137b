"""The package's shape: the dependency order docs/architecture.md states, no import cycle, modules of a readable
size, Typer only in the CLI, and Keras, matplotlib and Rich only where they belong."""

import ast

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "forecast"
# The dependency order, lowest first; a module imports only from its own tier or lower ones (never a cycle).
# docs/architecture.md describes the same tiers (test_docs.py checks that it names every module).
TIERS = [
    ("errors", "config", "options"),
    ("files", "interrupts", "dates", "columnar", "csvfile", "columns", "cleaning", "categories", "data", "datasets", "transforms", "split", "scaling", "windows", "metrics", "baselines",
     "schema", "prepare", "anchors", "evaluate", "ensemble", "advice", "space"),
    ("backend", "parallel", "devices"),
    ("models", "batches", "inference", "callbacks", "plots", "report"),
    ("training", "linear", "artifacts"),
    ("figures", "runs", "prediction", "backtesting", "comparison", "tracking", "study"),
    ("commands", "catalog", "tuning", "api", "boundary"),
    ("cli", "__main__", "__init__"),
]
TIER = {module: i for i, modules in enumerate(TIERS) for module in modules}
# Who may import these libraries at all (at the top of the module, or inside a function).
ALLOWED = {
    "typer": {"cli"},
    "click": set(),
    "keras": {"models", "batches", "inference", "callbacks", "training", "linear", "backend", "artifacts", "devices"},
    "tensorflow": {"backend", "devices"},
    "matplotlib": {"plots"},
    "rich": {"report"},
    "optuna": {"tuning", "study"},
    "mlflow": {"tracking"},
    "pyarrow": {"columnar"},
}
# Keras at the top of a module: only where every caller already needs a backend.
KERAS_AT_TOP = {"models", "batches", "inference", "callbacks", "training"}
MAX_LINES = 320  # "about 300": past that a module is split by idea (STYLE.md)


def imports(module: str) -> list[tuple[str, bool]]:
    """(imported module, at the top level) for every import in forecast/<module>.py."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "forecast":  # from forecast import artifacts, plots
                found += [(f"forecast.{alias.name}", id(node) in top) for alias in node.names
                          if (PACKAGE / f"{alias.name}.py").exists()]
            else:
                found.append((node.module, id(node) in top))
    return found


MODULES = sorted(p.stem for p in PACKAGE.glob("*.py"))


def internal(module: str) -> set[str]:
    return {name.split(".")[1] for name, _ in imports(module) if name.startswith("forecast.")}


def test_every_module_has_a_tier():
    assert sorted(TIER) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_imports_follow_the_dependency_order(module):
    upward = {dep for dep in internal(module) if TIER[dep] > TIER[module]}
    assert not upward, f"{module} (tier {TIER[module]}) imports from higher tiers: {sorted(upward)}"


def test_no_import_cycle():
    graph = {m: internal(m) for m in MODULES}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        if state.get(m) == 1:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(m):], m]))
        if state.get(m) == 2:
            return
        state[m] = 1
        for dep in sorted(graph[m]):
            visit(dep, [*path, m])
        state[m] = 2

    for m in MODULES:
        visit(m, [])


@pytest.mark.parametrize("module", MODULES)
def test_libraries_only_where_they_belong(module):
    for name, at_top in imports(module):
        root = name.split(".")[0]
        if root in ALLOWED:
            assert module in ALLOWED[root], f"{module} imports {name}"
            if root == "keras" and at_top:
                assert module in KERAS_AT_TOP, f"{module} imports keras at the top; import it where it is used"


def test_the_cli_loads_only_typer_and_the_options_at_import():
    top = {name for name, at_top in imports("cli") if at_top and not name.startswith(("__future__",))}
    stdlib = {"contextlib", "dataclasses", "enum", "inspect", "collections.abc", "pathlib", "typing"}
    assert top - stdlib == {"typer", "typer.core", "forecast.config", "forecast.options", "forecast.errors",
                            "forecast.boundary"}


@pytest.mark.parametrize("module", MODULES)
def test_modules_stay_readable_in_one_sitting(module):
    lines = len((PACKAGE / f"{module}.py").read_text().splitlines())
    assert lines <= MAX_LINES, f"forecast/{module}.py has {lines} lines; split it by idea"
