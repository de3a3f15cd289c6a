"""The values an OATH session hands out and takes: credentials, codes, what SELECT says.

:class:`Credential` is a credential as a token lists it, tied to that token by its device id;
:class:`CredentialData` is one to store, checked against what tokens accept; :class:`Code` is a
code and the time it is valid; :class:`SelectAnswer` and :class:`TokenInfo` describe the applet.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._numbers import whole
from ..kinds import check_digest, check_kind
from . import tlv
from .errors import InvalidCredential, ProtocolError
from .ykoath import (
    CHALLENGE_LENGTH,
    DEFAULT_PERIOD,
    DIGEST_BLOCK_SIZE,
    MAX_ID_LENGTH,
    MAX_KEY_LENGTH,
    MIN_KEY_LENGTH,
    TAG,
    CredentialType,
    Digest,
    OathType,
    format_id,
    parse_id,
)

if TYPE_CHECKING:
    from ..otp import HOTP, TOTP
    from ..uri import OtpAuthURI

__all__ = [
    "JsonScalar",
    "Credential",
    "CredentialData",
    "Code",
    "SelectAnswer",
    "TokenInfo",
    "credential_from_id",
    "MIN_DIGITS",
    "MAX_DIGITS",
]

MIN_DIGITS, MAX_DIGITS = 6, 8
#: The values of the ``to_dict`` views (JSON scalars).
JsonScalar = str | int | bool | None


@dataclass(frozen=True, eq=False)
class Credential:
    """A credential as a token describes it.

    A credential is one id on one token: equality and hashing use the token's ``device_id`` and
    the raw credential id, so the same credential read by :meth:`OathSession.list` and by
    :meth:`OathSession.calculate_all` compares equal, and credentials of two tokens never do.
    A credential built by hand has no ``device_id`` (None) and names its id on any token.
    Fields an exchange did not reveal are None: LIST gives the digest but not the digits or the
    touch policy; CALCULATE ALL gives the digits and the touch policy but not the digest.
    """

    raw_id: bytes = field(repr=False)
    name: str
    issuer: str | None
    oath_type: CredentialType
    period: int | None
    digest: Digest | None = None
    digits: int | None = None
    touch: bool | None = None
    device_id: str | None = None

    @property
    def id(self) -> str:
        """The credential id as text: ``[period/][issuer:]name``."""
        return self.raw_id.decode("utf-8", errors="replace")

    @property
    def label(self) -> str:
        """``issuer:name``, or ``name`` when there is no issuer (no period prefix)."""
        return f"{self.issuer}:{self.name}" if self.issuer else self.name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credential):
            return NotImplemented
        return (self.device_id, self.raw_id) == (other.device_id, other.raw_id)

    def __hash__(self) -> int:
        return hash((self.device_id, self.raw_id))

    def to_dict(self) -> dict[str, JsonScalar]:
        """Return the fields as JSON-ready values."""
        return {
            "id": self.id,
            "name": self.name,
            "issuer": self.issuer,
            "label": self.label,
            "type": self.oath_type,
            "period": self.period,
            "digest": self.digest,
            "digits": self.digits,
            "touch": self.touch,
        }


def credential_from_id(
    raw_id: bytes,
    oath_type: CredentialType,
    device_id: str,
    *,
    digest: Digest | None = None,
    digits: int | None = None,
    touch: bool | None = None,
) -> Credential:
    """Build the :class:`Credential` a token described by its raw id and type."""
    text = raw_id.decode("utf-8", errors="replace")
    issuer, name, period = parse_id(text, totp=oath_type == "totp")
    return Credential(
        raw_id, name, issuer, oath_type, period if oath_type == "totp" else None,
        digest=digest, digits=digits, touch=touch, device_id=device_id,
    )


@dataclass(frozen=True)
class Code:
    """A code read from the token and the time span it is valid for.

    ``valid_from`` and ``valid_to`` are Unix times; an HOTP code has no end (``valid_to`` None):
    it stays valid until used, and the token has already moved its counter past it.
    """

    value: str
    valid_from: int
    valid_to: int | None

    def to_dict(self) -> dict[str, JsonScalar]:
        """Return the fields as JSON-ready values."""
        return {"code": self.value, "valid_from": self.valid_from, "valid_to": self.valid_to}


def _digest(value: object) -> Digest:
    return check_digest(value, InvalidCredential)


@dataclass(frozen=True)
class CredentialData:
    """A credential to store on a token, checked against what tokens accept.

    Build it directly, or from an ``otpauth://`` URI or an OTP object with :meth:`from_any`.
    """

    account: str
    secret: bytes = field(repr=False)
    issuer: str | None = None
    oath_type: OathType = "totp"
    digest: Digest = "sha1"
    digits: int = 6
    period: int = DEFAULT_PERIOD
    counter: int = 0

    def __post_init__(self) -> None:
        check_kind(self.oath_type, "type", InvalidCredential)
        _digest(self.digest)
        if not MIN_DIGITS <= whole(self.digits, "digits", error=InvalidCredential) <= MAX_DIGITS:
            raise InvalidCredential(
                f"tokens store codes of {MIN_DIGITS} to {MAX_DIGITS} digits, not {self.digits}"
            )
        if self.oath_type == "totp" and not (
            0 < whole(self.period, "period", error=InvalidCredential) < 2**32
        ):
            raise InvalidCredential(
                f"period must be a positive number of seconds, not {self.period}"
            )
        if not 0 <= whole(self.counter, "counter", error=InvalidCredential) < 2**32:
            raise InvalidCredential(
                "tokens store an initial HOTP counter between 0 and 2**32-1"
            )
        if self.oath_type == "totp" and self.counter:
            raise InvalidCredential("an initial counter is only meaningful for HOTP")
        if not self.account:
            raise InvalidCredential("the account name is empty")
        if not self.secret:
            raise InvalidCredential("the secret is empty")
        if self.issuer is not None and ":" in self.issuer:
            raise InvalidCredential(
                "an issuer stored on a token cannot contain ':' (it separates issuer and account)"
            )
        n = len(self.raw_id)
        if n > MAX_ID_LENGTH:
            raise InvalidCredential(
                f"the name {self.id!r} takes {n} bytes; tokens allow at most {MAX_ID_LENGTH} "
                "(shorten the issuer or account)"
            )
        self.token_key()  # raises when the key cannot be stored

    @property
    def id(self) -> str:
        """The credential id the token will store: ``[period/][issuer:]account``."""
        return format_id(
            self.account, self.issuer, totp=self.oath_type == "totp", period=self.period
        )

    @property
    def raw_id(self) -> bytes:
        """The credential id as UTF-8 bytes."""
        return self.id.encode("utf-8")

    def token_key(self) -> bytes:
        """The key as sent to the token: hashed when longer than the digest's block (HMAC's
        own rule), then zero-padded to 14 bytes (HMAC pads with zeros anyway)."""
        key = self.secret
        if len(key) > DIGEST_BLOCK_SIZE[self.digest]:
            key = hashlib.new(self.digest, key).digest()
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidCredential(
                f"a {self.digest.upper()} secret of {len(key)} bytes is longer than tokens "
                f"store ({MAX_KEY_LENGTH} bytes)"
            )
        return key.ljust(MIN_KEY_LENGTH, b"\0")

    @classmethod
    def from_uri(cls, entry: OtpAuthURI) -> CredentialData:
        """Convert parsed URI fields (:class:`pyotp_hw.uri.OtpAuthURI`)."""
        if entry.is_steam:
            raise InvalidCredential(
                "Steam Guard accounts cannot be stored on an OATH token: their 5-character "
                "codes are not decimal OATH codes"
            )
        return cls(
            account=entry.account,
            secret=entry.secret,
            issuer=entry.issuer,
            oath_type=check_kind(entry.kind, "type", InvalidCredential),
            digest=_digest(entry.digest),
            digits=entry.digits,
            period=entry.period,
            counter=(entry.counter or 0) if entry.kind == "hotp" else 0,
        )

    @classmethod
    def from_otp(cls, otp: HOTP | TOTP) -> CredentialData:
        """Convert an :class:`~pyotp_hw.HOTP` or :class:`~pyotp_hw.TOTP` object (with a name)."""
        from ..otp import HOTP, Steam

        if isinstance(otp, Steam):
            raise InvalidCredential(
                "Steam Guard accounts cannot be stored on an OATH token: their 5-character "
                "codes are not decimal OATH codes"
            )
        if otp.name is None:
            raise InvalidCredential("the OTP object has no name: give it one (name=...) first")
        if isinstance(otp, HOTP):
            return cls(otp.name, otp.byte_secret(), otp.issuer, "hotp", _digest(otp.digest),
                       otp.digits, counter=otp.initial_count)
        if otp.t0:
            raise InvalidCredential("tokens compute TOTP from t0 = 0 only")
        return cls(otp.name, otp.byte_secret(), otp.issuer, "totp", _digest(otp.digest),
                   otp.digits, period=otp.interval)

    @classmethod
    def from_any(cls, value: object) -> CredentialData:
        """Accept a CredentialData, an ``otpauth://`` URI (str or parsed) or an HOTP/TOTP object."""
        from .. import uri as urimod
        from ..otp import HOTP, TOTP

        if isinstance(value, CredentialData):
            return value
        if isinstance(value, str):
            return cls.from_uri(urimod.parse(value))
        if isinstance(value, urimod.OtpAuthURI):
            return cls.from_uri(value)
        if isinstance(value, (HOTP, TOTP)):
            return cls.from_otp(value)
        raise InvalidCredential(
            "a credential must be an otpauth:// URI, an OtpAuthURI, an HOTP/TOTP object or "
            f"CredentialData, not {type(value).__name__}"
        )


