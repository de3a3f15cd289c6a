"""Build-then-parse round trips, and pyotp as an independent reader and writer of the format."""

from __future__ import annotations

import hashlib
import warnings

import pyotp
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pyotp_hw import uri as U
from pyotp_hw.errors import InvalidURI
from pyotp_hw.keys import encode_base32

# Characters that stress the format: separators, escapes, spaces and non-ASCII.
_TRICKY = st.sampled_from([*":&=%+ #?/@;,'\"\\\t\n", "é", "ü", "中", "🔐", "\u00a0"])
CHARS = st.characters(codec="utf-8")  # any character UTF-8 can carry (no lone surrogates)
NAMES = st.text(alphabet=st.one_of(_TRICKY, CHARS), min_size=1, max_size=30)
ISSUERS = st.none() | NAMES.filter(lambda s: s.strip().lower() != "steam")
DIGESTS = st.sampled_from(["sha1", "sha256", "sha512"])
SECRETS = st.binary(min_size=1, max_size=64)
KNOWN = {"secret", "issuer", "algorithm", "digits", "period", "counter", "image", "encoder"}
EXTRA = st.lists(
    st.tuples(NAMES.filter(lambda k: k.strip().lower() not in KNOWN), st.text(CHARS, max_size=20)),
    max_size=3,
)


def _parse_quietly(text: str) -> U.OtpAuthURI:
    with warnings.catch_warnings():
        warnings.simplefilter("error", U.URIWarning)
        return U.parse(text)


@given(
    secret=SECRETS,
    account=NAMES,
    issuer=ISSUERS,
    digest=DIGESTS,
    digits=st.integers(6, 10),
    period=st.integers(1, 10 * 365 * 24 * 3600),
    image=st.none() | st.text(CHARS, max_size=40),
    extra=EXTRA,
)
def test_totp_build_then_parse_gives_every_field(
    secret: bytes, account: str, issuer: str | None, digest: str, digits: int, period: int,
    image: str | None, extra: list[tuple[str, str]],
) -> None:
    # The format allows spaces after "issuer:", so a leading space of an account cannot survive
    # a label that has an issuer; everything else must.
    assume(not (issuer and account.startswith(" ")))
    text = U.build("totp", secret, account=account, issuer=issuer, digest=digest,
                   digits=digits, period=period, image=image, extra=extra)
    got = _parse_quietly(text)
    assert got.kind == "totp"
    assert got.secret == secret
    assert got.account == account
    assert got.issuer == issuer
    assert got.digest == digest
    assert got.digits == digits
    assert got.period == period
    assert got.counter is None
    assert got.image == image
    assert got.extra == tuple(extra)
    assert got.warnings == ()
    assert got.encoder is None
    # A parsed entry writes back to a URI that parses to the same thing.
    assert _parse_quietly(got.to_uri()) == got


@given(
    secret=SECRETS,
    account=NAMES,
    issuer=ISSUERS,
    digest=DIGESTS,
    digits=st.integers(6, 10),
    counter=st.integers(0, 2**64 - 1),
)
def test_hotp_build_then_parse_gives_every_field(
    secret: bytes, account: str, issuer: str | None, digest: str, digits: int, counter: int
) -> None:
    assume(not (issuer and account.startswith(" ")))
    text = U.build("hotp", secret, account=account, issuer=issuer, digest=digest,
                   digits=digits, counter=counter)
    got = _parse_quietly(text)
    assert (got.kind, got.secret, got.account, got.issuer) == ("hotp", secret, account, issuer)
    assert (got.digest, got.digits, got.counter) == (digest, digits, counter)
    assert got.warnings == ()


@given(secret=SECRETS, account=NAMES)
def test_steam_build_then_parse(secret: bytes, account: str) -> None:
    assume(not account.startswith(" "))
    text = U.build("totp", secret, account=account, issuer="Steam", encoder="steam")
    got = _parse_quietly(text)
    assert got.is_steam and got.digits == 5 and got.issuer == "Steam"
    assert got.account == account and got.secret == secret


# pyotp is an independent implementation of the same format: it must read what we write and we
# must read what it writes. Its own label parser splits on any ':' and needs 112-bit secrets, so
# the names here have no colon (and pyotp allows periods up to 120 s).
PLAIN = st.text(alphabet=st.one_of(st.sampled_from(list("&=%+ #?/@é中")), CHARS),
                min_size=1, max_size=20).filter(lambda s: ":" not in s and s.strip() == s)
PYOTP_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


@given(
    secret=st.binary(min_size=16, max_size=40),
    account=PLAIN,
    issuer=PLAIN.filter(lambda s: s.lower() != "steam"),
    digest=DIGESTS,
    digits=st.integers(6, 8),
    period=st.integers(1, 120),
)
def test_pyotp_reads_what_we_write(
    secret: bytes, account: str, issuer: str, digest: str, digits: int, period: int
) -> None:
    text = U.build("totp", secret, account=account, issuer=issuer, digest=digest,
                   digits=digits, period=period)
    theirs = pyotp.parse_uri(text)
    assert isinstance(theirs, pyotp.TOTP)
    assert theirs.name == account
    assert theirs.issuer == issuer
    assert theirs.byte_secret() == secret
    assert theirs.digits == digits
    assert theirs.interval == period
    assert theirs.digest().name == digest


@given(
    secret=st.binary(min_size=16, max_size=40),
    account=PLAIN,
    issuer=PLAIN.filter(lambda s: s.lower() != "steam"),
    digest=DIGESTS,
    digits=st.integers(6, 8),
    counter=st.none() | st.integers(0, 2**40),
)
def test_we_read_what_pyotp_writes(
    secret: bytes, account: str, issuer: str, digest: str, digits: int, counter: int | None
) -> None:
    b32 = encode_base32(secret)
    if counter is None:
        text = pyotp.TOTP(b32, digits=digits, digest=PYOTP_DIGESTS[digest]).provisioning_uri(
            name=account, issuer_name=issuer)
    else:
        text = pyotp.HOTP(b32, digits=digits, digest=PYOTP_DIGESTS[digest]).provisioning_uri(
            name=account, issuer_name=issuer, initial_count=counter)
    got = _parse_quietly(text)
    assert got.kind == ("totp" if counter is None else "hotp")
    assert (got.account, got.issuer, got.secret) == (account, issuer, secret)
    assert (got.digest, got.digits, got.counter) == (digest, digits, counter)


def test_build_accepts_a_base32_secret_and_a_mapping_of_extras() -> None:
    text = U.build("TOTP", "jbsw y3dp ehpk 3pxp", account="a", extra={"foo": "1"})
    assert text == "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&foo=1"


@pytest.mark.parametrize("account", ["a:b", "a:b:c", "http://x"])
def test_colons_in_an_account_without_issuer_survive(account: str) -> None:
    got = _parse_quietly(U.build("totp", b"k" * 10, account=account))
    assert got.account == account and got.issuer is None


@pytest.mark.parametrize("field", ["account", "issuer", "image"])
def test_text_that_is_not_unicode_is_refused(field: str) -> None:
    kwargs = {"account": "a", field: "bad\ud800"}
    with pytest.raises(InvalidURI, match=field):
        U.build("totp", b"k" * 10, **kwargs)  # type: ignore[arg-type]
