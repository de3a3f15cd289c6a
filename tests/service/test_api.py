"""The service end to end over real HTTP on loopback, against SQLite and a real PostgreSQL.

Codes come from the independent oracle (tests/oracle.py, hmac) at the real clock; the secret is
read back from the URI the service returned, and the QR code is decoded with zxing-cpp.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from pyotp_hw.service import Client, ServiceError
from tests import oracle

from .conftest import Served, Store, cli, wait_until

pytestmark = pytest.mark.timeout(240)


def secret_of(uri: str) -> bytes:
    b32 = parse_qs(urlsplit(uri).query)["secret"][0]
    return base64.b32decode(b32 + "=" * (-len(b32) % 8))


def code(secret: bytes, offset: int = 0) -> str:
    return oracle.totp(secret, int(time.time()) + 30 * offset)


def enroll(c: Client, user: str, email: str | None = None) -> bytes:
    out = c.enroll(user, issuer="Example", name=f"{user}@example.com",
                   email=email or f"{user}@example.com")
    secret = secret_of(out["uri"])
    assert c.confirm(user, code(secret)).ok
    return secret


def test_story(store: Store, serve: Callable[..., Served]) -> None:
    key = store.new_key()
    s = serve(store)
    c = s.client(key)
    out = c.enroll("alice", issuer="Example", name="alice@example.com",
                   email="alice@example.com")
    assert out["uri"].startswith("otpauth://totp/") and out["expires_at"] > time.time()
    secret = secret_of(out["uri"])

    import zxingcpp
    from PIL import Image

    png = c.qr("alice", "png")
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert decoded == [out["uri"]]
    svg = c.qr("alice", "svg")
    assert svg.startswith(b"<?xml") and b"<svg" in svg

    assert c.user("alice")["active"] is None
    assert c.user("alice")["pending"]["account"] == "alice@example.com"
    assert not c.verify("alice", code(secret)).ok  # pending: cannot sign in yet
    first = code(secret)
    confirmed = c.confirm("alice", first)
    assert confirmed.ok, confirmed.reason
    state = c.user("alice")
    assert state["pending"] is None and state["active"]["kind"] == "totp"
    assert "secret" not in json.dumps(state).lower()

    # The confirmation consumed its step: the same code again is a replay.
    again = c.verify("alice", first)
    assert not again.ok and again.reason == "replayed code"
    nxt = code(secret, 1)
    assert c.verify("alice", nxt).ok
    assert c.verify("alice", nxt).reason == "replayed code"

    pi = c.validate_check("alice", code(secret, 1))
    assert pi["result"] == {"status": True, "value": False, "authentication": "REJECT"}
    assert c.disable("alice") is True
    assert c.user("alice")["active"] is None
    assert c.verify("alice", code(secret)).reason == "no active credential"
    kinds = [(e["user"], e["kind"]) for e in c.events()]
    assert ("alice", "confirmed") in kinds and ("alice", "replay") in kinds
    assert kinds[-1] == ("alice", "disabled")
    last = c.events()[-2]["id"]
    assert [e["kind"] for e in c.events(after=last)] == ["disabled"]
    # Nothing secret reached the service's output: no secret, URI, code or key.
    log = s.output()
    b32 = parse_qs(urlsplit(out["uri"]).query)["secret"][0]
    assert b32 not in log and "otpauth" not in log and first not in log and "ohw_" not in log


def test_validate_check_accepts_like_privacyidea(store: Store,
                                                 serve: Callable[..., Served]) -> None:
    key = store.new_key()
    s = serve(store)
    c = s.client(key)
    secret = enroll(c, "bob")
    ok = c.validate_check("bob", code(secret, 1))
    assert ok["result"] == {"status": True, "value": True, "authentication": "ACCEPT"}
    assert ok["detail"]["message"]
    # JSON bodies too, and privacyIDEA's error shape for a missing parameter.
    status, _, body = c.request("POST", "/validate/check",
                                json.dumps({"user": "bob", "pass": code(secret, 1)}).encode())
    assert status == 200 and json.loads(body)["result"]["value"] is False  # replay
    status, _, body = c.request("POST", "/validate/check", b"user=bob",
                                "application/x-www-form-urlencoded")
    assert status == 400
    assert json.loads(body)["result"]["status"] is False


def test_api_keys(sqlite_store: Store, serve: Callable[..., Served]) -> None:
    store = sqlite_store
    key = store.new_key("site")
    other = store.new_key("ops")
    assert key != other and key.startswith("ohw_")
    listed = cli("serve", "key", "list", "--db", store.url)
    assert "site" in listed.stdout and key[17:] not in listed.stdout
    import sqlite3

    db = sqlite3.connect(store.url[len("sqlite:///"):])
    stored = db.execute("SELECT digest FROM otp_api_keys").fetchall()
    db.close()
    assert all(key[17:].encode() not in bytes(d[0]) for d in stored)

    s = serve(store)
    status, _, _ = Client(s.url, None).request("POST", "/v1/verify", b'{"user": "x"}')
    assert status == 401
    for bad in ("", "Bearer", key[:-1] + ("A" if key[-1] != "A" else "B"),
                "ohw_000000000000_" + "A" * 43, "Basic " + key, "Bearer " + key + "x"):
        assert _raw(s, "/v1/verify", bad)[0] == 401, bad
    # 401 comes before anything else: unknown paths and bad bodies alike.
    assert _raw(s, "/no/such/path", "Bearer nope")[0] == 401
    assert s.client(key).verify("nobody", "123456").reason == "no active credential"
    assert s.client(other).healthz()

    out = cli("serve", "key", "revoke", "ops", "--db", store.url)
    assert out.returncode == 0, out.stderr
    assert wait_until(lambda: _raw(s, "/v1/events", "Bearer " + other)[0] == 401, 15)
    assert _raw(s, "/v1/events", "Bearer " + key)[0] == 200
    assert "ohw_" not in s.output()


def _raw(s: Served, path: str, auth: str) -> tuple[int, dict[str, str], bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    try:
        conn.request("POST" if path == "/v1/verify" else "GET", path, body=b"{}",
                     headers={"authorization": auth, "content-type": "application/json"})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/verify", {"user": "a"}, "code"),
    ("/v1/verify", {"code": "123456"}, "user"),
    ("/v1/verify", {"user": 5, "code": "123456"}, "user"),
    ("/v1/verify", {"user": "a", "code": 123456}, "code"),
    ("/v1/verify", {"user": "", "code": "123456"}, "user"),
    ("/v1/verify", {"user": "a", "code": "1" * 65}, "code"),
    ("/v1/verify", {"user": "a", "code": "123456", "pin": "1"}, "pin"),
    ("/v1/verify/batch", {"items": "x"}, "items"),
    ("/v1/verify/batch", {"items": [{"user": "a", "code": "123456"}, {"user": "b"}]},
     "items[1].code"),
    ("/v1/verify/batch", {"items": [7]}, "items[0]"),
    ("/v1/enrollments", {"user": "a", "issuer": "I", "name": "n"}, "email"),
    ("/v1/enrollments", {"user": "a", "issuer": "I", "name": "n", "email": "nope"}, "email"),
    ("/v1/enrollments", {"user": "a", "issuer": True, "name": "n", "email": "a@b.c"}, "issuer"),
    ("/v1/users/a/resync", {"codes": ["123456"]}, "codes"),
    ("/v1/users/a/resync", {"codes": ["123456", 1]}, "codes[1]"),
    ("/v1/enrollments/a/confirm", {"code": "123456", "reauthenticated": "yes"},
     "reauthenticated"),
])
def test_strict_json_names_the_field(shared: Client, path: str, body: dict[str, object],
                                     field: str) -> None:
    with pytest.raises(ServiceError) as err:
        shared.call("POST", path, body)
    assert err.value.status == 400 and err.value.field == field, err.value


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One SQLite service for the validation cases (they change nothing)."""
    tmp = tmp_path_factory.mktemp("shared")
    store = Store(f"sqlite:///{tmp}/verifier.db", tmp / "data.key")
    key = store.new_key()
    s = Served(store)
    try:
        yield s.client(key)
    finally:
        s.stop()


