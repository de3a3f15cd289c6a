"""Google Authenticator's export format: ``otpauth-migration://offline?data=BASE64``.

``data`` is a protobuf ``MigrationPayload``: repeated ``otp_parameters`` (1) and batch fields
``version`` (2), ``batch_size`` (3), ``batch_index`` (4), ``batch_id`` (5). Each ``OtpParameters``
holds ``secret`` (1, bytes), ``name`` (2), ``issuer`` (3), ``algorithm`` (4: 1 SHA1, 2 SHA256,
3 SHA512, 4 MD5), ``digits`` (5: 1 six, 2 eight), ``type`` (6: 1 HOTP, 2 TOTP), ``counter`` (7).
The app splits a large export into several QR codes, one batch each, sharing a ``batch_id``.

Codec choice: a small hand-written protobuf wire codec rather than the protobuf package, because
the schema is two flat messages of varint and length-delimited fields, the wire format is a
stable public spec, and the package would bring generated code tied to its runtime version for
some 80 lines of work; the tests check this codec against the reference vector and against the
protobuf package itself as an independent oracle.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from ._numbers import whole
from .errors import InvalidArgument, InvalidURI
from .uri import OtpAuthURI

__all__ = [
    "MigrationError",
    "is_migration_uri",
    "decode",
    "decode_all",
    "encode",
    "DEFAULT_BATCH_SIZE",
    "MAX_URI_CHARS",
    "MAX_BATCHES",
    "MAX_ACCOUNTS",
    "MAX_TOTAL_ACCOUNTS",
    "MAX_SECRET_BYTES",
    "MAX_TEXT_BYTES",
]

#: Accounts per QR code when exporting, as Google Authenticator does.
DEFAULT_BATCH_SIZE = 10
# Bounds on what an export may claim, checked before anything is built from the claim. A QR
# code holds under 3 KB, so real exports stay far below each of them.
#: Longest migration URI read (characters), checked before base64 decoding.
MAX_URI_CHARS = 256 * 1024
#: Most batches (QR codes) one export may announce.
MAX_BATCHES = 1000
#: Most accounts in one batch.
MAX_ACCOUNTS = 1000
#: Most accounts :func:`decode_all` returns in all.
MAX_TOTAL_ACCOUNTS = 10_000
#: Longest secret of one account, in bytes.
MAX_SECRET_BYTES = 1024
#: Longest name or issuer of one account, in UTF-8 bytes.
MAX_TEXT_BYTES = 2048
# Missing batches named in an error before the rest are only counted.
_LISTED_MISSING = 10
_SCHEME = re.compile(r"^otpauth-migration://([^/?#]*)/?\?(.*)$", re.IGNORECASE | re.DOTALL)
_PREFIX = re.compile(r"^\s*otpauth-migration:", re.IGNORECASE)

_ALGORITHMS = {0: "sha1", 1: "sha1", 2: "sha256", 3: "sha512"}
_ALGORITHM_CODES = {"sha1": 1, "sha256": 2, "sha512": 3}
_DIGITS = {0: 6, 1: 6, 2: 8}
_DIGIT_CODES = {6: 1, 8: 2}
_TYPE_HOTP, _TYPE_TOTP = 1, 2
_VERSION = 1

_WIRE_VARINT, _WIRE_FIXED64, _WIRE_BYTES, _WIRE_FIXED32 = 0, 1, 2, 5
_U64 = 2**64


class MigrationError(InvalidURI):
    """An export cannot be read or written; ``index`` is the 1-based account at fault, if any."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


def is_migration_uri(text: str) -> bool:
    """True when ``text`` is an ``otpauth-migration:`` URI (by its scheme only)."""
    return isinstance(text, str) and _PREFIX.match(text) is not None


