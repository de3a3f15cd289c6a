"""The floors of docs/architecture.md, checked on the package's own import graph.

The checker reads every module of ``pyotp_hw`` with :mod:`ast` (nothing is imported), so it sees
imports inside functions and ``TYPE_CHECKING`` blocks too: a lazy import is still a dependency.
It fails on an import from a lower floor to a higher one, on an import cycle between modules, on
``lib``/``ffi`` or the compiled module used outside the ``_native`` package (or its inner modules
imported from outside it), and on the command line reaching into a package's private modules or,
in a block of its own at the end, past a package's facade. Tests run the same checks on a small
copy of the package with one such defect planted, to show that they would catch each.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "pyotp_hw"

# Longest prefix wins. Floors as in docs/architecture.md; a module may import its own floor or
# lower ones, never higher.
FLOORS: dict[str, int] = {
    "pyotp_hw._core": 0,
    "pyotp_hw._native": 1,
    "pyotp_hw.errors": 1,
    "pyotp_hw.secret_files": 1,
    "pyotp_hw._time": 1,
    "pyotp_hw._numbers": 1,
    "pyotp_hw._types": 1,
    "pyotp_hw": 2,  # otp, bulk, uri, migration, qr, keys, sealing, pyotp, the package facade
    "pyotp_hw.verifier": 3,
    "pyotp_hw.token": 3,
    "pyotp_hw.vault": 3,
    "pyotp_hw.bench": 3,
    "pyotp_hw.bench_cases": 3,
    "pyotp_hw.bench_report": 3,
    "pyotp_hw.bench_hashcat": 3,
    "pyotp_hw.bound": 3,
    "pyotp_hw._bench_floors": 3,
    "pyotp_hw.bound_model": 3,
    "pyotp_hw.service": 4,
    "pyotp_hw.site": 5,
    "pyotp_hw.cli": 6,
    "pyotp_hw.__main__": 6,
}

# The package facade re-exports floor-2 names; modules of higher floors may import it, but a
# floor-2 module importing ``pyotp_hw`` itself would be a cycle through __init__.
FACADE = "pyotp_hw"
NATIVE = "pyotp_hw._native"
COMPILED = "pyotp_hw._core"
CLI = "pyotp_hw.cli"


@dataclass(frozen=True)
class Import:
    """One import statement's target as seen from ``source``."""

    source: str
    target: str
    names: tuple[str, ...]
    line: int


def floor_of(module: str) -> int:
    """The floor of ``module``: the entry with the longest matching prefix."""
    best = ""
    for prefix in FLOORS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    if not best:
        raise KeyError(module)
    return FLOORS[best]


