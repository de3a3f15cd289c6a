"""URIs to OTP objects and back, with codes checked against pyotp (an independent oracle)."""

from __future__ import annotations

import hashlib

import pyotp
import pyotp.contrib
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pyotp_hw
from pyotp_hw import uri as U
from pyotp_hw.errors import InvalidArgument
from pyotp_hw.keys import encode_base32
from pyotp_hw.otp import from_uri, uri_fields

TIMES = [0, 59, 1111111109, 1234567890, 2000000000, 20000000000]
PYOTP_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


@given(
    secret=st.binary(min_size=16, max_size=64),
    digest=st.sampled_from(["sha1", "sha256", "sha512"]),
    digits=st.integers(6, 8),
    period=st.integers(1, 120),
    t=st.integers(0, 2**34),
)
def test_totp_codes_of_parsed_uri_match_pyotp(
    secret: bytes, digest: str, digits: int, period: int, t: int
) -> None:
    text = U.build("totp", secret, account="a", issuer="I", digest=digest, digits=digits,
                   period=period)
    ours = pyotp_hw.parse_uri(text)
    assert isinstance(ours, pyotp_hw.TOTP)
    theirs = pyotp.TOTP(encode_base32(secret), digits=digits, digest=PYOTP_DIGESTS[digest],
                        interval=period)
    assert ours.at(t) == theirs.at(t)


@given(
    secret=st.binary(min_size=16, max_size=64),
    digest=st.sampled_from(["sha1", "sha256", "sha512"]),
    digits=st.integers(6, 8),
    counter=st.integers(0, 2**40),
    offset=st.integers(0, 1000),
)
def test_hotp_codes_of_parsed_uri_match_pyotp(
    secret: bytes, digest: str, digits: int, counter: int, offset: int
) -> None:
    text = U.build("hotp", secret, account="a", digest=digest, digits=digits, counter=counter)
    ours = pyotp_hw.parse_uri(text)
    assert isinstance(ours, pyotp_hw.HOTP)
    assert ours.initial_count == counter
    theirs = pyotp.HOTP(encode_base32(secret), digits=digits, digest=PYOTP_DIGESTS[digest],
                        initial_count=counter)
    assert ours.at(offset) == theirs.at(offset)


@pytest.mark.parametrize(
    "text",
    [
        "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Steam",
        "otpauth://totp/gaben?secret=JBSWY3DPEHPK3PXPJBSWY3DP&encoder=steam",
        "otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Steam&digits=5",
    ],
)
def test_steam_uris_give_steam_codes(text: str) -> None:
    ours = pyotp_hw.parse_uri(text)
    assert isinstance(ours, pyotp_hw.Steam)
    theirs = pyotp.contrib.Steam("JBSWY3DPEHPK3PXPJBSWY3DP")
    for t in TIMES:
        assert ours.at(t) == theirs.at(t)


def test_parsed_object_keeps_name_and_issuer() -> None:
    obj = pyotp_hw.parse_uri("otpauth://totp/ACME%20Co:john?secret=JBSWY3DPEHPK3PXP"
                             "&issuer=ACME%20Co&period=60&digits=8&algorithm=SHA512")
    assert isinstance(obj, pyotp_hw.TOTP)
    assert (obj.name, obj.issuer, obj.interval, obj.digits, obj.digest) == (
        "john", "ACME Co", 60, 8, "sha512")
    assert obj.secret == "JBSWY3DPEHPK3PXP"


def test_provisioning_uri_of_each_type_parses_back() -> None:
    totp = pyotp_hw.TOTP("JBSWY3DPEHPK3PXP", digits=8, digest="sha256", interval=45,
                         name="alice", issuer="Example")
    got = U.parse(totp.provisioning_uri())
    assert (got.kind, got.account, got.issuer, got.digits, got.digest, got.period) == (
        "totp", "alice", "Example", 8, "sha256", 45)

    hotp = pyotp_hw.HOTP("JBSWY3DPEHPK3PXP", initial_count=7)
    got = U.parse(hotp.provisioning_uri("bob", issuer_name="Corp", image="https://x.example/i.png"))
    assert (got.kind, got.account, got.issuer, got.counter) == ("hotp", "bob", "Corp", 7)
    assert got.image == "https://x.example/i.png"
    got = U.parse(hotp.provisioning_uri("bob", initial_count=99, theme="dark"))
    assert got.counter == 99 and got.extra == (("theme", "dark"),)

    steam = pyotp_hw.Steam("JBSWY3DPEHPK3PXP", name="gaben")
    got = U.parse(steam.provisioning_uri(issuer_name="Steam"))
    assert got.is_steam and got.account == "gaben" and got.digits == 5


def test_provisioning_uri_matches_pyotp_for_the_same_inputs() -> None:
    # Both follow the same format; pyotp's URI and ours must describe the same fields.
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    theirs = pyotp.TOTP(secret, digits=8, interval=60).provisioning_uri(
        name="a b+c@d", issuer_name="Is & Co")
    ours = pyotp_hw.TOTP(secret, digits=8, interval=60).provisioning_uri(
        "a b+c@d", issuer_name="Is & Co")
    assert U.parse(theirs) == U.parse(ours)
    assert pyotp.parse_uri(ours).provisioning_uri() == pyotp.parse_uri(theirs).provisioning_uri()


def test_provisioning_uri_needs_a_name_and_refuses_contradictions() -> None:
    with pytest.raises(InvalidArgument, match="name"):
        pyotp_hw.TOTP("JBSWY3DPEHPK3PXP").provisioning_uri()
    with pytest.raises(InvalidArgument, match="digits"):
        pyotp_hw.TOTP("JBSWY3DPEHPK3PXP").provisioning_uri("a", digits="8")
    with pytest.raises(InvalidArgument, match="t0"):
        pyotp_hw.TOTP("JBSWY3DPEHPK3PXP", t0=100).provisioning_uri("a")


def test_uri_fields_and_from_uri() -> None:
    obj = pyotp_hw.HOTP("JBSWY3DPEHPK3PXP", digits=7, name="n", issuer="i", initial_count=3)
    entry = uri_fields(obj)
    assert (entry.kind, entry.digits, entry.counter, entry.label) == ("hotp", 7, 3, "i:n")
    back = from_uri(entry)
    assert isinstance(back, pyotp_hw.HOTP) and back.at(0) == obj.at(0)
    assert uri_fields(obj, name="m", issuer="j").label == "j:m"
