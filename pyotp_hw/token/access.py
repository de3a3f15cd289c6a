"""The two ways a token is protected, as two strategies chosen from its SELECT answer.

:class:`PasswordAccess` is YKOATH's: an access key derived from the password
(PBKDF2-HMAC-SHA1 over the applet's salt) answers the card's challenge in VALIDATE, and the
host checks the card's answer to its own challenge. :class:`PinAccess` is the Nitrokey 3's:
VERIFY / CHANGE / SET PIN carry the PIN itself and the card counts wrong tries. The session
sends commands for a strategy through a :class:`Port`; host-side pauses between wrong guesses
stay with the session, which counts them for both.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from abc import ABC, abstractmethod
from typing import ClassVar, Literal, Protocol

from . import tlv
from .errors import (
    AuthenticationRequired,
    NoPasswordSet,
    NotSupportedByToken,
    ProtocolError,
    TokenAuthenticityError,
    TokenStatusError,
)
from .model import SelectAnswer
from .status import MISSING_COMMAND
from .ykoath import ALGORITHMS, CHALLENGE_LENGTH, OATH_TOTP, TAG, Op

__all__ = ["AccessKind", "Port", "AccessScheme", "PasswordAccess", "PinAccess", "choose_access",
           "derive_key"]

AccessKind = Literal["password", "pin"]
_PBKDF2_ITERATIONS = 1000


def derive_key(password: str, salt: bytes) -> bytes:
    """Return the 16-byte OATH access key: PBKDF2-HMAC-SHA1(password, salt, 1000)."""
    return hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), salt, _PBKDF2_ITERATIONS, 16)


def _hmac_sha1(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha1).digest()


class Port(Protocol):
    """What a strategy needs of its session."""

    def send(self, op: Op, data: bytes = b"", *, what: str) -> bytes:
        """Send one command; return its response data or raise the typed error of its status."""
        ...

    def reselect(self) -> AccessScheme:
        """Select the applet again and return the strategy its fresh answer calls for."""
        ...

    def replace(self, scheme: AccessScheme) -> AccessScheme:
        """Make ``scheme`` the session's strategy from now on and return it."""
        ...


class AccessScheme(ABC):
    """How one token is unlocked and how its password is set; state as of the last SELECT."""

    kind: ClassVar[AccessKind]

    def __init__(self, *, password_set: bool) -> None:
        self.password_set = password_set
        self.locked = password_set

    @abstractmethod
    def unlock(self, port: Port, secret: str) -> None:
        """Give the token its password (or PIN); raise WrongPassword when it is not."""

    @abstractmethod
    def set_password(self, port: Port, new: str, current: str | None) -> None:
        """Set or change the password (or PIN), unlocking with ``current`` where needed."""

    @abstractmethod
    def clear_password(self, port: Port, current: str | None) -> None:
        """Remove the password, unlocking with ``current`` where needed."""

    def _unlock_first(self, port: Port, current: str | None) -> None:
        if self.locked:
            if current is None:
                raise AuthenticationRequired("the token is locked: give its current password")
            self.unlock(port, current)