def module_name(root: Path, path: Path) -> str:
    """Dotted name of the file ``path`` inside the package rooted at ``root``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = source.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(root: Path) -> tuple[list[Import], set[str], dict[str, ast.Module]]:
    """Every import inside the package, the set of its modules, and their parsed trees."""
    found: list[Import] = []
    modules: set[str] = set()
    trees: dict[str, ast.Module] = {}
    for path in sorted(root.rglob("*.py")):
        name = module_name(root, path)
        modules.add(name)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        trees[name] = tree
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(Import(name, alias.name, (), node.lineno))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, is_package, node)
                found.append(Import(name, target, tuple(a.name for a in node.names), node.lineno))
    return found, modules, trees


def edges(found: list[Import], modules: set[str]) -> set[tuple[str, str]]:
    """Module-to-module dependencies inside the package (``from pkg import sub`` counts sub)."""
    result: set[tuple[str, str]] = set()
    for imp in found:
        if not (imp.target == FACADE or imp.target.startswith(FACADE + ".")):
            continue
        targets = [f"{imp.target}.{n}" for n in imp.names if f"{imp.target}.{n}" in modules]
        if not targets:
            targets = [imp.target]
        for target in targets:
            if target != imp.source:
                result.add((imp.source, target))
    return result


def _is_ancestor(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def upward_imports(found: list[Import], modules: set[str]) -> list[str]:
    """Imports from a lower floor to a higher one, and floor-2 modules importing the facade."""
    problems = []
    for source, target in sorted(edges(found, modules)):
        if _is_ancestor(target, source):
            # A module importing its own package's __init__ (``from . import x``) is resolved to
            # the sibling when it exists; what is left is a real import of the package facade.
            if target == FACADE and floor_of(source) <= FLOORS[FACADE]:
                problems.append(f"{source} imports the package facade {target}")
            continue
        if floor_of(target) > floor_of(source):
            problems.append(f"{source} (floor {floor_of(source)}) imports {target} "
                            f"(floor {floor_of(target)})")
    return problems


def cycles(found: list[Import], modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for source, target in edges(found, modules):
        if target in graph and not _is_ancestor(target, source):
            graph[source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def in_native(module: str) -> bool:
    """True for ``_native`` itself and every module inside that package."""
    return module == NATIVE or module.startswith(NATIVE + ".")


def native_leaks(found: list[Import], trees: dict[str, ast.Module]) -> list[str]:
    """Uses of the compiled module, ``lib`` or ``ffi`` outside the ``_native`` package, and
    imports of the package's inner modules from outside it (the layers above use its facade)."""
    problems = []
    for imp in found:
        if in_native(imp.source):
            continue
        if imp.target == COMPILED or (imp.target == FACADE and "_core" in imp.names):
            problems.append(f"{imp.source}:{imp.line} imports the compiled module")
        if in_native(imp.target) and {"lib", "ffi"} & set(imp.names):
            problems.append(f"{imp.source}:{imp.line} imports lib/ffi from _native")
        if imp.target != NATIVE and in_native(imp.target):
            problems.append(f"{imp.source}:{imp.line} imports {imp.target}, inside _native")
        if imp.target == NATIVE and any(n.startswith("_") for n in imp.names):
            problems.append(f"{imp.source}:{imp.line} imports a private name of _native")
    for name, tree in trees.items():
        if in_native(name):
            continue
        aliases = {"_native"}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(a.name == "_native" for a in node.names):
                aliases |= {a.asname or a.name for a in node.names if a.name == "_native"}
            if isinstance(node, ast.Import):
                aliases |= {a.asname for a in node.names if in_native(a.name) and a.asname}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in {"lib", "ffi"}
                    and isinstance(node.value, ast.Name) and node.value.id in aliases):
                problems.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return problems


def private_reaches(found: list[Import], modules: set[str]) -> list[str]:
    """The command line importing a private module (a ``_name``) of another package."""
    problems = []
    for source, target in sorted(edges(found, modules)):
        if not source.startswith(CLI + ".") and source != CLI:
            continue
        if target.startswith(CLI + ".") or target == CLI:
            continue
        if any(part.startswith("_") for part in target.split(".")[1:]):
            problems.append(f"{source} imports the private module {target}")
    return problems


def check(root: Path) -> list[str]:
    """Every floor rule broken inside the package rooted at ``root``, as one line each."""
    found, modules, trees = imports_of(root)
    problems = upward_imports(found, modules)
    problems += ["import cycle: " + " <-> ".join(group) for group in cycles(found, modules)]
    problems += native_leaks(found, trees)
    problems += private_reaches(found, modules)
    return problems


# ------------------------------------------------------------------------------ the package


def test_every_module_has_a_floor() -> None:
    _, modules, _ = imports_of(PACKAGE_ROOT)
    for module in modules:
        floor_of(module)


def test_the_package_keeps_its_floors() -> None:
    problems = check(PACKAGE_ROOT)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ the checker catches each


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the package's source to plant defects in."""
    copy = tmp_path / "pyotp_hw"
    shutil.copytree(PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("*.so", "__pycache__", "*.c"))
    return copy


def _plant(root: Path, relative: str, line: str) -> None:
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")


def test_an_upward_import_fails(package_copy: Path) -> None:
    assert not [p for p in check(package_copy) if "imports pyotp_hw.verifier" in p]
    _plant(package_copy, "otp.py", "def _late():\n    from pyotp_hw.verifier import Verifier")
    problems = check(package_copy)
    assert any("pyotp_hw.otp (floor 2) imports pyotp_hw.verifier" in p for p in problems), problems


def test_a_cycle_fails(package_copy: Path) -> None:
    _plant(package_copy, "keys.py", "from pyotp_hw import uri as _uri_cycle")
    _plant(package_copy, "uri.py", "from pyotp_hw import keys as _keys_cycle")
    problems = check(package_copy)
    assert any(p.startswith("import cycle:") and "pyotp_hw.keys" in p and "pyotp_hw.uri" in p
               for p in problems), problems


def test_lib_outside_native_fails(package_copy: Path) -> None:
    _plant(package_copy, "bulk.py", "def _raw():\n    return _native.lib")
    problems = check(package_copy)
    assert any("pyotp_hw.bulk" in p and "_native.lib" in p for p in problems), problems