def test_malformed_bodies(sqlite_store: Store, serve: Callable[..., Served]) -> None:
    key = sqlite_store.new_key()
    s = serve(sqlite_store, "--max-body", "1024")
    c = s.client(key)
    for body in (b"not json", b"[1, 2]", b'{"user": "a", "user": "b", "code": "1"}',
                 b'{"user": "a", "code": NaN}', b"\xff\xfe", b'"text"'):
        status, _, out = c.request("POST", "/v1/verify", body)
        assert status == 400, body
        assert "error" in json.loads(out)
    status, _, _ = c.request("POST", "/v1/verify", b'{"user": "' + b"a" * 2000 + b'"}')
    assert status == 413
    status, _, _ = c.request("GET", "/v1/events?after=-1")
    assert status == 400
    status, _, _ = c.request("GET", "/v1/events?since=1")
    assert status == 400
    status, _, _ = c.request("GET", "/v1/users/nobody/qr.svg".replace("users", "enrollments"))
    assert status == 404


def test_throttling_lockout_unlock_resync(store: Store, serve: Callable[..., Served]) -> None:
    key = store.new_key()
    s = serve(store, "--lockout-after", "4", "--resync-window", "10")
    c = s.client(key)
    secret = enroll(c, "carol")
    reasons = [c.verify("carol", "000000" if code(secret) != "000000" else "111111").reason
               for _ in range(6)]
    assert reasons[0] == "invalid code"
    assert "throttled" in reasons or "credential locked" in reasons
    assert wait_until(lambda: c.user("carol")["active"]["locked"]
                      or c.verify("carol", "000000").reason == "credential locked", 20)
    assert c.verify("carol", code(secret, 1)).reason == "credential locked"
    c.unlock("carol")
    assert c.verify("carol", code(secret, 1)).ok
    with pytest.raises(ServiceError) as err:
        c.unlock("nobody")
    assert err.value.status == 404

    # An authenticator running 6 steps fast: resync from two consecutive codes.
    drifted = enroll(c, "dave")
    assert not c.verify("dave", code(drifted, 6)).ok
    assert c.resync("dave", code(drifted, 6), code(drifted, 7)).ok
    assert c.user("dave")["active"]["drift"] >= 5


