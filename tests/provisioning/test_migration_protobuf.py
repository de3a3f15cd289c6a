"""Google Authenticator exports checked against the protobuf package, given the app's schema."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw import migration as M
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



def test_protobuf_reads_the_reference_vector_as_we_do(vectors: dict[str, Any]) -> None:
    ref = vectors["google_authenticator_migration_example"]
    (entry,) = M.decode(ref["uri"])
    (p,) = _from_uri(ref["uri"]).otp_parameters
    assert (p.secret, p.name, p.issuer, p.type) == (entry.secret, entry.label, entry.issuer, 2)
    assert (p.algorithm, p.digits) == (0, 0)  # unset: the app's defaults, SHA1 and six digits
