#!/usr/bin/env python3
"""Check the layering of src/crossentropy from its import statements (AST only, nothing runs).

1. The graph of imports between the package's modules has no cycle (imports anywhere in a
   module count, module level or inside functions; ``if TYPE_CHECKING:`` blocks do not).
2. ``crossentropy._kernels`` (and its submodules) imports no module of the package but its own
   submodules and ``crossentropy._fp``: the kernels are a leaf below the losses.
3. The core (every module outside ``cli/`` and ``compat/``, whose lazy imports keep their
   start-up fast and are theirs to arrange) has no import inside a function except the lazy
   back-end ones listed in ``LAZY``.

Exit status 1 with one line per violation; run by scripts/check.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "crossentropy"
KERNELS = "crossentropy._kernels"
KERNEL_DEPS = {"crossentropy._fp"}
#: Imports allowed inside functions of the core: loaded on first use only.
LAZY = {
    "crossentropy._kernels._numba",  # numba and the compiled kernels
    "array_api_compat",  # non-NumPy inputs only
    "crossentropy._torch",  # PyTorch predictions only (imports torch)
    "crossentropy._jax",  # JAX predictions only (imports jax)
    "concurrent.futures",  # the kernels' thread pool (~10 ms at import)
}
OUTSIDE_CORE = ("crossentropy.cli", "crossentropy.compat")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def resolve(mod: str, pkg: bool, node: ast.ImportFrom, modules: set[str]) -> list[str]:
    """The modules a ``from ... import ...`` depends on: the submodules it names where they
    exist (``from . import _kernels``), else the module it names (``from ._fp import mul0``)."""
    if node.level:
        base = mod.split(".") if pkg else mod.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    subs = [f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in modules]
    return subs or [prefix]


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def imports(path: Path, mod: str, modules: set[str]) -> list[tuple[str, bool, int]]:
    """``(imported name, inside a function, line)`` for every import of ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, in_fn: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            fn = in_fn or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, in_fn, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                names = resolve(mod, is_package(path), child, modules)
                found.extend((n, in_fn, child.lineno) for n in names)
            visit(child, fn)

    visit(tree, False)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                return [*stack[stack.index(v) :], v]
            if v not in state and (cycle := dfs(v)) is not None:
                return cycle
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state and (cycle := dfs(u)) is not None:
            return cycle
    return None


def main() -> int:
    files = {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in files}
    problems: list[str] = []
    for mod, path in files.items():
        for name, in_fn, line in imports(path, mod, set(files)):
            internal = name in files and name != mod
            if internal:
                graph[mod].add(name)
            where = f"{path.relative_to(ROOT.parent)}:{line}"
            in_kernels = mod == KERNELS or mod.startswith(KERNELS + ".")
            if in_kernels and internal and not (name.startswith(KERNELS) or name in KERNEL_DEPS):
                problems.append(f"{where}: {mod} imports {name} (the kernels import no loss)")
            core = not mod.startswith(OUTSIDE_CORE)
            lazy = any(name == ok or name.startswith(ok + ".") for ok in LAZY)
            if core and in_fn and not lazy:
                problems.append(f"{where}: {mod} imports {name} inside a function")
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    for p in problems:
        print(p)
    if not problems:
        print(f"imports: {len(files)} modules, no cycle, kernels a leaf, no lazy imports but LAZY")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
