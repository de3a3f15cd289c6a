"""ykman (Yubico's own client, from yubikey-manager) against the virtual token over PC/SC.

ykman is an independent implementation of the client side: what it stores, pyotp-hw reads, and
the reverse; every code it reads equals the C core's (pyotp_hw) and pyotp's. ykman has no time
option, so its codes are compared with the codes valid when the call began and when it ended.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pyotp
import pytest

import pyotp_hw
from pyotp_hw.token import WrongPassword, open_token
from pyotp_hw.uri import build

from .helpers import OTHER_B32, SECRET_B32, codes_window

pytestmark = pytest.mark.pcsc

Ykman = Callable[..., Any]
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _codes(output: str) -> dict[str, str]:
    """Parse ``ykman oath accounts code`` output: name, then the code or a [note]."""
    result = {}
    for line in output.splitlines():
        if not line.strip():
            continue
        name, _, rest = line.strip().partition(" ")
        result[name] = rest.strip()
    return result


def _core_and_pyotp(secret: str, digest: str, digits: int, period: int
                    ) -> Callable[[int], str]:
    core = pyotp_hw.TOTP(secret, digest=digest, digits=digits, interval=period)
    reference = pyotp.TOTP(secret, digest=DIGESTS[digest], digits=digits, interval=period)

    def compute(t: int) -> str:
        code = core.at(t)
        assert code == reference.at(t)
        return code

    return compute


def test_ykman_stores_and_reads_every_kind(token: Any, ykman: Ykman) -> None:
    ykman("oath", "accounts", "add", "-f", "-i", "Ex", "alice", SECRET_B32)
    ykman("oath", "accounts", "add", "-f", "-o", "HOTP", "-i", "H", "bob", SECRET_B32)
    ykman("oath", "accounts", "add", "-f", "-a", "SHA256", "-d", "8", "-i", "S256", "carol",
          SECRET_B32)
    ykman("oath", "accounts", "uri", "-f",
          build("totp", SECRET_B32, account="dave", issuer="S512", digest="sha512", period=60))
    ykman("oath", "accounts", "add", "-f", "-t", "-i", "T", "erin", OTHER_B32)

    listed = sorted(ykman("oath", "accounts", "list").stdout.split())
    assert listed == ["60/S512:dave", "Ex:alice", "H:bob", "S256:carol", "T:erin"]

    expected = {
        "Ex:alice": _core_and_pyotp(SECRET_B32, "sha1", 6, 30),
        "S256:carol": _core_and_pyotp(SECRET_B32, "sha256", 8, 30),
        "60/S512:dave": _core_and_pyotp(SECRET_B32, "sha512", 6, 60),
    }

    def all_codes() -> dict[str, str]:
        return _codes(ykman("oath", "accounts", "code").stdout)

    for name, compute in expected.items():
        codes, valid = codes_window(compute, all_codes)
        assert codes[name] in valid, (name, codes)
    codes = all_codes()
    assert codes["H:bob"] == "[HOTP Account]" and codes["T:erin"] == "[Requires Touch]"

    # Touch: the virtual token touches itself after a moment; ykman waits for it.
    touched, valid = codes_window(
        _core_and_pyotp(OTHER_B32, "sha1", 6, 30),
        lambda: ykman("oath", "accounts", "code", "-s", "T:erin").stdout.strip(),
    )
    assert touched in valid
    # HOTP: every read advances the token's counter.
    hotp = [ykman("oath", "accounts", "code", "-s", "H:bob").stdout.strip() for _ in range(2)]
    assert hotp == [pyotp_hw.HOTP(SECRET_B32).at(c) for c in (0, 1)]
    assert hotp == [pyotp.HOTP(SECRET_B32).at(c) for c in (0, 1)]

    # pyotp-hw reads what ykman stored, at fixed times.
    with open_token() as tok:
        by_id = {c.id: c for c in tok.list()}
        assert by_id["60/S512:dave"].digest == "sha512" and by_id["H:bob"].oath_type == "hotp"
        for t in (59, 1_700_000_000):
            got = {c.id: k.value for c, k in tok.calculate_all(for_time=t).items() if k}
            assert {name: got[name] for name in expected} == {
                name: compute(t) for name, compute in expected.items()}
        assert tok.calculate("H:bob").value == pyotp.HOTP(SECRET_B32).at(2)
        assert tok.calculate("T:erin", for_time=59).value == pyotp.TOTP(OTHER_B32).at(59)


def test_ykman_reads_what_pyotp_hw_stored(token: Any, ykman: Ykman) -> None:
    with open_token() as tok:
        tok.put(build("totp", OTHER_B32, account="me", issuer="Ours", digest="sha256",
                      digits=7))
        tok.put(build("hotp", SECRET_B32, account="count", issuer="Ours", counter=5))
        tok.put(build("totp", SECRET_B32, account="slow", issuer="Ours", period=90))
    assert sorted(ykman("oath", "accounts", "list").stdout.split()) == [
        "90/Ours:slow", "Ours:count", "Ours:me"]
    codes, valid = codes_window(
        _core_and_pyotp(OTHER_B32, "sha256", 7, 30),
        lambda: _codes(ykman("oath", "accounts", "code").stdout),
    )
    assert codes["Ours:me"] in valid
    slow, valid = codes_window(
        _core_and_pyotp(SECRET_B32, "sha1", 6, 90),
        lambda: ykman("oath", "accounts", "code", "-s", "slow").stdout.strip(),
    )
    assert slow in valid
    assert ykman("oath", "accounts", "code", "-s", "count").stdout.strip() == pyotp.HOTP(
        SECRET_B32).at(5)


def test_ykman_rename_delete_password_and_reset(token: Any, ykman: Ykman) -> None:
    with open_token() as tok:
        tok.put(build("totp", SECRET_B32, account="old", issuer="Site"))
        tok.put(build("totp", OTHER_B32, account="other", issuer="Site", period=60))
        device_id = tok.info.device_id

    ykman("oath", "accounts", "rename", "-f", "Site:old", "Renamed:new")
    ykman("oath", "accounts", "rename", "-f", "60/Site:other", "Moved:there")
    with open_token() as tok:
        assert {c.id for c in tok.list()} == {"Renamed:new", "60/Moved:there"}
        assert tok.calculate("Moved:there", for_time=120).value == pyotp.TOTP(
            OTHER_B32, interval=60).at(120)

    ykman("oath", "accounts", "delete", "-f", "Renamed:new")
    with open_token() as tok:
        assert [c.id for c in tok.list()] == ["60/Moved:there"]

    # A password set by ykman unlocks pyotp-hw's session, and the reverse.
    ykman("oath", "access", "change", "-n", "ykman password")
    locked = ykman("oath", "accounts", "list", check=False, input="")
    assert locked.returncode != 0
    with pytest.raises(WrongPassword):
        open_token(password="not it")
    with open_token(password="ykman password") as tok:
        assert [c.id for c in tok.list()] == ["60/Moved:there"]
        tok.set_password("ours now", current="ykman password")
    assert ykman("oath", "accounts", "list", "-p", "ours now").stdout.split() == [
        "60/Moved:there"]
    ykman("oath", "access", "change", "-p", "ours now", "-c")
    with open_token() as tok:
        assert not tok.info.password_set

    ykman("oath", "reset", "-f")
    with open_token() as tok:
        assert tok.list() == [] and tok.info.device_id != device_id
    assert "disabled" in ykman("oath", "info").stdout
