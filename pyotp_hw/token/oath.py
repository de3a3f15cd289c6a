"""The client side of the YKOATH protocol: one session with a token's OATH applet.

:class:`OathSession` speaks to any :class:`~pyotp_hw.token.connection.Connection` (a PC/SC
reader, the in-process virtual card), so the same code runs against a YubiKey, a Nitrokey 3, a
Java card with an OATH applet or the project's virtual token. Codes come from the token: the
session asks for the 4-byte dynamic truncation that the token computes and reduces it to
``digits`` decimal digits, as the protocol defines. Every refusal of the token becomes a typed
error from :mod:`pyotp_hw.token.errors` with a message a user understands.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import tlv
from .apdu import SW, sw_text
from .connection import ApduChannel, Connection
from .errors import (
    AmbiguousCredential,
    AuthenticationRequired,
    CommandRejected,
    CredentialExists,
    InvalidCredential,
    NoOathApplet,
    NoPasswordSet,
    NoSuchCredential,
    NotSupportedByToken,
    PasswordBlocked,
    ProtocolError,
    TokenAuthenticityError,
    TokenFull,
    TokenMemoryError,
    TokenStatusError,
    TouchTimeout,
    WrongPassword,
)
from .ykoath import (
    AID,
    ALGORITHM_NAMES,
    ALGORITHMS,
    CHALLENGE_LENGTH,
    DEFAULT_PERIOD,
    DIGEST_BLOCK_SIZE,
    INS,
    INS_SELECT,
    MAX_ID_LENGTH,
    MAX_KEY_LENGTH,
    MIN_KEY_LENGTH,
    OATH_HOTP,
    OATH_TOTP,
    PROP_TOUCH,
    TAG,
    format_id,
    parse_id,
)

if TYPE_CHECKING:
    from ..otp import HOTP, TOTP, Steam
    from ..uri import OtpAuthURI

__all__ = [
    "Credential",
    "CredentialData",
    "Code",
    "TokenInfo",
    "OathSession",
    "derive_key",
    "MIN_DIGITS",
    "MAX_DIGITS",
]

MIN_DIGITS, MAX_DIGITS = 6, 8
_TYPE_NAMES = {OATH_HOTP: "hotp", OATH_TOTP: "totp", 0x30: "reverse-hotp", 0x40: "hmac"}
_PBKDF2_ITERATIONS = 1000
# Statuses by which a card says "I have no CALCULATE ALL": ask credentials one by one instead.
_NO_CALCULATE_ALL = {
    SW.INS_NOT_SUPPORTED,
    SW.CONDITIONS_NOT_SATISFIED,
    SW.CLA_NOT_SUPPORTED,
    SW.WRONG_P1P2,
}
# The latest time a code is computed for: the largest signed 64-bit Unix time, as in the core.
_MAX_TIME = 2**63 - 1
# How long a calculation may take before the session assumes the token waits for a touch.
TOUCH_PROMPT_DELAY = 0.4


def derive_key(password: str, salt: bytes) -> bytes:
    """Return the 16-byte OATH access key: PBKDF2-HMAC-SHA1(password, salt, 1000)."""
    return hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), salt, _PBKDF2_ITERATIONS, 16)


def _hmac_sha1(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha1).digest()


@dataclass(frozen=True, eq=False)
class Credential:
    """A credential as the token describes it.

    Equality and hashing use the raw credential id only, so the same credential read by
    :meth:`OathSession.list` and by :meth:`OathSession.calculate_all` compares equal. Fields an
    exchange did not reveal are None: LIST gives the digest but not the digits or the touch
    policy; CALCULATE ALL gives the digits and the touch policy but not the digest.
    """

    raw_id: bytes = field(repr=False)
    name: str
    issuer: str | None
    oath_type: str
    period: int | None
    digest: str | None = None
    digits: int | None = None
    touch: bool | None = None

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
        return self.raw_id == other.raw_id

    def __hash__(self) -> int:
        return hash(self.raw_id)

    def to_dict(self) -> dict[str, Any]:
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

    @classmethod
    def _from_id(
        cls, raw_id: bytes, oath_type: str, **fields: Any
    ) -> Credential:
        text = raw_id.decode("utf-8", errors="replace")
        issuer, name, period = parse_id(text, totp=oath_type == "totp")
        return cls(
            raw_id,
            name,
            issuer,
            oath_type,
            period if oath_type == "totp" else None,
            **fields,
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

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-ready values."""
        return {"code": self.value, "valid_from": self.valid_from, "valid_to": self.valid_to}


