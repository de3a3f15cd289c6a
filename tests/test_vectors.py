"""Known-answer vectors: RFC 4226 Appendix D, RFC 6238 Appendix B (erratum 2866), Steam."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

import pyotp_hw
from pyotp_hw import _native, bulk


def test_rfc4226_hotp_scalar(vectors: dict[str, Any]) -> None:
    v = vectors["rfc4226_hotp_sha1_6digits"]
    for secret in (v["secret_base32"], v["secret_ascii"].encode()):
        otp = pyotp_hw.HOTP(secret)
        assert [otp.at(i) for i in range(10)] == v["codes_by_counter"]


def test_rfc4226_hotp_bulk(vectors: dict[str, Any]) -> None:
    v = vectors["rfc4226_hotp_sha1_6digits"]
    codes = bulk.hotp(v["secret_ascii"].encode(), list(range(10)))
    assert [str(c).zfill(6) for c in codes] == v["codes_by_counter"]


def test_rfc4226_verify_every_counter(vectors: dict[str, Any]) -> None:
    v = vectors["rfc4226_hotp_sha1_6digits"]
    otp = pyotp_hw.HOTP(v["secret_base32"])
    for counter, code in enumerate(v["codes_by_counter"]):
        assert otp.verify(code, counter)
        assert otp.verify(code, 0, look_ahead=9)
        # The ten codes differ, so the next counter without look-ahead must not match.
        assert not otp.verify(code, counter + 1)
        assert otp.verify(code, max(0, counter - 3), look_ahead=3)


def _rfc6238(vectors: dict[str, Any]) -> list[dict[str, Any]]:
    return list(vectors["rfc6238_totp_8digits"])


def test_rfc6238_has_every_hash_and_the_far_time(vectors: dict[str, Any]) -> None:
    rows = _rfc6238(vectors)
    assert {r["algorithm"] for r in rows} == {"sha1", "sha256", "sha512"}
    assert {r["unix_time"] for r in rows} >= {59, 20000000000}
    assert len(rows) == 18


@pytest.mark.parametrize("index", range(18))
def test_rfc6238_totp_scalar(vectors: dict[str, Any], index: int) -> None:
    row = _rfc6238(vectors)[index]
    otp = pyotp_hw.TOTP(row["secret_ascii"].encode(), digits=row["digits"],
                        digest=row["algorithm"], interval=row["period"])
    assert otp.at(row["unix_time"]) == row["code"]
    assert otp.verify(row["code"], row["unix_time"])
    assert otp.verify_and_get_timecode(row["code"], row["unix_time"]) == row["unix_time"] // 30


def test_rfc6238_totp_bulk_per_key_times(vectors: dict[str, Any]) -> None:
    for algorithm in ("sha1", "sha256", "sha512"):
        rows = [r for r in _rfc6238(vectors) if r["algorithm"] == algorithm]
        keys = [r["secret_ascii"].encode() for r in rows]
        times = [r["unix_time"] for r in rows]
        codes = bulk.totp(keys, times, digits=8, digest=algorithm)
        assert [str(c).zfill(8) for c in codes] == [r["code"] for r in rows]
        steps = bulk.verify_totp(keys, [int(r["code"]) for r in rows], times, digits=8,
                                 digest=algorithm)
        assert list(steps) == [t // 30 for t in times]


def test_rfc6238_hashlib_digest_constructors(vectors: dict[str, Any]) -> None:
    row = next(r for r in _rfc6238(vectors) if r["algorithm"] == "sha256")
    otp = pyotp_hw.TOTP(row["secret_ascii"].encode(), digits=8, digest=hashlib.sha256)
    assert otp.at(row["unix_time"]) == row["code"]
    assert otp.digest == "sha256"


def test_steam_vectors(vectors: dict[str, Any]) -> None:
    for row in vectors["steam_guard"]:
        otp = pyotp_hw.Steam(row["secret_ascii"].encode())
        assert otp.at(row["unix_time"]) == row["code"]
        assert otp.verify(row["code"], row["unix_time"])
        assert not otp.verify("BBBBB", row["unix_time"])


def test_steam_codes_outside_its_alphabet_are_malformed() -> None:
    otp = pyotp_hw.Steam(b"12345678901234567890")
    malformed = {"AAAAA": "Steam's alphabet",  # 'A' is not in Steam's alphabet
                 "PV9M": "exactly 5", "bcdfg": "upper case", "BC DF": "space", "": "empty",
                 None: "no code", 12345: "a number"}
    for code, words in malformed.items():
        assert otp.verify(code, 59) is False
        result = otp.check(code, 59, valid_window=1)
        assert result.reason is pyotp_hw.Reason.MALFORMED and words in result.message


@pytest.mark.parametrize("name,fn", [("sha1", hashlib.sha1), ("sha256", hashlib.sha256),
                                     ("sha512", hashlib.sha512)])
def test_c_hash_functions_match_hashlib(name: str, fn: Any) -> None:
    ident = _native.digest_id(name)
    data = bytes(range(256)) * 3
    # Every length around the padding boundaries of 64- and 128-byte blocks.
    for length in [*list(range(0, 260)), 511, 512, 513, 767, 768]:
        assert _native.hash_bytes(ident, data[:length]) == fn(data[:length]).digest(), length
