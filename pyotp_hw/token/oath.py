"""The client side of the YKOATH protocol: one session with a token's OATH applet.

:class:`OathSession` speaks to any :class:`~pyotp_hw.token.connection.Connection` (a PC/SC
reader, the in-process virtual card), so the same code runs against a YubiKey, a Nitrokey 3, a
Java card with an OATH applet or the project's virtual token. It keeps to about one method per
command: names are exact (the command line does the searching and the touch prompts), status
words become typed errors through one table (:mod:`.status`), and the password scheme is the
strategy SELECT called for (:mod:`.access`). Codes come from the token: the session asks for the
4-byte dynamic truncation the token computes and reduces it to ``digits`` decimal digits.

Every command and answer is logged at DEBUG level on the ``pyotp_hw.token`` logger: its name,
INS, P1/P2, data length and status word, never its data (keys, password proofs, PINs).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

from .._time import floor_seconds
from ..errors import InvalidArgument, InvalidType
from . import tlv
from .access import AccessScheme, PasswordAccess, choose_access
from .apdu import SW
from .connection import ApduChannel, Connection
from .errors import (
    AmbiguousCredential,
    CredentialExists,
    ForeignCredential,
    InvalidCredential,
    NoPasswordSet,
    NoSuchCredential,
    NotSupportedByToken,
    ProtocolError,
    TouchTimeout,
    WrongPassword,
)
from .model import Code, Credential, CredentialData, SelectAnswer, TokenInfo, credential_from_id
from .status import MISSING_COMMAND, error_for
from .ykoath import (
    AID,
    ALGORITHM_NAMES,
    ALGORITHMS,
    CHALLENGE_LENGTH,
    DEFAULT_PERIOD,
    MAX_ID_LENGTH,
    OATH_HOTP,
    OATH_TOTP,
    PROP_TOUCH,
    TAG,
    TYPE_NAMES,
    Op,
    format_id,
)

if TYPE_CHECKING:
    from ..otp import HOTP, TOTP, Steam
    from ..uri import OtpAuthURI

__all__ = ["OathSession", "TimeLike"]

_log = logging.getLogger("pyotp_hw.token")

#: What a code's time may be given as: Unix seconds, an aware datetime, or None for now.
TimeLike = float | datetime | None
# The latest time a code is computed for: the largest signed 64-bit Unix time, as in the core.


def _timestamp(for_time: object) -> int:
    """Unix seconds from None (now), an int, a float or an aware datetime, within 0..2**63-1."""
    if for_time is None:
        return int(time.time())
    return floor_seconds(for_time, "for_time", minimum=0)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidType(f"{what} must be a str, not {type(value).__name__}")
    return value


def _code_from_truncated(value: bytes) -> str:
    """Decode a ``[digits][4 bytes]`` truncated response into the code."""
    if len(value) != 5:
        raise ProtocolError(f"a truncated response must have 5 bytes, not {len(value)}")
    digits = value[0]
    if not 1 <= digits <= 10:
        raise ProtocolError(f"the token announced codes of {digits} digits")
    number = (int.from_bytes(value[1:5], "big") & 0x7FFFFFFF) % 10**digits
    return str(number).zfill(digits)


class OathSession:
    """A session with a token's OATH applet over a :class:`Connection`.

    Opening the session selects the applet (raising :class:`NoOathApplet` when the card has
    none). Use it as a context manager, or call :meth:`close`, to release the card. A
    credential that needs a touch makes :meth:`calculate` wait for it: to tell the user, watch
    :attr:`Credential.touch` (from :meth:`calculate_all`) or the time the call takes.
    """

    def __init__(self, connection: Connection, *, reader: str | None = None) -> None:
        self.connection = connection
        self.reader = reader
        self._channel = ApduChannel(connection)
        self._failures = 0
        self._port = _Port(self)
        self._answer: SelectAnswer
        self._access: AccessScheme
        self._select()

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> OathSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection."""
        self.connection.close()

    @property
    def info(self) -> TokenInfo:
        """Version, device id and password state, as of the last SELECT."""
        return TokenInfo(
            version=self._answer.version,
            device_id=self._answer.device_id,
            password_set=self._access.password_set,
            locked=self._access.locked,
            uses_pin=self._access.kind == "pin",
            serial=self._answer.serial,
            pin_retries=self._answer.pin_retries,
            reader=self.reader,
        )

    # --- the exchange: every command goes through here ----------------------------------------

    def _exchange(self, op: Op, data: bytes = b"", *, p2: int = 0) -> tuple[bytes, int]:
        _log.debug("send %s: INS %02X P1 %02X P2 %02X, %d bytes of data",
                   op.name, op.ins, op.p1, p2, len(data))
        response, sw = self._channel.send(op.ins, op.p1, p2, data)
        _log.debug("recv %s: SW %04X, %d bytes of data", op.name, sw, len(response))
        return response, sw

    def _send(self, op: Op, data: bytes = b"", *, what: str, p2: int = 0,
              credential: Credential | CredentialData | None = None) -> bytes:
        response, sw = self._exchange(op, data, p2=p2)
        if sw != SW.OK:
            self._raise_for(op, sw, what, credential)
        return response

    def _raise_for(self, op: Op, sw: int, what: str,
                   credential: Credential | CredentialData | None = None) -> NoReturn:
        name = label = ""
        if isinstance(credential, Credential):
            name, label = credential.id, credential.label
        elif credential is not None:
            name = label = credential.id
        raise error_for(op, sw, what=what, name=name, label=label,
                        locked=self._access.locked, protected=self._access.password_set)

    # --- SELECT -------------------------------------------------------------------------------

    def _select(self) -> None:
        data, sw = self._exchange(Op.SELECT, AID)
        if sw != SW.OK:
            where = f"the card in reader {self.reader!r}" if self.reader else "the card"
            raise error_for(Op.SELECT, sw, what=where)
        self._answer = SelectAnswer.parse(data)
        self._access = choose_access(self._answer)

    # --- names --------------------------------------------------------------------------------

    def _own(self, credential: Credential) -> Credential:
        """Refuse a credential read from another token (its name may mean another account)."""
        mine = self._answer.device_id
        if credential.device_id is not None and credential.device_id != mine:
            raise ForeignCredential(
                f"{credential.label!r} was read from another token (device id "
                f"{credential.device_id}), not this one ({mine}): look it up on this token",
                credential.device_id,
            )
        return credential

    def find(self, name: str | Credential) -> Credential:
        """Return the credential ``name`` names exactly: its full id (``60/Issuer:account``) or
        its label (``Issuer:account``, or ``account`` when it has no issuer).

        A part of a name, or another letter case, is not a name: searching is for the caller
        (``pyotp-hw token code`` searches). Raises :class:`NoSuchCredential`, or
        :class:`AmbiguousCredential` when one label is on the token with several periods.
        """
        if isinstance(name, Credential):
            return self._own(name)
        name = _text(name, "an account name")
        creds = self.list()
        for matches in ([c for c in creds if c.id == name], [c for c in creds if c.label == name]):
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise AmbiguousCredential(name, [c.id for c in matches])
        raise NoSuchCredential(f"no such account on the token: {name!r}")

    # --- LIST ---------------------------------------------------------------------------------

    def list(self) -> list[Credential]:
        """Return every credential on the token (name, issuer, type, digest, period)."""
        data = self._send(Op.LIST, what="list its accounts")
        creds = []
        for item in tlv.parse(data):
            if item.tag != TAG.NAME_LIST:
                raise ProtocolError(f"unexpected TLV 0x{item.tag:02X} in the account list")
            if len(item.value) < 2:
                raise ProtocolError("an entry of the account list is too short")
            kind = item.value[0]
            creds.append(credential_from_id(
                bytes(item.value[1:]), TYPE_NAMES.get(kind & 0xF0, "unknown"),
                self._answer.device_id, digest=ALGORITHM_NAMES.get(kind & 0x0F),
            ))
        return creds

    # --- CALCULATE ----------------------------------------------------------------------------

    def calculate(self, name: str | Credential, for_time: TimeLike = None) -> Code:
        """Return the token's current code for the credential ``name`` names exactly.

        For TOTP ``for_time`` (Unix seconds or an aware datetime; now by default) picks the time
        step. For HOTP the token uses and advances its own counter. A credential that requires a
        touch waits for it and raises :class:`TouchTimeout` when none comes.
        """
        now = _timestamp(for_time)
        return self._calculate(self.find(name), now)

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
        response = self._send(Op.CALCULATE, body, p2=0x01, credential=credential,
                              what=f"compute a code for {credential.label!r}")
        value = _code_from_truncated(tlv.only(response, TAG.TRUNCATED))
        return Code(value, valid_from, valid_to)

    def hmac(self, name: str | Credential, challenge: bytes) -> bytes:
        """The full HMAC of ``challenge`` (1-64 bytes) under the credential ``name`` names.

        A challenge-response: the token's key never leaves it, and the answer is not truncated
        to a code (the vault derives key material from it). A credential that requires a touch
        waits for one. HOTP credentials are refused (their counter would move).
        """
        if not isinstance(challenge, bytes) or not 1 <= len(challenge) <= 64:
            raise InvalidArgument("a challenge must be 1 to 64 bytes")
        credential = self.find(name)
        if credential.oath_type != "totp":
            raise NotSupportedByToken(
                f"{credential.id!r} is a {credential.oath_type} credential: challenge-response "
                "needs a TOTP-type (HMAC) credential"
            )
        body = tlv.encode(TAG.NAME, credential.raw_id) + tlv.encode(TAG.CHALLENGE, challenge)
        response = self._send(Op.CALCULATE, body, p2=0x00, credential=credential,
                              what=f"answer a challenge with {credential.label!r}")
        full = tlv.only(response, TAG.RESPONSE)
        if len(full) < 21:
            raise ProtocolError("the token's HMAC answer is too short")
        return bytes(full[1:])

    # --- CALCULATE ALL ------------------------------------------------------------------------

    def calculate_all(self, for_time: TimeLike = None) -> dict[Credential, Code | None]:
        """Return the current code of every TOTP credential that needs no touch.

        One CALCULATE ALL exchange (plus its SEND REMAINING parts) serves every 30-second TOTP
        credential; credentials with another period are asked one by one. HOTP credentials and
        those requiring a touch map to None (computing them would advance the counter or wait
        for the user: use :meth:`calculate`). Tokens without CALCULATE ALL (a Nitrokey 3 by
        default) are served by LIST and one CALCULATE per TOTP credential.
        """
        now = _timestamp(for_time)
        challenge = (now // DEFAULT_PERIOD).to_bytes(CHALLENGE_LENGTH, "big")
        response, sw = self._exchange(
            Op.CALCULATE_ALL, tlv.encode(TAG.CHALLENGE, challenge), p2=0x01
        )
        if sw in MISSING_COMMAND[Op.CALCULATE_ALL]:
            return self._calculate_each(now)
        if sw != SW.OK:
            self._raise_for(Op.CALCULATE_ALL, sw, "compute its codes")
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
            credential, code = self._calculate_all_entry(name_item.value, answer, now)
            result[credential] = code
        return result

    def _calculate_all_entry(
        self, raw_id: bytes, answer: tlv.Tlv, now: int
    ) -> tuple[Credential, Code | None]:
        device = self._answer.device_id
        if answer.tag == TAG.TRUNCATED:
            value = _code_from_truncated(answer.value)
            credential = credential_from_id(raw_id, "totp", device, digits=len(value),
                                            touch=False)
            if credential.period == DEFAULT_PERIOD:
                step = now // DEFAULT_PERIOD
                return credential, Code(value, step * DEFAULT_PERIOD, (step + 1) * DEFAULT_PERIOD)
            # The answer used a 30-second step; ask again with the credential's own period.
            return credential, self._calculate(credential, now)
        shown = answer.value[0] if len(answer.value) >= 1 else None
        if answer.tag == TAG.HOTP:
            return credential_from_id(raw_id, "hotp", device, digits=shown, touch=False), None
        if answer.tag == TAG.TOUCH:
            return credential_from_id(raw_id, "totp", device, digits=shown, touch=True), None
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

    # --- PUT ----------------------------------------------------------------------------------

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
        what = f"store {data.id!r}"
        try:
            self._send(Op.PUT, body, what=what, credential=data)
        except CredentialExists:
            if not overwrite:
                raise
            # A Nitrokey 3 refuses to overwrite (6983): replace in two steps.
            self._send(Op.DELETE, tlv.encode(TAG.NAME, data.raw_id), what=what, credential=data)
            self._send(Op.PUT, body, what=what, credential=data)
        return credential_from_id(data.raw_id, data.oath_type, self._answer.device_id,
                                  digest=data.digest, digits=data.digits, touch=touch)

    # --- DELETE, RENAME, RESET ----------------------------------------------------------------

    def delete(self, name: str | Credential) -> Credential:
        """Delete the credential ``name`` names exactly (see :meth:`find`) and return it."""
        credential = self.find(name)
        self._send(Op.DELETE, tlv.encode(TAG.NAME, credential.raw_id), credential=credential,
                   what=f"delete {credential.id!r}")
        return credential

    def rename(self, old: str | Credential, new: str) -> Credential:
        """Rename a credential to ``new`` (``issuer:account`` or ``account``); keeps its period."""
        credential = self.find(old)
        head, sep, tail = _text(new, "the new name").partition(":")
        issuer, account = (head or None, tail) if sep else (None, new)
        if not account:
            raise InvalidCredential("the new account name is empty")
        new_id = format_id(account, issuer, totp=credential.oath_type == "totp",
                           period=credential.period or DEFAULT_PERIOD).encode("utf-8")
        if len(new_id) > MAX_ID_LENGTH:
            raise InvalidCredential(
                f"the new name takes {len(new_id)} bytes; tokens allow at most {MAX_ID_LENGTH}"
            )
        if new_id == credential.raw_id:
            return credential
        if any(c.raw_id == new_id for c in self.list()):
            raise CredentialExists(f"an account named {new_id.decode()!r} is already on the token")
        self._send(Op.RENAME, tlv.encode(TAG.NAME, credential.raw_id) + tlv.encode(
            TAG.NAME, new_id), credential=credential, what=f"rename {credential.id!r}")
        return credential_from_id(new_id, credential.oath_type, self._answer.device_id,
                                  digest=credential.digest, digits=credential.digits,
                                  touch=credential.touch)

    def reset(self) -> None:
        """Erase every credential and the password; the token gets a new device id."""
        self._send(Op.RESET, p2=0xAD, what="reset")
        self._select()

    # --- passwords: the access strategy SELECT chose ------------------------------------------

    @contextlib.contextmanager
    def _guessing(self) -> Iterator[None]:
        """Pause before a password attempt after wrong ones, and count them.

        Tokens do not count wrong passwords (a Nitrokey counts its PIN tries, but blocks): the
        host slows down repeated guesses, whatever the scheme.
        """
        self._backoff()
        try:
            yield
        except WrongPassword:
            self._failures += 1
            raise
        self._failures = 0

    def _backoff(self) -> None:
        if self._failures:
            time.sleep(min(0.5 * 2 ** (self._failures - 1), 8.0))

    def unlock(self, password: str) -> None:
        """Unlock the token with its password (or PIN) and check the token's proof of it.

        Raises :class:`WrongPassword`, :class:`NoPasswordSet`, or
        :class:`TokenAuthenticityError` when the token's answer to our own challenge is wrong.
        """
        password = _text(password, "the password")
        if not self._access.locked:
            if not self._access.password_set:
                raise NoPasswordSet("the token has no password set")
            return
        with self._guessing():
            self._access.unlock(self._port, password)

    def access_key(self, password: str) -> bytes:
        """The 16-byte access key ``password`` gives on this token (what VALIDATE proves).

        A key is as good as the password for this token (and only this one, until a reset):
        keep it as a secret. Raises :class:`NotSupportedByToken` for a token with a PIN, which
        takes the PIN itself.
        """
        return self._password_access().access_key(_text(password, "the password"))

    def unlock_with_key(self, key: bytes) -> None:
        """Unlock the token with an access key from :meth:`access_key` (a remembered one).

        Raises :class:`WrongPassword` when the key is not this token's (its password changed,
        or it was reset), :class:`NotSupportedByToken` for a token with a PIN.
        """
        if not isinstance(key, (bytes, bytearray)) or len(key) != 16:
            raise InvalidArgument("an access key is 16 bytes")
        access = self._password_access()
        if not access.locked:
            if not access.password_set:
                raise NoPasswordSet("the token has no password set")
            return
        with self._guessing():
            access.unlock_key(self._port, bytes(key))

    def _password_access(self) -> PasswordAccess:
        if not isinstance(self._access, PasswordAccess):
            raise NotSupportedByToken(
                "this token takes its PIN itself: there is no access key to derive or remember"
            )
        return self._access

    def set_password(self, password: str, *, current: str | None = None) -> None:
        """Set (or change) the token's password; ``current`` unlocks it first when needed.

        On a Nitrokey 3 this sets or changes its PIN (changing needs ``current``).
        """
        if not _text(password, "the new password"):
            raise InvalidArgument("the new password is empty")
        if current is not None:
            _text(current, "the current password")
        with self._guessing():
            self._access.set_password(self._port, password, current)

    def clear_password(self, *, current: str | None = None) -> None:
        """Remove the token's password (``current`` unlocks it first when needed)."""
        if current is not None:
            _text(current, "the current password")
        with self._guessing():
            self._access.clear_password(self._port, current)


class _Port:
    """The way the access strategies (:mod:`.access`) send through a session."""

    def __init__(self, session: OathSession) -> None:
        self._session = session

    def send(self, op: Op, data: bytes = b"", *, what: str) -> bytes:
        """Send one command; raise the typed error of a status other than 9000."""
        return self._session._send(op, data, what=what)

    def reselect(self) -> AccessScheme:
        """Select the applet again: the strategy its answer calls for."""
        self._session._select()
        return self._session._access

    def replace(self, scheme: AccessScheme) -> AccessScheme:
        """Use ``scheme`` from now on."""
        self._session._access = scheme
        return scheme