@dataclass(frozen=True)
class CredentialData:
    """A credential to store on a token, checked against what tokens accept.

    Build it directly, or from an ``otpauth://`` URI or an OTP object with :meth:`from_any`.
    """

    account: str
    secret: bytes = field(repr=False)
    issuer: str | None = None
    oath_type: str = "totp"
    digest: str = "sha1"
    digits: int = 6
    period: int = DEFAULT_PERIOD
    counter: int = 0

    def __post_init__(self) -> None:
        if self.oath_type not in ("totp", "hotp"):
            raise InvalidCredential(f"type must be 'totp' or 'hotp', not {self.oath_type!r}")
        if self.digest not in ALGORITHMS:
            raise InvalidCredential(
                f"digest must be one of {', '.join(ALGORITHMS)}, not {self.digest!r}"
            )
        if not isinstance(self.digits, int) or not MIN_DIGITS <= self.digits <= MAX_DIGITS:
            raise InvalidCredential(
                f"tokens store codes of {MIN_DIGITS} to {MAX_DIGITS} digits, not {self.digits}"
            )
        if self.oath_type == "totp" and not (
            isinstance(self.period, int) and 0 < self.period < 2**32
        ):
            raise InvalidCredential(
                f"period must be a positive number of seconds, not {self.period}"
            )
        if not isinstance(self.counter, int) or not 0 <= self.counter < 2**32:
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
            oath_type=entry.kind,
            digest=entry.digest,
            digits=entry.digits,
            period=entry.period,
            counter=(entry.counter or 0) if entry.kind == "hotp" else 0,
        )

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
            if getattr(value, "t0", 0):
                raise InvalidCredential("tokens compute TOTP from t0 = 0 only")
            return cls.from_uri(urimod.from_otp(value))
        raise InvalidCredential(
            "a credential must be an otpauth:// URI, an OtpAuthURI, an HOTP/TOTP object or "
            f"CredentialData, not {type(value).__name__}"
        )


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

    def to_dict(self) -> dict[str, Any]:
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


def _timestamp(for_time: Any) -> int:
    """Unix seconds from None (now), an int, a float or an aware datetime, within 0..2**63-1.

    Errors are :class:`InvalidCredential` (an :class:`~pyotp_hw.errors.InvalidArgument`), as
    they always were here.
    """
    if for_time is None:
        return int(time.time())
    if isinstance(for_time, datetime):
        if for_time.tzinfo is None or for_time.utcoffset() is None:
            raise InvalidCredential(
                "for_time must be an aware datetime (a naive one has no zone)"
            )
        seconds: float | int = for_time.timestamp()
    elif isinstance(for_time, bool) or not isinstance(for_time, (int, float)):
        raise InvalidCredential(
            f"for_time must be Unix seconds or an aware datetime, not {type(for_time).__name__}"
        )
    else:
        seconds = for_time
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise InvalidCredential("for_time must be a finite number of seconds")
    if seconds < 0:
        raise InvalidCredential("for_time must not be negative")
    if seconds > _MAX_TIME:
        raise InvalidCredential(f"for_time must be at most {_MAX_TIME} (Unix seconds)")
    return math.floor(seconds)


def _code_from_truncated(value: bytes) -> tuple[int, str]:
    """Decode a ``[digits][4 bytes]`` truncated response into ``(digits, code)``."""
    if len(value) != 5:
        raise ProtocolError(f"a truncated response must have 5 bytes, not {len(value)}")
    digits = value[0]
    if not 1 <= digits <= 10:
        raise ProtocolError(f"the token announced codes of {digits} digits")
    number = (int.from_bytes(value[1:5], "big") & 0x7FFFFFFF) % 10**digits
    return digits, str(number).zfill(digits)