class PasswordAccess(AccessScheme):
    """YKOATH's HMAC-SHA1 challenge-response password (SET CODE, VALIDATE)."""

    kind = "password"

    def __init__(self, answer: SelectAnswer) -> None:
        super().__init__(password_set=answer.challenge is not None)
        self._salt = answer.salt
        self._challenge = answer.challenge
        self._version = answer.version

    def access_key(self, secret: str) -> bytes:
        """The access key ``secret`` gives on this token (derived with its salt)."""
        if self._salt is None:
            raise ProtocolError("the token sent no salt to derive a password key from")
        return derive_key(secret, self._salt)

    def unlock(self, port: Port, secret: str) -> None:
        """VALIDATE with the key the password gives."""
        self.unlock_key(port, self.access_key(secret))

    def unlock_key(self, port: Port, key: bytes) -> None:
        """VALIDATE: answer the card's challenge with ``key``, then check its answer to ours."""
        if self._challenge is None:
            raise ProtocolError("the token asks for a password but sent no challenge")
        host_challenge = os.urandom(CHALLENGE_LENGTH)
        body = tlv.encode(TAG.RESPONSE, _hmac_sha1(key, self._challenge)) + tlv.encode(
            TAG.CHALLENGE, host_challenge
        )
        response = port.send(Op.VALIDATE, body, what="check the password")
        try:
            proof = tlv.first(tlv.parse(response), TAG.RESPONSE)
        except ProtocolError:
            proof = None
        if proof is None or not hmac.compare_digest(proof, _hmac_sha1(key, host_challenge)):
            raise TokenAuthenticityError(
                "the token accepted the password but could not prove it knows it: it is not "
                "the token that password belongs to (impostor or faulty card); nothing it "
                "says is trusted"
            )
        self._challenge = None
        self.locked = False

    def set_password(self, port: Port, new: str, current: str | None) -> None:
        """SET CODE with the new key and a proof of it; a card without it gets its PIN set."""
        self._unlock_first(port, current)
        key = self.access_key(new)
        challenge = os.urandom(CHALLENGE_LENGTH)
        body = (
            tlv.encode(TAG.KEY, bytes([OATH_TOTP | ALGORITHMS["sha1"]]) + key)
            + tlv.encode(TAG.CHALLENGE, challenge)
            + tlv.encode(TAG.RESPONSE, _hmac_sha1(key, challenge))
        )
        try:
            port.send(Op.SET_CODE, body, what="set a password")
        except TokenStatusError as exc:
            if exc.sw not in MISSING_COMMAND[Op.SET_CODE]:
                raise
            # No SET CODE here: a Nitrokey 3 that did not announce itself. Its PIN, then.
            port.replace(PinAccess(password_set=False)).set_password(port, new, current)
            return
        self.password_set = True
        self.locked = False
        if self._version < (3, 0, 0):
            # Old applets forget the session's authentication when the code changes.
            port.reselect().unlock(port, new)

    def clear_password(self, port: Port, current: str | None) -> None:
        """SET CODE with an empty key."""
        if not self.password_set:
            raise NoPasswordSet("the token has no password set")
        self._unlock_first(port, current)
        port.send(Op.SET_CODE, tlv.encode(TAG.KEY, b""), what="remove the password")
        self.password_set = False
        self.locked = False


class PinAccess(AccessScheme):
    """The Nitrokey 3 Secrets App's PIN (VERIFY, CHANGE and SET PIN); the card counts tries."""

    kind = "pin"

    def unlock(self, port: Port, secret: str) -> None:
        """VERIFY PIN."""
        port.send(Op.VERIFY_PIN, tlv.encode(TAG.PIN, secret.encode("utf-8")),
                  what="check the PIN")
        self.locked = False

    def set_password(self, port: Port, new: str, current: str | None) -> None:
        """SET PIN when none is set, else CHANGE PIN (which checks ``current`` itself)."""
        encoded = new.encode("utf-8")
        if not self.password_set:
            port.send(Op.SET_PIN, tlv.encode(TAG.PIN, encoded), what="set a PIN")
        elif current is None:
            raise AuthenticationRequired("changing the token's PIN needs the current PIN")
        else:
            body = tlv.encode(TAG.PIN, current.encode("utf-8")) + tlv.encode(TAG.NEW_PIN, encoded)
            port.send(Op.CHANGE_PIN, body, what="change the PIN")
        port.reselect().unlock(port, new)

    def clear_password(self, port: Port, current: str | None) -> None:
        """Refused: the Secrets App has no command that removes its PIN."""
        raise NotSupportedByToken(
            "this token cannot remove its PIN; a reset removes it together with every account"
        )


def choose_access(answer: SelectAnswer) -> AccessScheme:
    """The strategy a SELECT answer calls for: a serial or a PIN counter means a Nitrokey 3."""
    if answer.serial is not None or answer.pin_retries is not None:
        return PinAccess(password_set=answer.pin_retries is not None)
    return PasswordAccess(answer)
