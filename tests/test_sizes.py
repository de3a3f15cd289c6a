"""The size rule of docs/architecture.md, checked on the package's source.

No module of ``pyotp_hw`` is longer than 600 lines and no function or method longer than 80
(from its ``def`` line, decorators left out, to its last line, as :mod:`ast` reports them), so
that each module keeps one job and each function can be read at once. A module or function that
has a reason to be longer is named in ``ALLOWED`` with that reason; an entry that is no longer
over the limit fails too, so the list never outlives its cases. The last tests run the checker
on a small package with an oversize function or module planted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "pyotp_hw"

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

# "pyotp_hw/path.py" for a module, "pyotp_hw/path.py:Class.method" for a function -> why it may
# be longer. Nothing in the package needs an exception today.
ALLOWED: dict[str, str] = {}


def _functions(tree: ast.Module) -> list[tuple[str, int]]:
    """(qualified name, lines) of every function and method, nested ones included."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                end = child.end_lineno if child.end_lineno is not None else child.lineno
                found.append((name, end - child.lineno + 1))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def measure(root: Path) -> dict[str, int]:
    """Lines of every module and of every function over its limit, by ``ALLOWED``-style key."""
    over: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        key = path.relative_to(root.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            over[key] = lines
        for name, size in _functions(ast.parse(text, filename=str(path))):
            if size > MAX_FUNCTION_LINES:
                over[f"{key}:{name}"] = size
    return over


def check(root: Path, allowed: dict[str, str]) -> list[str]:
    """Every module or function over its limit and not allowed, and every stale allowance."""
    over = measure(root)
    problems = []
    for key, size in sorted(over.items()):
        if key in allowed:
            continue
        limit = MAX_FUNCTION_LINES if ":" in key else MAX_MODULE_LINES
        kind = "function" if ":" in key else "module"
        problems.append(f"{kind} {key} has {size} lines (limit {limit})")
    problems += [f"ALLOWED names {key}, which is within its limit" for key in sorted(allowed)
                 if key not in over]
    return problems


# ------------------------------------------------------------------------------ the package


def test_no_module_or_function_is_oversize() -> None:
    problems = check(PACKAGE_ROOT, ALLOWED)
    assert not problems, "\n".join(problems)


def test_every_allowance_says_why() -> None:
    assert all(reason.strip() for reason in ALLOWED.values())


# ------------------------------------------------------------------ the checker catches each


@pytest.fixture
def small_package(tmp_path: Path) -> Path:
    """A small package named ``pyotp_hw``, every module within the limits."""
    root = tmp_path / "pyotp_hw"
    root.mkdir()
    for relative in ("__init__.py", "errors.py", "keys.py", "otp.py"):
        (root / relative).write_text(f'"""{relative}."""\n\n\ndef fits() -> None:\n    pass\n',
                                     encoding="utf-8")
    assert not check(root, {})
    return root


def _append(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def test_an_oversize_function_fails(small_package: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    _append(small_package, "keys.py", "class _Planted:\n    def long(self) -> None:\n"
                                      + body.replace("    ", "        "))
    _append(small_package, "errors.py", "def _just_fits() -> None:\n"
                                        + body[: body.rindex("    x")])
    problems = check(small_package, {})
    assert f"function pyotp_hw/keys.py:_Planted.long has {MAX_FUNCTION_LINES + 1} lines " \
           f"(limit {MAX_FUNCTION_LINES})" in problems, problems
    assert not [p for p in problems if "_just_fits" in p], problems


def test_an_oversize_nested_function_fails(small_package: Path) -> None:
    body = "".join(f"        y{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    _append(small_package, "keys.py", "def _outer() -> None:\n    def inner() -> None:\n" + body)
    problems = check(small_package, {})
    assert any("pyotp_hw/keys.py:_outer.inner has" in p for p in problems), problems


def test_an_oversize_module_fails(small_package: Path) -> None:
    path = small_package / "errors.py"
    missing = MAX_MODULE_LINES + 1 - len(path.read_text(encoding="utf-8").splitlines())
    path.write_text(path.read_text(encoding="utf-8") + "#\n" * missing, encoding="utf-8")
    problems = check(small_package, {})
    assert f"module pyotp_hw/errors.py has {MAX_MODULE_LINES + 1} lines " \
           f"(limit {MAX_MODULE_LINES})" in problems, problems


def test_an_allowance_excuses_only_its_own_case(small_package: Path) -> None:
    body = "".join(f"    z{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    _append(small_package, "keys.py", "def _table() -> None:\n" + body)
    allowed = {"pyotp_hw/keys.py:_table": "planted", "pyotp_hw/otp.py:nothing": "stale"}
    problems = check(small_package, allowed)
    assert not [p for p in problems if "has" in p and "_table" in p], problems
    assert "ALLOWED names pyotp_hw/otp.py:nothing, which is within its limit" in problems
