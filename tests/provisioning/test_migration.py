"""Google Authenticator exports: the reference vector, batches across QR codes, and errors.

The protobuf package's view of the same data is in test_migration_protobuf.py.
"""

from __future__ import annotations

import base64
import random
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw import migration as M
from pyotp_hw.errors import InvalidArgument, InvalidURI
from pyotp_hw.uri import OtpAuthURI

SECRET = b"\x9c\x7f\x01secret-bytes-xyz"


def test_reference_vector(vectors: dict[str, Any]) -> None:
    ref = vectors["google_authenticator_migration_example"]
    (entry,) = M.decode(ref["uri"])
    b32 = ref["secret_base32"]
    expected_secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    assert entry.secret == expected_secret
    assert entry.label == ref["name"]
    assert entry.issuer == ref["issuer"]
    assert entry.kind == ref["type"]
    assert entry.account == ref["name"].split(":", 1)[1]
    assert (entry.digest, entry.digits, entry.period) == ("sha1", 6, 30)
    assert M.decode_all([ref["uri"]]) == [entry]


def test_round_trip_across_several_batches_in_any_order() -> None:
    accounts = [
        OtpAuthURI(kind="totp", secret=bytes([i]) * 20, account=f"user{i}@example.com",
                   issuer=["GitHub", "Google", "Ünïcode Bank", None, "A & B = 100%"][i % 5],
                   digest=["sha1", "sha256", "sha512"][i % 3], digits=[6, 8][i % 2])
        for i in range(23)
    ] + [OtpAuthURI(kind="hotp", secret=b"h" * 10, account="counter", counter=12345)]
    uris = M.encode(accounts)
    assert len(uris) == 3
    assert [len(M.decode(u)) for u in uris] == [10, 10, 4]
    shuffled = [*uris, uris[1]]
    random.Random(5).shuffle(shuffled)
    assert M.decode_all(shuffled) == accounts
    # Two separate exports in one import keep their own order.
    other = M.encode(accounts[:2])
    assert M.decode_all(other + uris) == accounts[:2] + accounts


def test_missing_batch_is_an_error() -> None:
    accounts = [OtpAuthURI(kind="totp", secret=b"k" * 10, account=str(i)) for i in range(25)]
    uris = M.encode(accounts)
    with pytest.raises(M.MigrationError, match="batch 2 of 3 is missing"):
        M.decode_all([uris[0], uris[2]])


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (OtpAuthURI(kind="totp", secret=SECRET, account="s", issuer="Steam", digits=5,
                    encoder="steam"), "Steam"),
        (OtpAuthURI(kind="totp", secret=SECRET, account="p", period=60), "period"),
        (OtpAuthURI(kind="totp", secret=SECRET, account="d", digits=7), "6 or 8"),
    ],
)
def test_export_refuses_what_the_format_cannot_hold(entry: OtpAuthURI, words: str) -> None:
    ok = OtpAuthURI(kind="totp", secret=b"k" * 10, account="ok")
    with pytest.raises(M.MigrationError, match=words) as info:
        M.encode([ok, ok, entry])
    assert "account 3" in str(info.value) and info.value.index == 3
    assert base64.b32encode(SECRET).decode().rstrip("=") not in str(info.value)


def test_export_arguments() -> None:
    with pytest.raises(InvalidArgument):
        M.encode([])
    with pytest.raises(InvalidArgument):
        M.encode([OtpAuthURI(kind="totp", secret=b"k", account="a")], batch_size=0)
    one = [OtpAuthURI(kind="totp", secret=b"k", account="a")]
    for size, words in [(-3, "^batch_size must be a positive int, got -3$"),
                        ("4", "^batch_size must be a positive int, not str$"),
                        (True, "not bool"), (4.0, "not float")]:
        with pytest.raises(InvalidArgument, match=words):
            M.encode(one, batch_size=size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("otpauth-migration://offline", "must start with"),
        ("otpauth-migration://offline?foo=1", "no 'data'"),
        ("otpauth-migration://offline?data=@@@@", "base64"),
        ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "otpauth-migration"),
        # A payload cut in the middle of the account.
        ("otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6", "corrupt"),
        # Field number 0, and a group wire type.
        ("otpauth-migration://offline?data=" + base64.b64encode(b"\x00\x01").decode(), "corrupt"),
        ("otpauth-migration://offline?data=" + base64.b64encode(b"\x0b\x01").decode(), "corrupt"),
        # A varint that never ends.
        ("otpauth-migration://offline?data=" + base64.b64encode(b"\x10" + b"\xff" * 11).decode(),
         "corrupt"),
    ],
)
def test_damaged_input(text: str, words: str) -> None:
    with pytest.raises(InvalidURI, match=words):
        M.decode(text)