class OathSession:
    """A session with a token's OATH applet over a :class:`Connection`.

    Opening the session selects the applet (raising :class:`NoOathApplet` when the card has
    none). ``on_touch`` is called with the credential when the token waits for a touch: at once
    when the token said so, otherwise after a short delay without an answer. Use it as a
    context manager, or call :meth:`close`, to release the card.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        on_touch: Callable[[Credential], None] | None = None,
        reader: str | None = None,
        touch_prompt_delay: float = TOUCH_PROMPT_DELAY,
    ) -> None:
        self.connection = connection
        self.on_touch = on_touch
        self.reader = reader
        self.touch_prompt_delay = touch_prompt_delay
        self._channel = ApduChannel(connection)
        self._failures = 0
        self._select()

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> OathSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection."""
        self.connection.close()

    def _select(self) -> None:
        data, sw = self._channel.send(INS_SELECT, 0x04, 0x00, AID)
        if sw in (SW.FILE_NOT_FOUND, SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED, SW.WRONG_P1P2):
            where = f" in reader {self.reader!r}" if self.reader else ""
            raise NoOathApplet(f"the card{where} has no OATH applet")
        if sw != SW.OK:
            raise ProtocolError(f"selecting the OATH applet failed: {sw_text(sw)}")
        fields = tlv.parse_dict(data)
        version_bytes = fields.get(TAG.VERSION)
        if version_bytes is None or not 1 <= len(version_bytes) <= 4:
            raise ProtocolError("the OATH applet did not state its version")
        self._version = tuple(version_bytes)
        self._salt = fields.get(TAG.NAME)
        self._challenge = fields.get(TAG.CHALLENGE)
        if self._challenge is not None and len(self._challenge) != CHALLENGE_LENGTH:
            raise ProtocolError("the OATH applet sent a challenge of the wrong length")
        serial_bytes = fields.get(TAG.SERIAL)
        self._serial = int.from_bytes(serial_bytes, "big") if serial_bytes else None
        counter = fields.get(TAG.PIN_COUNTER)
        if counter is not None and len(counter) != 1:
            raise ProtocolError("the OATH applet sent a malformed PIN counter")
        self._pin_retries = counter[0] if counter else None
        # A Nitrokey 3 announces itself with its serial; its password is a PIN.
        self._uses_pin = self._serial is not None or self._pin_retries is not None
        if self._uses_pin:
            self._password_set = self._pin_retries is not None
        else:
            self._password_set = self._challenge is not None
        self._locked = self._password_set

    @property
    def info(self) -> TokenInfo:
        """Version, device id and password state, as of the last SELECT."""
        if self._serial is not None:  # a Nitrokey 3: its serial is stable, its salt may be hidden
            device_id = f"{self._serial:08X}"
        elif self._salt:
            digest = hashlib.sha256(self._salt).digest()[:16]
            device_id = base64.b64encode(digest).decode("ascii").rstrip("=")
        else:
            device_id = ""
        return TokenInfo(
            version=self._version,
            device_id=device_id,
            password_set=self._password_set,
            locked=self._locked,
            uses_pin=self._uses_pin,
            serial=self._serial,
            pin_retries=self._pin_retries,
            reader=self.reader,
        )

    # --- status words -------------------------------------------------------------------------

    def _raise_for(self, sw: int, what: str) -> None:
        """Raise the typed error for a status that the calling command did not expect."""
        if sw == SW.SECURITY_NOT_SATISFIED:
            if self._locked or self._password_set:
                raise AuthenticationRequired(
                    "the token is locked: give its password to unlock it", sw
                )
            raise AuthenticationRequired(f"the token refused to {what} (not authorised)", sw)
        if sw == SW.MEMORY_FAILURE:
            raise TokenMemoryError(
                f"the token reported a memory failure while trying to {what}", sw
            )
        if sw in (SW.NO_SPACE,):
            raise TokenFull("the token is full: delete an account to make room", sw)
        if sw in (SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED):
            raise NotSupportedByToken(f"this token cannot {what}", sw)
        if sw == SW.WRONG_DATA:
            raise CommandRejected(
                f"the token rejected the request to {what} (a value it does not support)", sw
            )
        raise TokenStatusError(f"the token answered {sw_text(sw)} when asked to {what}", sw)

    def _send(
        self,
        ins: int,
        data: bytes = b"",
        *,
        p1: int = 0,
        p2: int = 0,
        what: str,
        expect: Mapping[SW, Callable[[int], Exception]] | None = None,
    ) -> bytes:
        response, sw = self._channel.send(ins, p1, p2, data)
        if sw == SW.OK:
            return response
        for status, make_error in (expect or {}).items():
            if status == sw:
                raise make_error(sw)
        self._raise_for(sw, what)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- reading ------------------------------------------------------------------------------

    def list(self) -> list[Credential]:
        """Return every credential on the token (name, issuer, type, digest, period)."""
        data = self._send(INS.LIST, what="list its accounts")
        creds = []
        for item in tlv.parse(data):
            if item.tag != TAG.NAME_LIST:
                raise ProtocolError(f"unexpected TLV 0x{item.tag:02X} in the account list")
            if len(item.value) < 2:
                raise ProtocolError("an entry of the account list is too short")
            kind = item.value[0]
            oath_type = _TYPE_NAMES.get(kind & 0xF0, f"type-0x{kind & 0xF0:02X}")
            creds.append(
                Credential._from_id(
                    bytes(item.value[1:]), oath_type, digest=ALGORITHM_NAMES.get(kind & 0x0F)
                )
            )
        return creds

    def find(self, name: str | Credential, *, fuzzy: bool = False) -> Credential:
        """Return the credential called ``name``.

        ``name`` may be the full id (``60/Issuer:account``), the label (``Issuer:account``) or
        the account alone when that is unambiguous; with ``fuzzy``, also a unique
        case-insensitive part of the id.
        """
        if isinstance(name, Credential):
            return name
        if not isinstance(name, str):
            raise InvalidCredential(f"an account name must be a str, not {type(name).__name__}")
        creds = self.list()
        lowered = name.lower()
        rules: list[Callable[[Credential], bool]] = [
            lambda c: c.id == name,
            lambda c: c.label == name,
            lambda c: c.name == name,
            lambda c: c.label.lower() == lowered,
        ]
        if fuzzy:
            rules.append(lambda c: lowered in c.id.lower())
        for rule in rules:
            matches = [c for c in creds if rule(c)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise AmbiguousCredential(name, [c.id for c in matches])
        raise NoSuchCredential(f"no such account on the token: {name!r}")

    def _with_touch_prompt(self, credential: Credential, action: Callable[[], bytes]) -> bytes:
        callback = self.on_touch
        if callback is None or credential.touch is False:
            return action()
        if credential.touch:
            callback(credential)
            return action()
        timer = threading.Timer(self.touch_prompt_delay, callback, args=(credential,))
        timer.daemon = True
        timer.start()
        try:
            return action()
        finally:
            timer.cancel()

    def calculate(self, name: str | Credential, for_time: Any = None) -> Code:
        """Return the token's current code for one credential.

        For TOTP ``for_time`` (Unix seconds or an aware datetime; now by default) picks the time
        step. For HOTP the token uses and advances its own counter. A credential that requires a
        touch waits for it (``on_touch`` is told) and raises :class:`TouchTimeout` without one.
        """
        credential = self.find(name, fuzzy=True)
        return self._calculate(credential, _timestamp(for_time))

    def _calculate(self, credential: Credential, now: int) -> Code:
        if credential.oath_type == "totp":
            period = credential.period or DEFAULT_PERIOD
            step = now // period
            challenge = step.to_bytes(CHALLENGE_LENGTH, "big")
            valid_from, valid_to = step * period, (step + 1) * period
        elif credential.oath_type == "hotp":
            challenge = b""
            valid_from, valid_to = now, None
        else:
            raise NotSupportedByToken(
                f"{credential.id!r} is a {credential.oath_type} credential, which has no OTP code"
            )
        body = tlv.encode(TAG.NAME, credential.raw_id) + tlv.encode(TAG.CHALLENGE, challenge)

        def touch_or_locked(sw: int) -> Exception:
            if self._locked:
                return AuthenticationRequired(
                    "the token is locked: give its password to unlock it", sw
                )
            return TouchTimeout(
                f"{credential.label!r} needs a touch of the token and none came in time: "
                "touch the token when it blinks",
                sw,
            )

        def missing(sw: int) -> Exception:
            return NoSuchCredential(f"no such account on the token: {credential.id!r}", sw)

        response = self._with_touch_prompt(
            credential,
            lambda: self._send(
                INS.CALCULATE,
                body,
                p2=0x01,
                what=f"compute a code for {credential.label!r}",
                expect={
                    SW.SECURITY_NOT_SATISFIED: touch_or_locked,
                    SW.NO_SUCH_OBJECT: missing,
                    SW.FILE_NOT_FOUND: missing,
                },
            ),
        )
        _, value = _code_from_truncated(tlv.only(response, TAG.TRUNCATED))
        return Code(value, valid_from, valid_to)

    def calculate_all(self, for_time: Any = None) -> dict[Credential, Code | None]:
        """Return the current code of every TOTP credential that needs no touch.

        One CALCULATE ALL exchange (plus its SEND REMAINING parts) serves every 30-second TOTP
        credential; credentials with another period are asked one by one. HOTP credentials and
        those requiring a touch map to None (computing them would advance the counter or wait
        for the user: use :meth:`calculate`). Tokens without CALCULATE ALL (a Nitrokey 3 by
        default) are served by LIST and one CALCULATE per TOTP credential.
        """
        now = _timestamp(for_time)
        challenge = (now // DEFAULT_PERIOD).to_bytes(CHALLENGE_LENGTH, "big")
        response, sw = self._channel.send(
            INS.CALCULATE_ALL, 0x00, 0x01, tlv.encode(TAG.CHALLENGE, challenge)
        )
        if sw in _NO_CALCULATE_ALL:
            return self._calculate_each(now)
        if sw != SW.OK:
            self._raise_for(sw, "compute its codes")
        items = tlv.parse(response)
        if len(items) % 2:
            raise ProtocolError("the token's list of codes ends in the middle of an entry")
        result: dict[Credential, Code | None] = {}
        for name_item, answer in zip(items[0::2], items[1::2], strict=True):
            if name_item.tag != TAG.NAME:
                raise ProtocolError(
                    "expected an account name (0x71) in the list of codes, "
                    f"got 0x{name_item.tag:02X}"
                )
            result.update(self._calculate_all_entry(name_item.value, answer, now))
        return result

    def _calculate_all_entry(
        self, raw_id: bytes, answer: tlv.Tlv, now: int
    ) -> dict[Credential, Code | None]:
        if answer.tag == TAG.TRUNCATED:
            digits, value = _code_from_truncated(answer.value)
            credential = Credential._from_id(raw_id, "totp", digits=digits, touch=False)
            if credential.period == DEFAULT_PERIOD:
                step = now // DEFAULT_PERIOD
                return {credential: Code(value, step * DEFAULT_PERIOD, (step + 1) * DEFAULT_PERIOD)}
            # The answer used a 30-second step; ask again with the credential's own period.
            return {credential: self._calculate(credential, now)}
        shown = answer.value[0] if len(answer.value) >= 1 else None
        if answer.tag == TAG.HOTP:
            return {Credential._from_id(raw_id, "hotp", digits=shown, touch=False): None}
        if answer.tag == TAG.TOUCH:
            return {Credential._from_id(raw_id, "totp", digits=shown, touch=True): None}
        raise ProtocolError(f"unexpected TLV 0x{answer.tag:02X} in the list of codes")

    def _calculate_each(self, now: int) -> dict[Credential, Code | None]:
        result: dict[Credential, Code | None] = {}
        for credential in self.list():
            if credential.oath_type != "totp":
                result[credential] = None
                continue
            try:
                result[credential] = self._calculate(credential, now)
            except TouchTimeout:
                result[credential] = None
        return result

    # --- writing ------------------------------------------------------------------------------

    def put(
        self,
        credential: str | OtpAuthURI | HOTP | TOTP | Steam | CredentialData,
        *,
        touch: bool = False,
        overwrite: bool = False,
    ) -> Credential:
        """Store a credential on the token and return how the token lists it.

        ``credential`` is an ``otpauth://`` URI, parsed URI fields, an HOTP/TOTP object or a
        :class:`CredentialData`. An existing credential with the same name is replaced only
        with ``overwrite``; otherwise :class:`CredentialExists` is raised and nothing changes.
        """
        data = CredentialData.from_any(credential)
        if not overwrite and any(c.raw_id == data.raw_id for c in self.list()):
            raise CredentialExists(
                f"an account named {data.id!r} is already on the token "
                "(delete it first, or ask to overwrite it)"
            )
        kind = OATH_TOTP if data.oath_type == "totp" else OATH_HOTP
        body = tlv.encode(TAG.NAME, data.raw_id) + tlv.encode(
            TAG.KEY, bytes([kind | ALGORITHMS[data.digest], data.digits]) + data.token_key()
        )
        if touch:
            body += bytes([TAG.PROPERTY, PROP_TOUCH])  # a bare tag and byte, as tokens expect
        if data.oath_type == "hotp" and data.counter:
            body += tlv.encode(TAG.IMF, data.counter.to_bytes(4, "big"))

        def exists(sw: int) -> Exception:
            return CredentialExists(f"an account named {data.id!r} is already on the token", sw)

        def full(sw: int) -> Exception:
            return TokenFull("the token is full: delete an account to make room", sw)

        what = f"store {data.id!r}"
        expect = {
            SW.AUTH_METHOD_BLOCKED: exists,
            SW.NO_SPACE: full,
            SW.UNKNOWN_ERROR: full,  # some YubiKey NEOs say 6F00 when full
        }
        try:
            self._send(INS.PUT, body, what=what, expect=expect)
        except CredentialExists:
            if not overwrite:
                raise
            # A Nitrokey 3 refuses to overwrite (6983): replace in two steps.
            self._send(INS.DELETE, tlv.encode(TAG.NAME, data.raw_id), what=what)
            self._send(INS.PUT, body, what=what, expect=expect)
        return Credential._from_id(
            data.raw_id,
            data.oath_type,
            digest=data.digest,
            digits=data.digits,
            touch=touch,
        )

    def delete(self, name: str | Credential) -> Credential:
        """Delete one credential (by full id, label, or unambiguous account) and return it."""
        credential = self.find(name)

        def missing(sw: int) -> Exception:
            return NoSuchCredential(f"no such account on the token: {credential.id!r}", sw)

        self._send(
            INS.DELETE,
            tlv.encode(TAG.NAME, credential.raw_id),
            what=f"delete {credential.id!r}",
            expect={SW.NO_SUCH_OBJECT: missing, SW.FILE_NOT_FOUND: missing},
        )
        return credential

    def rename(self, old: str | Credential, new: str) -> Credential:
        """Rename a credential to ``new`` (``issuer:account`` or ``account``); keeps its period."""
        credential = self.find(old)
        head, sep, tail = new.partition(":")
        issuer, account = (head or None, tail) if sep else (None, new)
        if not account:
            raise InvalidCredential("the new account name is empty")
        is_totp = credential.oath_type == "totp"
        new_id = format_id(
            account, issuer, totp=is_totp, period=credential.period or DEFAULT_PERIOD
        ).encode("utf-8")
        if len(new_id) > MAX_ID_LENGTH:
            raise InvalidCredential(
                f"the new name takes {len(new_id)} bytes; tokens allow at most {MAX_ID_LENGTH}"
            )
        if new_id == credential.raw_id:
            return credential
        if any(c.raw_id == new_id for c in self.list()):
            raise CredentialExists(f"an account named {new_id.decode()!r} is already on the token")

        def unsupported(sw: int) -> Exception:
            return NotSupportedByToken(
                "this token cannot rename accounts (it has no RENAME command: Nitrokey 3, "
                "YubiKey before firmware 5.3)",
                sw,
            )

        def missing(sw: int) -> Exception:
            return NoSuchCredential(f"no such account on the token: {credential.id!r}", sw)

        self._send(
            INS.RENAME,
            tlv.encode(TAG.NAME, credential.raw_id) + tlv.encode(TAG.NAME, new_id),
            what=f"rename {credential.id!r}",
            expect={
                SW.INS_NOT_SUPPORTED: unsupported,
                SW.NO_SUCH_OBJECT: missing,
                SW.FILE_NOT_FOUND: missing,
            },
        )
        return Credential._from_id(
            new_id, credential.oath_type, digest=credential.digest, digits=credential.digits,
            touch=credential.touch,
        )

    def reset(self) -> None:
        """Erase every credential and the password; the token gets a new device id."""
        self._send(INS.RESET, p1=0xDE, p2=0xAD, what="reset")
        self._select()

    # --- password -----------------------------------------------------------------------------

    def _backoff(self) -> None:
        # Tokens do not count wrong passwords: the host slows down repeated guesses.
        if self._failures:
            time.sleep(min(0.5 * 2 ** (self._failures - 1), 8.0))

    def unlock(self, password: str) -> None:
        """Unlock the token with its password (or PIN) and check the token's proof of it.

        Raises :class:`WrongPassword`, :class:`NoPasswordSet`, or
        :class:`TokenAuthenticityError` when the token's answer to our own challenge is wrong.
        """
        if not isinstance(password, str):
            raise InvalidCredential("the password must be a str")
        if not self._locked:
            if not self._password_set:
                raise NoPasswordSet("the token has no password set")
            return
        self._backoff()
        if self._uses_pin:
            self._verify_pin(password)
        else:
            self._validate(password)
        self._failures = 0
        self._locked = False

    def _validate(self, password: str) -> None:
        if self._salt is None or self._challenge is None:
            raise ProtocolError("the token asks for a password but sent no salt or challenge")
        key = derive_key(password, self._salt)
        host_challenge = os.urandom(CHALLENGE_LENGTH)
        body = tlv.encode(TAG.RESPONSE, _hmac_sha1(key, self._challenge)) + tlv.encode(
            TAG.CHALLENGE, host_challenge
        )

        def wrong(sw: int) -> Exception:
            self._failures += 1
            return WrongPassword("wrong password", sw)

        def none_set(sw: int) -> Exception:
            return NoPasswordSet("the token has no password set", sw)

        response = self._send(
            INS.VALIDATE,
            body,
            what="check the password",
            expect={SW.WRONG_DATA: wrong, SW.NO_SUCH_OBJECT: none_set},
        )
        try:
            proof = tlv.first(tlv.parse(response), TAG.RESPONSE)
        except ProtocolError:
            proof = None
        expected = _hmac_sha1(key, host_challenge)
        if proof is None or not hmac.compare_digest(proof, expected):
            raise TokenAuthenticityError(
                "the token accepted the password but could not prove it knows it: it is not "
                "the token that password belongs to (impostor or faulty card); nothing it "
                "says is trusted"
            )
        self._challenge = None

    def _pin_error(self, sw: int) -> Exception:
        if sw & 0xFFF0 == SW.VERIFY_FAILED:
            self._failures += 1
            left = sw & 0x0F
            return WrongPassword(f"wrong PIN ({left} tries left)", sw, retries=left)
        if sw == SW.AUTH_METHOD_BLOCKED:
            return PasswordBlocked(
                "the token's PIN is blocked after too many wrong tries: only a reset helps", sw
            )
        if sw == SW.WRONG_DATA:
            return CommandRejected("the token rejected this PIN (too short or too long?)", sw)
        return TokenStatusError(f"the token answered {sw_text(sw)} to a PIN command", sw)

    def _pin_command(self, ins: int, body: bytes, what: str) -> None:
        _, sw = self._channel.send(ins, 0, 0, body)
        if sw == SW.OK:
            return
        if sw & 0xFFF0 == SW.VERIFY_FAILED or sw in (SW.AUTH_METHOD_BLOCKED, SW.WRONG_DATA):
            raise self._pin_error(sw)
        self._raise_for(sw, what)

    def _verify_pin(self, pin: str) -> None:
        self._pin_command(INS.VERIFY_PIN, tlv.encode(TAG.PIN, pin.encode("utf-8")), "check the PIN")

    def set_password(self, password: str, *, current: str | None = None) -> None:
        """Set (or change) the token's password; ``current`` unlocks it first when needed.

        On a Nitrokey 3 this sets or changes its PIN (changing needs ``current``).
        """
        if not isinstance(password, str) or not password:
            raise InvalidCredential("the new password must be a non-empty str")
        if self._uses_pin:
            self._set_pin(password, current)
            return
        if self._locked:
            if current is None:
                raise AuthenticationRequired("the token is locked: give its current password")
            self.unlock(current)
        if self._salt is None:
            raise ProtocolError("the token sent no salt to derive a password key from")
        key = derive_key(password, self._salt)
        challenge = os.urandom(CHALLENGE_LENGTH)
        body = (
            tlv.encode(TAG.KEY, bytes([OATH_TOTP | ALGORITHMS["sha1"]]) + key)
            + tlv.encode(TAG.CHALLENGE, challenge)
            + tlv.encode(TAG.RESPONSE, _hmac_sha1(key, challenge))
        )
        _, sw = self._channel.send(INS.SET_CODE, 0, 0, body)
        if sw == SW.CONDITIONS_NOT_SATISFIED:
            # No SET CODE here: a Nitrokey 3 that did not announce itself. Use its PIN.
            self._uses_pin = True
            self._set_pin(password, current)
            return
        if sw == SW.NO_SUCH_OBJECT:
            raise ProtocolError("the token did not accept the proof of the new password", sw)
        if sw != SW.OK:
            self._raise_for(sw, "set a password")
        self._password_set = True
        self._locked = False
        if self._version < (3, 0, 0):
            # Old applets forget the session's authentication when the code changes.
            self._select()
            self.unlock(password)

    def _set_pin(self, pin: str, current: str | None) -> None:
        encoded = pin.encode("utf-8")
        if not self._password_set:
            self._pin_command(INS.SET_PIN, tlv.encode(TAG.PIN, encoded), "set a PIN")
        else:
            if current is None:
                raise AuthenticationRequired("changing the token's PIN needs the current PIN")
            self._backoff()
            self._pin_command(
                INS.CHANGE_PIN,
                tlv.encode(TAG.PIN, current.encode("utf-8")) + tlv.encode(TAG.NEW_PIN, encoded),
                "change the PIN",
            )
            self._failures = 0
        self._select()
        self._verify_pin(pin)
        self._locked = False

    def clear_password(self, *, current: str | None = None) -> None:
        """Remove the token's password (``current`` unlocks it first when needed)."""
        if self._uses_pin:
            raise NotSupportedByToken(
                "this token cannot remove its PIN; a reset removes it together with every account"
            )
        if not self._password_set:
            raise NoPasswordSet("the token has no password set")
        if self._locked:
            if current is None:
                raise AuthenticationRequired("the token is locked: give its current password")
            self.unlock(current)
        self._send(INS.SET_CODE, tlv.encode(TAG.KEY, b""), what="remove the password")
        self._password_set = False
        self._locked = False
