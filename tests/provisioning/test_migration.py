"""Google Authenticator exports: the reference vector, batches, errors, and protobuf as oracle."""

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

# ---------------------------------------------------------------------------------------------
# The protobuf package, given the app's schema, is the independent codec.

protobuf = pytest.importorskip("google.protobuf")


def _schema() -> Any:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="pyotp_hw_test_migration.proto",
                                             package="gatest", syntax="proto3")
    payload = fdp.message_type.add(name="MigrationPayload")
    for name, values in [
        ("Algorithm", ["ALGORITHM_UNSPECIFIED", "SHA1", "SHA256", "SHA512", "MD5"]),
        ("DigitCount", ["DIGIT_COUNT_UNSPECIFIED", "SIX", "EIGHT"]),
        ("OtpType", ["OTP_TYPE_UNSPECIFIED", "HOTP", "TOTP"]),
    ]:
        enum = payload.enum_type.add(name=name)
        for number, value in enumerate(values):
            enum.value.add(name=value, number=number)
    otp = payload.nested_type.add(name="OtpParameters")
    for name, number, ftype, type_name in [
        ("secret", 1, F.TYPE_BYTES, None),
        ("name", 2, F.TYPE_STRING, None),
        ("issuer", 3, F.TYPE_STRING, None),
        ("algorithm", 4, F.TYPE_ENUM, ".gatest.MigrationPayload.Algorithm"),
        ("digits", 5, F.TYPE_ENUM, ".gatest.MigrationPayload.DigitCount"),
        ("type", 6, F.TYPE_ENUM, ".gatest.MigrationPayload.OtpType"),
        ("counter", 7, F.TYPE_INT64, None),
    ]:
        field = otp.field.add(name=name, number=number, type=ftype, label=F.LABEL_OPTIONAL)
        if type_name:
            field.type_name = type_name
    payload.field.add(name="otp_parameters", number=1, type=F.TYPE_MESSAGE,
                      label=F.LABEL_REPEATED, type_name=".gatest.MigrationPayload.OtpParameters")
    for name, number in [("version", 2), ("batch_size", 3), ("batch_index", 4), ("batch_id", 5)]:
        payload.field.add(name=name, number=number, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("gatest.MigrationPayload"))


Payload = _schema()
ALG = {"sha1": 1, "sha256": 2, "sha512": 3}
DIG = {6: 1, 8: 2}


def _to_uri(message: Any) -> str:
    data = base64.b64encode(message.SerializeToString()).decode()
    return "otpauth-migration://offline?data=" + quote(data, safe="")


def _from_uri(text: str) -> Any:
    data = unquote(text.split("data=", 1)[1])
    message = Payload()
    message.ParseFromString(base64.b64decode(data))
    return message


def _add(message: Any, entry: OtpAuthURI) -> None:
    p = message.otp_parameters.add()
    p.secret = entry.secret
    p.name = entry.label
    p.issuer = entry.issuer or ""
    p.algorithm = ALG[entry.digest]
    p.digits = DIG[entry.digits]
    p.type = 1 if entry.kind == "hotp" else 2
    if entry.counter is not None:
        p.counter = entry.counter


# ---------------------------------------------------------------------------------------------
# Reference vector


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
    # The oracle reads the same vector the same way.
    (p,) = _from_uri(ref["uri"]).otp_parameters
    assert (p.secret, p.name, p.issuer, p.type) == (entry.secret, ref["name"], ref["issuer"], 2)
    assert M.decode_all([ref["uri"]]) == [entry]


# ---------------------------------------------------------------------------------------------
# Encoding and decoding against the oracle

NAME = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
ACCOUNT = st.builds(
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
)