# ----------------------------------------------------------------------------------------------
# Protobuf wire format (the subset this schema uses)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(buf):
            raise MigrationError("export data is corrupt: a number is cut short")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value >= _U64:
                raise MigrationError("export data is corrupt: a number is too large")
            return value, pos
    raise MigrationError("export data is corrupt: a number is too long")


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``; value is an int or, for type 2, bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise MigrationError("export data is corrupt: field number 0")
        value: int | bytes
        if wire == _WIRE_VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _WIRE_BYTES:
            length, pos = _read_varint(buf, pos)
            if pos + length > len(buf):
                raise MigrationError("export data is corrupt: a field runs past the end")
            value, pos = buf[pos : pos + length], pos + length
        elif wire in (_WIRE_FIXED64, _WIRE_FIXED32):
            size = 8 if wire == _WIRE_FIXED64 else 4
            if pos + size > len(buf):
                raise MigrationError("export data is corrupt: a field runs past the end")
            value, pos = int.from_bytes(buf[pos : pos + size], "little"), pos + size
        else:
            raise MigrationError(f"export data is corrupt: unsupported wire type {wire}")
        yield number, wire, value


def _varint(value: int) -> bytes:
    value %= _U64  # negative int32/int64 values travel as 64-bit two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _put_varint(out: bytearray, number: int, value: int) -> None:
    out += _varint(number << 3 | _WIRE_VARINT)
    out += _varint(value)


def _put_bytes(out: bytearray, number: int, value: bytes) -> None:
    out += _varint(number << 3 | _WIRE_BYTES)
    out += _varint(len(value))
    out += value


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


# ----------------------------------------------------------------------------------------------
# Decoding


@dataclass
class _Payload:
    accounts: list[OtpAuthURI]
    batch_size: int
    batch_index: int
    batch_id: int


def _data_bytes(uri: str) -> bytes:
    if not isinstance(uri, str):
        raise MigrationError(f"migration URI must be a str, not {type(uri).__name__}")
    if len(uri) > MAX_URI_CHARS:
        raise MigrationError(
            f"migration URI is too long ({len(uri)} characters; at most {MAX_URI_CHARS})"
        )
    match = _SCHEME.match(uri.strip())
    if match is None:
        raise MigrationError("URI must start with otpauth-migration://offline?data=")
    data: str | None = None
    for item in match.group(2).split("&"):
        key, _, value = item.partition("=")
        if key.lower() == "data":
            data = value
    if not data:
        raise MigrationError("migration URI has no 'data' parameter")
    if not data.isascii():
        # Checked here, not by the codec: its UnicodeEncodeError would hold the whole data.
        raise MigrationError("parameter 'data' is not valid base64 (it holds non-ASCII text)")
    # Base64 has no spaces: a space is a '+' that form decoding turned into one.
    text = unquote_to_bytes(data).decode("latin-1").replace(" ", "+").strip()
    text = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MigrationError("parameter 'data' is not valid base64") from None


