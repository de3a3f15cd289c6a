"""The plain verify body reader agrees with the strict JSON path on every body it takes: the
oracle is Python's json module (through parse_json and Fields), never the reader itself."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.service.validation import BadRequest, Fields, parse_json, plain_verify_body


def strict(body: bytes) -> tuple[str, str] | None:
    """What the general path makes of a verify body (None: it refuses the body)."""
    try:
        f = Fields(parse_json(body))
        pair = f.user(), f.code()
        f.done()
    except BadRequest:
        return None
    return pair


texts = st.text(st.characters(codec="utf-8"), max_size=300)
whitespace = st.text(" \t\n\r\f\v", max_size=3)


@given(user=texts, code=st.one_of(texts, st.from_regex(r"[0-9]{1,70}", fullmatch=True)),
       swap=st.booleans(), gaps=st.lists(whitespace, min_size=6, max_size=6),
       ascii_only=st.booleans())
def test_plain_bodies_read_as_json_reads_them(user: str, code: str, swap: bool,
                                              gaps: list[str], ascii_only: bool) -> None:
    pairs = [("user", user), ("code", code)]
    if swap:
        pairs.reverse()
    a, b, c, d, e, f = gaps
    members = [f"{json.dumps(k)}{b}:{c}{json.dumps(v, ensure_ascii=ascii_only)}"
               for k, v in pairs]
    body = f"{a}{{{d}{members[0]}{e},{f}{members[1]}}}{a}".encode()
    plain = plain_verify_body(body)
    if plain is not None:
        assert plain == strict(body) == (user, code)


@given(st.binary(max_size=120))
def test_any_bytes_read_plainly_are_read_alike(body: bytes) -> None:
    plain = plain_verify_body(body)
    if plain is not None:
        assert plain == strict(body)


def test_what_clients_send_is_read_plainly() -> None:
    for body in (b'{"user": "alice@example.com", "code": "123456"}',
                 b'{"code":"00123456","user":"u 1"}',
                 json.dumps({"user": "x" * 255, "code": "1" * 64}).encode()):
        assert plain_verify_body(body) == strict(body)
        assert plain_verify_body(body) is not None


def test_everything_else_is_left_to_the_strict_path() -> None:
    for body in (b'{"user": "a", "code": "1", "user": "b"}',   # a duplicate: refused there
                 b'{"user": "a\\u0062", "code": "1"}',          # an escape
                 b'{"user": "", "code": "1"}',                  # no user id
                 b'{"user": "a", "code": "12 34"}',             # not digits: the verifier's
                 b'{"user": "a", "code": "1", "extra": 1}',
                 b'\x0c{"user": "a", "code": "1"}',             # not JSON whitespace
                 json.dumps({"user": "x" * 256, "code": "1"}).encode(),
                 json.dumps({"user": "a", "code": "1" * 65}).encode(),
                 b'{"user": "\xc3\xa9", "code": "1"}'):
        assert plain_verify_body(body) is None
