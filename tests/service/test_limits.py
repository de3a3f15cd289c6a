"""Limits and bad input: per-client rate limit, a full queue, the CLI's refusals, and fuzzed
bodies that only ever meet a typed error naming no value."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.service.validation import BadRequest, Fields, parse_json
from tests.typed_errors import assert_clean_error, fuzz

from .conftest import Served, Store, cli

pytestmark = pytest.mark.timeout(240)


def test_per_client_rate_limit(sqlite_store: Store, serve: Callable[..., Served]) -> None:
    key, other = sqlite_store.new_key("a"), sqlite_store.new_key("b")
    s = serve(sqlite_store, "--client-rate", "3")
    c = s.client(key)
    statuses = []
    for _ in range(12):
        status, headers, _ = c.request("POST", "/v1/verify",
                                       b'{"user": "u", "code": "123456"}')
        statuses.append(status)
        if status == 429:
            assert int(headers["retry-after"]) >= 1
    assert 200 in statuses and 429 in statuses
    # Another key has its own budget.
    assert s.client(other).request("POST", "/v1/verify",
                                   b'{"user": "u", "code": "123456"}')[0] == 200


def test_full_queue_answers_503(sqlite_store: Store, serve: Callable[..., Served]) -> None:
    key = sqlite_store.new_key()
    s = serve(sqlite_store, "--max-queue", "1", "--max-batch", "1")
    clients = [s.client(key) for _ in range(64)]

    def hit(i: int) -> tuple[int, str | None]:
        status, headers, _ = clients[i].request(
            "POST", "/v1/verify", json.dumps({"user": f"u{i}", "code": "123456"}).encode())
        return status, headers.get("retry-after")

    with ThreadPoolExecutor(64) as pool:
        out = [r for _ in range(5) for r in pool.map(hit, range(64))]
    assert {st for st, _ in out} <= {200, 503}
    assert any(st == 503 for st, _ in out)
    assert all(ra is not None and int(ra) >= 1 for st, ra in out if st == 503)


def test_cli_refusals(tmp_path: Path, sqlite_store: Store) -> None:
    missing = cli("serve", "--db", f"sqlite:///{tmp_path}/none.db", "--key-file",
                  str(sqlite_store.key_file))
    assert missing.returncode == 2 and "verifier init" in missing.stderr
    assert "Traceback" not in missing.stderr
    other_key = tmp_path / "other.key"
    other_key.write_bytes(bytes(range(32)))
    other_key.chmod(0o600)
    wrong = cli("serve", "--db", sqlite_store.url, "--key-file", str(other_key))
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    listen = cli("serve", "--db", sqlite_store.url, "--key-file", str(sqlite_store.key_file),
                 "--listen", "nowhere")
    assert listen.returncode == 2 and "--listen" in listen.stderr
    name = cli("serve", "key", "create", "bad name!", "--db", sqlite_store.url)
    assert name.returncode == 2 and "key name" in name.stderr
    revoke = cli("serve", "key", "revoke", "nobody", "--db", sqlite_store.url)
    assert revoke.returncode != 0 and "no live key" in revoke.stderr
    memory = cli("serve", "key", "create", "x", "--db", "memory:")
    assert memory.returncode == 2 and "Traceback" not in memory.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@fuzz
@given(user=json_values, code=json_values, extra=st.dictionaries(st.text(), json_values,
                                                                 max_size=2),
       raw=st.binary(max_size=64))
def test_fuzzed_bodies_meet_typed_errors(user: object, code: object, extra: dict[str, object],
                                         raw: bytes) -> None:
    secret = "987654321"
    for body in (json.dumps({"user": user, "code": code, **extra}).encode(), raw,
                 json.dumps({"user": user, "code": secret, **extra}).encode()):
        try:
            f = Fields(parse_json(body))
            f.user()
            f.code()
            f.done()
        except BadRequest as exc:
            assert_clean_error(exc, [secret])
            assert exc.status in (400, 413)