@given(accounts=st.lists(ACCOUNT, min_size=1, max_size=25), batch_size=st.integers(1, 12))
def test_export_is_what_protobuf_reads_and_import_reads_back(
    accounts: list[OtpAuthURI], batch_size: int
) -> None:
    uris = M.encode(accounts, batch_size=batch_size)
    assert len(uris) == -(-len(accounts) // batch_size)
    messages = [_from_uri(u) for u in uris]
    assert {m.batch_id for m in messages} == {messages[0].batch_id}
    assert [m.batch_index for m in messages] == list(range(len(uris)))
    assert all(m.batch_size == len(uris) and m.version == 1 for m in messages)
    params = [p for m in messages for p in m.otp_parameters]
    assert len(params) == len(accounts)
    for p, entry in zip(params, accounts, strict=True):
        assert p.secret == entry.secret
        assert p.name == entry.label
        assert p.issuer == (entry.issuer or "")
        assert p.algorithm == ALG[entry.digest] and p.digits == DIG[entry.digits]
        assert p.type == (1 if entry.kind == "hotp" else 2)
        assert p.counter == (entry.counter or 0)
    assert M.decode_all(uris) == accounts


@given(accounts=st.lists(ACCOUNT, min_size=1, max_size=12))
def test_import_reads_what_protobuf_writes(accounts: list[OtpAuthURI]) -> None:
    message = Payload(version=1, batch_size=1, batch_index=0, batch_id=-123456)
    for entry in accounts:
        _add(message, entry)
    assert M.decode(_to_uri(message)) == accounts


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


def test_same_batch_twice_with_different_contents_is_an_error() -> None:
    message = Payload(version=1, batch_size=2, batch_index=0, batch_id=7)
    _add(message, OtpAuthURI(kind="totp", secret=b"a" * 10, account="a"))
    first = _to_uri(message)
    message.otp_parameters[0].name = "b"
    with pytest.raises(M.MigrationError, match="twice"):
        M.decode_all([first, _to_uri(message)])


# ---------------------------------------------------------------------------------------------
# Unsupported entries and damaged data

SECRET = b"\x9c\x7f\x01secret-bytes-xyz"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("algorithm", 4, "MD5"), ("type", 0, "unknown OTP type"), ("type", 9, "unknown OTP type"),
     ("digits", 7, "unknown digit count"), ("algorithm", 9, "unknown algorithm")],
)
def test_unsupported_entry_names_the_account_not_the_secret(
    field: str, value: int, words: str
) -> None:
    message = Payload(version=1, batch_size=1, batch_index=0, batch_id=1)
    _add(message, OtpAuthURI(kind="totp", secret=b"fine" * 5, account="first"))
    _add(message, OtpAuthURI(kind="totp", secret=SECRET, account="second", issuer="Corp"))
    setattr(message.otp_parameters[1], field, value)
    with pytest.raises(M.MigrationError) as info:
        M.decode(_to_uri(message))
    text = str(info.value)
    assert "account 2" in text and words in text and "second" in text
    assert info.value.index == 2
    assert base64.b32encode(SECRET).decode().rstrip("=") not in text
    assert "secret-bytes" not in text and base64.b64encode(SECRET).decode() not in text


def test_entry_without_secret() -> None:
    message = Payload()
    message.otp_parameters.add(name="x", type=2)
    with pytest.raises(M.MigrationError, match=r"account 1 .* no secret"):
        M.decode(_to_uri(message))


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


def test_forgiving_about_how_data_travelled(vectors: dict[str, Any]) -> None:
    message = Payload(version=1, batch_size=1, batch_index=0, batch_id=-5)
    # 0xfb 0xff bytes give '+' and '/' in base64.
    _add(message, OtpAuthURI(kind="totp", secret=b"\xfb\xff\xbf" * 7, account="x"))
    expected = M.decode(_to_uri(message))
    data = base64.b64encode(message.SerializeToString()).decode()
    assert "+" in data or "/" in data
    variants = [
        "otpauth-migration://offline?data=" + data,  # not percent-encoded
        "otpauth-migration://offline?data=" + data.replace("+", " "),  # '+' turned to space
        "otpauth-migration://offline?data=" + base64.urlsafe_b64encode(
            message.SerializeToString()).decode().rstrip("="),  # URL-safe alphabet, no padding
        "  OTPAUTH-MIGRATION://offline?data=" + quote(data, safe="") + "\n",
    ]
    for text in variants:
        assert M.decode(text) == expected


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