def test_unknown_fields_are_skipped() -> None:
    ref = "CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC"
    raw = base64.b64decode(ref)
    # Field 9 varint, field 10 fixed64, field 11 fixed32, field 12 bytes: all from a future app.
    extra = b"\x48\x01" + b"\x51" + b"\x00" * 8 + b"\x5d" + b"\x00" * 4 + b"\x62\x02hi"
    text = "otpauth-migration://offline?data=" + base64.b64encode(raw + extra).decode()
    assert M.decode(text) == M.decode("otpauth-migration://offline?data=" + ref)


def test_is_migration_uri() -> None:
    assert M.is_migration_uri("otpauth-migration://offline?data=x")
    assert M.is_migration_uri(" OTPAUTH-MIGRATION://offline?data=x")
    assert not M.is_migration_uri("otpauth://totp/a?secret=A")
    assert not M.is_migration_uri(None)  # type: ignore[arg-type]



NAME = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
ACCOUNTS = st.lists(
    st.builds(
        lambda kind, secret, account, issuer, digest, digits, counter: OtpAuthURI(
            kind=kind, secret=secret, account=account, issuer=issuer, digest=digest,
            digits=digits, counter=counter if kind == "hotp" else None),
        kind=st.sampled_from(["totp", "hotp"]),
        secret=st.binary(min_size=1, max_size=64),
        account=NAME.filter(lambda s: not s.startswith(" ")),
        issuer=st.none() | NAME,
        digest=st.sampled_from(["sha1", "sha256", "sha512"]),
        digits=st.sampled_from([6, 8]),
        counter=st.integers(0, 2**63 - 1),
    ),
    min_size=1,
    max_size=25,
)


@given(accounts=ACCOUNTS, batch_size=st.integers(1, 12))
def test_export_then_import_gives_back_every_account(
    accounts: list[OtpAuthURI], batch_size: int
) -> None:
    uris = M.encode(accounts, batch_size=batch_size)
    assert len(uris) == -(-len(accounts) // batch_size)
    assert M.decode_all(uris) == accounts
    assert M.decode_all(reversed(uris)) == accounts


def test_forgiving_about_how_data_travelled() -> None:
    # fb ef be and ff ff ff give "+" and "/" in base64; a 7-byte period meets every alignment.
    secret = b"\xfb\xef\xbe\xff\xff\xff\x00" * 3
    (text,) = M.encode([OtpAuthURI(kind="totp", secret=secret, account="x")])
    expected = M.decode(text)
    data = unquote(text.split("data=", 1)[1])
    raw = base64.b64decode(data)
    assert "+" in data and "/" in data
    variants = [
        "otpauth-migration://offline?data=" + data,  # not percent-encoded
        "otpauth-migration://offline?data=" + data.replace("+", " "),  # '+' turned to space
        "otpauth-migration://offline?data="
        + base64.urlsafe_b64encode(raw).decode().rstrip("="),  # URL-safe alphabet, no padding
        "  OTPAUTH-MIGRATION://offline?data=" + quote(data, safe="") + "\n",
    ]
    for variant in variants:
        assert M.decode(variant) == expected


def test_negative_batch_id_from_the_app() -> None:
    # The app's batch_id is an int32 and may be negative: ten-byte varint, two's complement.
    ref = base64.b64decode("CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC")
    minus_five = b"\xfb" + b"\xff" * 8 + b"\x01"
    batches = []
    for index in (1, 0):
        data = ref + b"\x10\x01\x18\x02\x20" + bytes([index]) + b"\x28" + minus_five
        batches.append("otpauth-migration://offline?data=" + base64.b64encode(data).decode())
    both = M.decode_all(batches)
    assert len(both) == 2 and both[0] == both[1]
    with pytest.raises(M.MigrationError, match="batch 1 of 2 is missing"):
        M.decode_all(batches[:1])