def test_batch_endpoint_in_order_and_single_use(store: Store,
                                                serve: Callable[..., Served]) -> None:
    key = store.new_key()
    s = serve(store)
    c = s.client(key)
    a, b = enroll(c, "erin"), enroll(c, "frank")
    ca, cb = code(a, 1), code(b, 1)
    answers = c.verify_batch([("erin", ca), ("nobody", "123456"), ("frank", cb),
                              ("erin", ca), ("frank", "12x456")])
    assert [x.ok for x in answers] == [True, False, True, False, False]
    assert [x.reason for x in answers][1:] == ["no active credential", "ok", "replayed code",
                                              "malformed code"]


def test_same_code_concurrently_single_success(sqlite_store: Store,
                                               serve: Callable[..., Served]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    key = sqlite_store.new_key()
    s = serve(sqlite_store)
    secret = enroll(s.client(key), "gina")
    clients = [s.client(key) for _ in range(32)]
    same = code(secret, 1)
    with ThreadPoolExecutor(32) as pool:
        oks = list(pool.map(lambda cl: cl.verify("gina", same).ok, clients))
    assert oks.count(True) == 1
    metrics = clients[0].request("GET", "/metrics")[2].decode()
    assert "pyotp_hw_batch_size_count" in metrics and "pyotp_hw_queue_depth" in metrics
    assert 'result="accept",reason="ok"' in metrics