def test_lib_from_inside_native_fails(package_copy: Path) -> None:
    _plant(package_copy, "bulk.py", "from pyotp_hw._native._codes import lib as _lib  # noqa")
    problems = check(package_copy)
    assert any("pyotp_hw.bulk" in p and "imports lib/ffi from _native" in p
               for p in problems), problems


def test_an_inner_native_module_imported_from_outside_fails(package_copy: Path) -> None:
    assert not [p for p in check(package_copy) if "inside _native" in p]
    _plant(package_copy, "otp.py", "from ._native import _kernels  # noqa")
    _plant(package_copy, "bulk.py", "from pyotp_hw._native._scalar import hotp_code  # noqa")
    problems = check(package_copy)
    assert any("pyotp_hw.otp" in p and "a private name of _native" in p for p in problems), problems
    assert any("pyotp_hw.bulk" in p and "pyotp_hw._native._scalar, inside _native" in p
               for p in problems), problems


def test_cli_reaching_a_private_module_fails(package_copy: Path) -> None:
    _plant(package_copy, "cli/otp_cmds.py", "from pyotp_hw.verifier import _hidden  # noqa")
    (package_copy / "verifier" / "_hidden.py").write_text('"""Planted."""\n', encoding="utf-8")
    problems = check(package_copy)
    assert any("imports the private module pyotp_hw.verifier._hidden" in p
               for p in problems), problems


# ------------------------------------------------- the command line goes through the facades
#
# Of a package the command line imports only the facade (its ``__init__``), so a package may
# rearrange its modules without the CLI noticing; the top-level modules of floors 1 and 2
# (``pyotp_hw.otp``, ``pyotp_hw.uri``, ...) are modules, not packages, and stay importable.

# Subpackages with a facade of their own that their parent's facade names public
# (pyotp_hw/token/__init__.py): the virtual token and its FIDO2 authenticator.
PUBLIC_SUBPACKAGES = frozenset({"pyotp_hw.token.virtual", "pyotp_hw.token.virtual.fido"})


def facade_bypasses(found: list[Import], modules: set[str]) -> list[str]:
    """The command line importing a module inside another package instead of its facade."""
    problems = []
    for source, target in sorted(edges(found, modules)):
        if not (source == CLI or source.startswith(CLI + ".")):
            continue
        if target == CLI or target.startswith(CLI + "."):
            continue
        parts = target.split(".")
        if len(parts) <= 2 or target in PUBLIC_SUBPACKAGES:
            continue
        facade = max((p for p in PUBLIC_SUBPACKAGES if _is_ancestor(p, target)), key=len,
                     default=".".join(parts[:2]))
        problems.append(f"{source} imports {target} past the facade {facade}")
    return problems


def test_the_cli_imports_packages_through_their_facades() -> None:
    found, modules, _ = imports_of(PACKAGE_ROOT)
    problems = facade_bypasses(found, modules)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("line", "reported"), [
    ("from pyotp_hw.service.server import parse_listen  # noqa",
     "pyotp_hw.service.server past the facade pyotp_hw.service"),
    ("def _late():\n    from ..service import apikeys  # noqa",
     "pyotp_hw.service.apikeys past the facade pyotp_hw.service"),
    ("import pyotp_hw.verifier.keyprovider  # noqa",
     "pyotp_hw.verifier.keyprovider past the facade pyotp_hw.verifier"),
    ("from ..token.virtual.fido.state import STATE_SUFFIX  # noqa",
     "pyotp_hw.token.virtual.fido.state past the facade pyotp_hw.token.virtual.fido"),
])
def test_cli_bypassing_a_facade_fails(package_copy: Path, line: str, reported: str) -> None:
    found, modules, _ = imports_of(package_copy)
    assert not facade_bypasses(found, modules)
    _plant(package_copy, "cli/otp_cmds.py", line)
    found, modules, _ = imports_of(package_copy)
    problems = facade_bypasses(found, modules)
    assert problems == [f"pyotp_hw.cli.otp_cmds imports {reported}"], problems


def test_cli_importing_facades_and_modules_passes(package_copy: Path) -> None:
    _plant(package_copy, "cli/otp_cmds.py",
           "from pyotp_hw.service import parse_listen  # noqa\n"
           "from pyotp_hw.token.virtual.fido import STATE_SUFFIX  # noqa\n"
           "from pyotp_hw import otp, uri  # noqa\n"
           "from . import _common  # noqa")
    found, modules, _ = imports_of(package_copy)
    assert not facade_bypasses(found, modules)