def _text(raw: int | bytes, what: str, where: str, index: int) -> str:
    if not isinstance(raw, bytes):
        raise MigrationError(f"{where}: {what} has the wrong wire type", index)
    if len(raw) > MAX_TEXT_BYTES:
        raise MigrationError(
            f"{where}: {what} takes {len(raw)} bytes (at most {MAX_TEXT_BYTES})", index
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MigrationError(f"{where}: {what} is not UTF-8 text", index) from None


def _account(raw: bytes, where: str, index: int) -> OtpAuthURI:
    secret = b""
    name = issuer = ""
    algorithm = digits = otp_type = counter = 0
    for number, _wire, value in _fields(raw):
        if number == 1:
            if not isinstance(value, bytes):
                raise MigrationError(f"{where}: the secret has the wrong wire type", index)
            if len(value) > MAX_SECRET_BYTES:
                raise MigrationError(
                    f"{where}: the secret takes {len(value)} bytes (at most {MAX_SECRET_BYTES})",
                    index,
                )
            secret = value
        elif number == 2:
            name = _text(value, "the name", where, index)
        elif number == 3:
            issuer = _text(value, "the issuer", where, index)
        elif number in (4, 5, 6, 7):
            if not isinstance(value, int):
                raise MigrationError(f"{where}: field {number} has the wrong wire type", index)
            if number == 4:
                algorithm = value
            elif number == 5:
                digits = value
            elif number == 6:
                otp_type = value
            else:
                counter = value
    label = f"{where} ({issuer + ': ' if issuer else ''}{name})"
    if not secret:
        raise MigrationError(f"{label} has no secret", index)
    if algorithm == 4:
        raise MigrationError(f"{label} uses MD5, which pyotp-hw does not support", index)
    if algorithm not in _ALGORITHMS:
        raise MigrationError(f"{label} has an unknown algorithm (code {algorithm})", index)
    if digits not in _DIGITS:
        raise MigrationError(f"{label} has an unknown digit count (code {digits})", index)
    if otp_type not in (_TYPE_HOTP, _TYPE_TOTP):
        raise MigrationError(f"{label} has an unknown OTP type (code {otp_type})", index)
    account = name
    # The app often stores the label ("Issuer:account") as the name; the issuer field is the
    # authority, so the prefix is only removed when it repeats that issuer.
    if issuer and name.startswith(issuer + ":"):
        account = name[len(issuer) + 1 :].lstrip(" ")
    return OtpAuthURI(
        kind="hotp" if otp_type == _TYPE_HOTP else "totp",
        secret=secret,
        account=account,
        issuer=issuer or None,
        digest=_ALGORITHMS[algorithm],
        digits=_DIGITS[digits],
        period=30,
        counter=counter if otp_type == _TYPE_HOTP else None,
    )


def _decode_payload(uri: str) -> _Payload:
    data = _data_bytes(uri)
    entries: list[bytes] = []
    batch_size = batch_index = batch_id = 0
    for number, _wire, value in _fields(data):
        if number == 1:
            if not isinstance(value, bytes):
                raise MigrationError("export data is corrupt: an account has the wrong wire type")
            if len(entries) == MAX_ACCOUNTS:
                raise MigrationError(
                    f"one batch of the export holds more than {MAX_ACCOUNTS} accounts "
                    f"(at most {MAX_ACCOUNTS} are read)"
                )
            entries.append(value)
        elif number in (3, 4, 5) and isinstance(value, int):
            if number == 3:
                batch_size = _int32(value)
            elif number == 4:
                batch_index = _int32(value)
            else:
                batch_id = _int32(value)
    if batch_size > MAX_BATCHES:
        raise MigrationError(
            f"the export announces {batch_size} batches (QR codes); at most {MAX_BATCHES} "
            "are read"
        )
    if batch_size > 1 and not 0 <= batch_index < batch_size:
        raise MigrationError(
            f"export data is corrupt: batch index {batch_index} outside 0..{batch_size - 1}"
        )
    where = "account {}"
    if batch_size > 1:
        where = f"batch {batch_index + 1} of {batch_size}, account {{}}"
    accounts = [
        _account(raw, where.format(i + 1), i + 1) for i, raw in enumerate(entries)
    ]
    return _Payload(accounts, batch_size, batch_index, batch_id)


def decode(uri: str) -> list[OtpAuthURI]:
    """Return the accounts of one migration URI (one batch of an export).

    Raises :class:`MigrationError` (an :class:`~pyotp_hw.errors.InvalidURI`) naming the account
    index for an entry pyotp-hw cannot use (MD5, unknown type); never quoting a secret.
    """
    return _decode_payload(uri).accounts


def decode_all(uris: Iterable[str]) -> list[OtpAuthURI]:
    """Return the accounts of every batch of one or more exports, in batch order.

    Batches of the same export (same ``batch_id``) may come in any order and repeated; a batch
    that is missing raises :class:`MigrationError`, so an import is never silently partial.
    """
    groups: dict[tuple[str, int], dict[int, _Payload]] = {}
    sizes: dict[tuple[str, int], int] = {}
    total = 0
    for position, uri in enumerate(uris):
        payload = _decode_payload(uri)
        total += len(payload.accounts)
        if total > MAX_TOTAL_ACCOUNTS:
            raise MigrationError(
                f"the exports hold more than {MAX_TOTAL_ACCOUNTS} accounts (at most "
                f"{MAX_TOTAL_ACCOUNTS} are read at once): import them in several runs"
            )
        if payload.batch_size <= 1:
            key = ("single", position)
            groups[key] = {0: payload}
            sizes[key] = 1
            continue
        key = ("batch", payload.batch_id)
        if sizes.setdefault(key, payload.batch_size) != payload.batch_size:
            raise MigrationError("batches of one export disagree on the number of batches")
        group = groups.setdefault(key, {})
        previous = group.get(payload.batch_index)
        if previous is not None and previous.accounts != payload.accounts:
            raise MigrationError(
                f"batch {payload.batch_index + 1} of {payload.batch_size} was given twice "
                "with different contents"
            )
        group[payload.batch_index] = payload
    result: list[OtpAuthURI] = []
    for key, group in groups.items():
        # sizes[key] is at most MAX_BATCHES (checked in _decode_payload).
        missing = [i + 1 for i in range(sizes[key]) if i not in group]
        if missing:
            listed = ", ".join(str(i) for i in missing[:_LISTED_MISSING])
            if len(missing) > _LISTED_MISSING:
                listed += f", ... ({len(missing)} in all)"
            verb = "is" if len(missing) == 1 else "are"
            noun = "batch" if len(missing) == 1 else "batches"
            raise MigrationError(
                f"the export is incomplete: {noun} {listed} of {sizes[key]} {verb} missing "
                "(scan every QR code the app shows)"
            )
        for index in sorted(group):
            result.extend(group[index].accounts)
    return result


# ----------------------------------------------------------------------------------------------
# Encoding


def _encode_account(entry: OtpAuthURI, index: int) -> bytes:
    where = f"account {index} ({entry.label})"
    if entry.encoder == "steam":
        raise MigrationError(f"{where}: Google Authenticator cannot hold Steam Guard entries",
                             index)
    if entry.kind == "totp" and entry.period != 30:
        raise MigrationError(
            f"{where}: the export format has no period; only 30-second TOTP can be exported",
            index,
        )
    if entry.digits not in _DIGIT_CODES:
        raise MigrationError(f"{where}: the export format holds 6 or 8 digits, not {entry.digits}",
                             index)
    out = bytearray()
    _put_bytes(out, 1, entry.secret)
    # The app writes the whole label as the name (see the reference vector); decoding strips
    # the issuer prefix again.
    _put_bytes(out, 2, entry.label.encode("utf-8"))
    if entry.issuer:
        _put_bytes(out, 3, entry.issuer.encode("utf-8"))
    _put_varint(out, 4, _ALGORITHM_CODES[entry.digest])
    _put_varint(out, 5, _DIGIT_CODES[entry.digits])
    _put_varint(out, 6, _TYPE_HOTP if entry.kind == "hotp" else _TYPE_TOTP)
    if entry.kind == "hotp":
        assert entry.counter is not None
        _put_varint(out, 7, entry.counter)
    return bytes(out)


def encode(
    accounts: Sequence[OtpAuthURI], *, batch_size: int = DEFAULT_BATCH_SIZE
) -> list[str]:
    """Return migration URIs holding ``accounts``, ``batch_size`` accounts per URI (QR code).

    Raises :class:`MigrationError` naming the 1-based account index for an entry the format
    cannot carry (Steam Guard, a period other than 30 s, digits other than 6 or 8).
    """
    size = whole(batch_size, "batch_size", "a positive int", error=InvalidArgument)
    if size < 1:
        raise InvalidArgument(f"batch_size must be a positive int, got {size}")
    if not accounts:
        raise InvalidArgument("there are no accounts to export")
    encoded = [_encode_account(entry, i + 1) for i, entry in enumerate(accounts)]
    chunks = [encoded[i : i + size] for i in range(0, len(encoded), size)]
    batch_id = secrets.randbits(31)
    uris = []
    for index, chunk in enumerate(chunks):
        out = bytearray()
        for item in chunk:
            _put_bytes(out, 1, item)
        _put_varint(out, 2, _VERSION)
        _put_varint(out, 3, len(chunks))
        _put_varint(out, 4, index)
        _put_varint(out, 5, batch_id)
        data = base64.b64encode(bytes(out)).decode("ascii")
        uris.append(f"otpauth-migration://offline?data={quote(data, safe='')}")
    return uris
