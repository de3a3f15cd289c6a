"""One check for fuzz tests: only the project's typed errors escape, and none carries a secret.

Every fuzz test (URI, migration, base32, TLV/APDU, card answers, bulk arguments, scalar APIs)
calls :func:`assert_clean_error` on whatever its target raised. The secrets to look for are the
values the test put in: text (a base32 string, a password) and bytes (a raw key). Each is searched
for in the message, in ``repr`` and in every element of ``args``, of the exception and of its
whole ``__cause__`` / ``__context__`` chain, because a traceback prints that chain too.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterable
from pathlib import Path

from hypothesis import HealthCheck, settings

from pyotp_hw.errors import OTPError

# A secret shorter than this is too likely to appear by chance ("A", "12").
MIN_SECRET_LEN = 6

# Examples per fuzz test: several thousand in CI's time budget, more with HYPOTHESIS_PROFILE=slow,
# fewer with HYPOTHESIS_PROFILE=lowest (make lowest checks the oldest dependencies, not the search).
FUZZ_EXAMPLES = {"slow": 20_000, "lowest": 200}.get(os.environ.get("HYPOTHESIS_PROFILE", ""),
                                                     2_000)
fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for nxt in (item.__cause__, item.__context__):
            if nxt is not None:
                todo.append(nxt)


def _texts(exc: BaseException) -> Iterable[str]:
    yield str(exc)
    yield repr(exc)
    for arg in exc.args:
        yield arg.decode("latin-1") if isinstance(arg, (bytes, bytearray)) else repr(arg)
        if isinstance(arg, str):
            yield arg


@functools.cache
def _message_texts() -> tuple[str, ...]:
    """Every string literal of the package's source but docstrings: its messages' fixed parts."""
    root = Path(__file__).resolve().parent.parent / "pyotp_hw"
    texts = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings):
                texts.append(node.value)
    return tuple(texts)


def _is_message_text(needle: str) -> bool:
    # A fuzzed "secret" that is a piece of a fixed message ("secret", "valid base32") is found
    # in every such message whatever the secret was: no leak.
    return any(needle in text for text in _message_texts())


def _needles(secrets: Iterable[str | bytes | bytearray]) -> list[str]:
    found: list[str] = []
    for secret in secrets:
        if isinstance(secret, (bytes, bytearray)):
            if len(secret) >= MIN_SECRET_LEN:
                found += [bytes(secret).decode("latin-1"), bytes(secret).hex(), repr(bytes(secret))]
        elif len(secret) >= MIN_SECRET_LEN:
            found.append(secret)
    return [needle for needle in found if not _is_message_text(needle)]


def assert_clean_error(exc: BaseException, secrets: Iterable[str | bytes | bytearray] = ()) -> None:
    """Fail unless ``exc`` is an :class:`OTPError` whose chain holds none of ``secrets``."""
    assert isinstance(exc, OTPError), f"untyped error escaped: {type(exc).__name__}: {exc!r}"[:500]
    needles = _needles(secrets)
    for item in _chain(exc):
        for text in _texts(item):
            # The class name in a repr ("InvalidSecret(...)") is no leak of a secret "Secret".
            text = text.replace(type(item).__name__, "")
            for needle in needles:
                assert needle not in text, (
                    f"{type(item).__name__} carries a secret in its message, repr or args"
                )