@dataclass(frozen=True)
class SelectAnswer:
    """The applet's answer to SELECT.

    ``salt`` (tag 71) keys the YKOATH password and names the device; ``challenge`` (74) is
    present when a password protects a YubiKey. A Nitrokey 3 sends its ``serial`` (8F) and,
    when a PIN is set, the ``pin_retries`` left (82), but no challenge.
    """

    version: tuple[int, ...]
    salt: bytes | None = field(default=None, repr=False)
    challenge: bytes | None = field(default=None, repr=False)
    serial: int | None = None
    pin_retries: int | None = None

    @classmethod
    def parse(cls, data: bytes) -> SelectAnswer:
        """Decode the SELECT response data; raise ProtocolError when it is malformed."""
        fields = tlv.parse_dict(data)
        version = fields.get(TAG.VERSION)
        if version is None or not 1 <= len(version) <= 4:
            raise ProtocolError("the OATH applet did not state its version")
        challenge = fields.get(TAG.CHALLENGE)
        if challenge is not None and len(challenge) != CHALLENGE_LENGTH:
            raise ProtocolError("the OATH applet sent a challenge of the wrong length")
        serial = fields.get(TAG.SERIAL)
        counter = fields.get(TAG.PIN_COUNTER)
        if counter is not None and len(counter) != 1:
            raise ProtocolError("the OATH applet sent a malformed PIN counter")
        return cls(
            version=tuple(version),
            salt=fields.get(TAG.NAME),
            challenge=challenge,
            serial=int.from_bytes(serial, "big") if serial else None,
            pin_retries=counter[0] if counter else None,
        )

    @property
    def device_id(self) -> str:
        """The id clients show: a Nitrokey's serial, else derived from the salt (new on reset)."""
        if self.serial is not None:  # stable, and its salt may be hidden
            return f"{self.serial:08X}"
        if self.salt:
            digest = hashlib.sha256(self.salt).digest()[:16]
            return base64.b64encode(digest).decode("ascii").rstrip("=")
        return ""


@dataclass(frozen=True)
class TokenInfo:
    """What SELECT says about the applet.

    ``device_id`` is derived from the applet's salt as YubiKey clients show it (it changes on
    reset), or is the serial of a Nitrokey 3; ``password_set`` is
    True when an access password (or, on a Nitrokey 3, a PIN) protects the token; ``locked``
    while this session has not yet given it.
    """

    version: tuple[int, ...]
    device_id: str
    password_set: bool
    locked: bool
    uses_pin: bool = False
    serial: int | None = None
    pin_retries: int | None = None
    reader: str | None = None

    @property
    def version_text(self) -> str:
        """The version as ``"5.7.0"``."""
        return ".".join(str(v) for v in self.version)

    def to_dict(self) -> dict[str, JsonScalar]:
        """Return the fields as JSON-ready values."""
        return {
            "reader": self.reader,
            "version": self.version_text,
            "device_id": self.device_id,
            "password_set": self.password_set,
            "locked": self.locked,
            "uses_pin": self.uses_pin,
            "serial": self.serial,
            "pin_retries": self.pin_retries,
        }
