"""The card side of YKOATH: a software OATH applet.

It follows the public YKOATH specification (and, with ``profile="nitrokey3"``, the Nitrokey 3
Secrets App differences a client must survive), parses commands with the same TLV codec as the
client, and computes HMACs over its stored keys with Python's :mod:`hmac` module: the card is a
separate product part with its own computation, which keeps the client's codes (from the C core)
and the card's codes independent of each other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ...errors import InvalidArgument
from .. import tlv
from ..apdu import SW, Command
from ..errors import ProtocolError
from ..ykoath import (
    AID,
    ALGORITHM_NAMES,
    INS,
    MAX_ID_LENGTH,
    MAX_KEY_LENGTH,
    OATH_HOTP,
    OATH_TOTP,
    PROP_INCREASING,
    PROP_PIN_ENCRYPTED,
    PROP_TOUCH,
    TAG,
)
from .state import MemoryStore, OathState, StateStore, StoredCredential

__all__ = ["OathApplet", "TouchPolicy", "Profile", "PROFILES", "OATH_APPLET_AID"]

#: The applet installs as ykneo-oath does (AID + 01); selecting the 7-byte AID matches it.
OATH_APPLET_AID = AID + b"\x01"

Response = tuple[bytes, int]


@dataclass(frozen=True)
class Profile:
    """How the card behaves where tokens differ."""

    name: str
    version: tuple[int, int, int]
    capacity: int
    uses_pin: bool  # Nitrokey 3: PIN commands instead of SET CODE / VALIDATE
    has_rename: bool
    has_calculate_all: bool
    overwrite: bool  # PUT replaces an existing name
    not_found: int  # status for "no such credential"
    command_chaining: bool
    serial: bool  # SELECT carries the serial (tag 8F)


PROFILES = {
    "yubikey": Profile(
        "yubikey", (5, 7, 2), 64, uses_pin=False, has_rename=True, has_calculate_all=True,
        overwrite=True, not_found=SW.NO_SUCH_OBJECT, command_chaining=True, serial=False,
    ),
    "nitrokey3": Profile(
        "nitrokey3", (4, 14, 0), 50, uses_pin=True, has_rename=False, has_calculate_all=False,
        overwrite=False, not_found=SW.FILE_NOT_FOUND, command_chaining=False, serial=True,
    ),
}

_MAX_PIN_RETRIES = 8
_PIN_LENGTH = (4, 64)
_DIGESTS = {1: hashlib.sha1, 2: hashlib.sha256, 3: hashlib.sha512}


class TouchPolicy:
    """How the simulated user answers a touch request.

    ``mode="auto"`` touches after ``delay`` seconds; ``"never"`` does not touch, so the card
    answers 6982 after ``timeout`` seconds (a YubiKey waits about 15). ``on_request`` is told
    each time the card waits for a touch.
    """

    def __init__(
        self,
        mode: Literal["auto", "never"] = "auto",
        *,
        delay: float = 0.5,
        timeout: float = 15.0,
        on_request: Callable[[bytes], None] | None = None,
    ) -> None:
        if mode not in ("auto", "never"):
            raise InvalidArgument(f"touch mode must be 'auto' or 'never', not {mode!r}")
        self.mode = mode
        self.delay = delay
        self.timeout = timeout
        self.on_request = on_request
        self.cancel = threading.Event()

    def wait(self, credential_id: bytes) -> bool:
        """Wait for the simulated touch; True when it came within the timeout."""
        if self.on_request is not None:
            self.on_request(credential_id)
        if self.mode == "auto" and self.delay <= self.timeout:
            return not self.cancel.wait(self.delay)
        self.cancel.wait(self.timeout)
        return False


def _truncate(mac: bytes) -> bytes:
    # RFC 4226 dynamic truncation: the card's own computation of its 31-bit response.
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return value.to_bytes(4, "big")


def _pin_hash(pin: bytes, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin, salt, 1000, 32)


class OathApplet:
    """A software OATH applet with persistent state in ``store``.

    ``profile`` is ``"yubikey"`` (the YKOATH reference behaviour) or ``"nitrokey3"`` (the
    Secrets App differences: PIN commands, no RENAME, no CALCULATE ALL, no overwrite, 6A82 for a
    missing credential, no command chaining). ``capacity`` limits the number of credentials.
    """

    aid = OATH_APPLET_AID
    send_remaining_ins: int = int(INS.SEND_REMAINING)

    def __init__(
        self,
        store: StateStore | None = None,
        *,
        profile: str | Profile = "yubikey",
        touch: TouchPolicy | None = None,
        capacity: int | None = None,
        version: tuple[int, int, int] | None = None,
    ) -> None:
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.store: StateStore = store if store is not None else MemoryStore()
        self.touch = touch if touch is not None else TouchPolicy()
        self.capacity = capacity if capacity is not None else self.profile.capacity
        self.version = version if version is not None else self.profile.version
        loaded = self.store.load()
        if loaded is None:
            loaded = OathState()
            self.store.save(loaded)
        self.state = loaded
        self._challenge: bytes | None = None
        self._authenticated = False

    # --- applet interface ---------------------------------------------------------------------

    def select(self) -> Response:
        """Answer SELECT: version, salt, and a challenge when a password is set."""
        self._authenticated = False
        self._challenge = None
        out = tlv.encode(TAG.VERSION, bytes(self.version))
        if self.profile.uses_pin:
            if self.state.pin_hash is None:
                out += tlv.encode(TAG.NAME, self.state.salt)
            else:
                out += tlv.encode(TAG.PIN_COUNTER, bytes([self.state.pin_retries]))
            out += tlv.encode(TAG.SERIAL, self.state.serial.to_bytes(4, "big"))
            return out, SW.OK
        out += tlv.encode(TAG.NAME, self.state.salt)
        if self.state.password_key is not None:
            self._challenge = secrets.token_bytes(8)
            out += tlv.encode(TAG.CHALLENGE, self._challenge)
            out += tlv.encode(TAG.ALGORITHM, bytes([0x01]))
        return out, SW.OK

    def deselect(self) -> None:
        """Lose the session's authentication."""
        self._authenticated = False
        self._challenge = None

    def process(self, command: Command) -> Response:
        """Answer one OATH command."""
        if command.cla != 0:
            return b"", SW.CLA_NOT_SUPPORTED
        handler = self._handlers().get(command.ins)
        if handler is None:
            return b"", SW.INS_NOT_SUPPORTED
        try:
            return handler(command)
        except ProtocolError:
            return b"", SW.WRONG_DATA

    def _handlers(self) -> dict[int, Callable[[Command], Response]]:
        table: dict[int, Callable[[Command], Response]] = {
            INS.PUT: self._put,
            INS.DELETE: self._delete,
            INS.SET_CODE: self._set_code,
            INS.RESET: self._reset,
            INS.LIST: self._list,
            INS.CALCULATE: self._calculate,
            INS.VALIDATE: self._validate,
            INS.CALCULATE_ALL: self._calculate_all,
        }
        if self.profile.has_rename:
            table[INS.RENAME] = self._rename
        if self.profile.uses_pin:
            table[INS.VERIFY_PIN] = self._verify_pin
            table[INS.CHANGE_PIN] = self._change_pin
            table[INS.SET_PIN] = self._set_pin
        return table

    # --- helpers ------------------------------------------------------------------------------

    def _locked(self) -> bool:
        if self.profile.uses_pin:
            return self.state.pin_hash is not None and not self._authenticated
        return self.state.password_key is not None and not self._authenticated

    def _find(self, cred_id: bytes, state: OathState | None = None) -> StoredCredential | None:
        for cred in (state or self.state).credentials:
            if cred.id == cred_id:
                return cred
        return None

    def _commit(self, state: OathState) -> int:
        """Save a changed copy of the state, then adopt it; a failed save changes nothing."""
        try:
            self.store.save(state)
        except OSError:
            return SW.MEMORY_FAILURE
        self.state = state
        return SW.OK

    # --- instructions -------------------------------------------------------------------------

    def _list(self, command: Command) -> Response:
        if self._locked():
            return b"", SW.SECURITY_NOT_SATISFIED
        out = b"".join(
            tlv.encode(TAG.NAME_LIST, bytes([c.kind | c.algorithm]) + c.id)
            for c in self.state.credentials
        )
        return out, SW.OK

    def _put(self, command: Command) -> Response:
        if self._locked():
            return b"", SW.SECURITY_NOT_SATISFIED
        fields = tlv.parse_dict(command.data, bare={TAG.PROPERTY})
        name = fields.get(TAG.NAME)
        key_field = fields.get(TAG.KEY)
        if name is None or key_field is None or not 0 < len(name) <= MAX_ID_LENGTH:
            return b"", SW.WRONG_DATA
        if len(key_field) < 3:
            return b"", SW.WRONG_DATA
        kind, algorithm, digits = key_field[0] & 0xF0, key_field[0] & 0x0F, key_field[1]
        key = key_field[2:]
        if kind not in (OATH_HOTP, OATH_TOTP) or algorithm not in ALGORITHM_NAMES:
            return b"", SW.WRONG_DATA
        if not 6 <= digits <= 8 or len(key) > MAX_KEY_LENGTH:
            return b"", SW.WRONG_DATA
        prop = fields.get(TAG.PROPERTY, b"\x00")[0]
        if prop & ~(PROP_INCREASING | PROP_TOUCH | PROP_PIN_ENCRYPTED):
            return b"", SW.WRONG_DATA
        counter = 0
        imf = fields.get(TAG.IMF)
        if imf is not None:
            if len(imf) != 4:
                return b"", SW.WRONG_DATA
            counter = int.from_bytes(imf, "big")
        new = StoredCredential(name, kind, algorithm, digits, key, prop, counter)
        state = self.state.copy()
        existing = self._find(name, state)
        if existing is not None:
            if not self.profile.overwrite:
                return b"", SW.AUTH_METHOD_BLOCKED
            state.credentials[state.credentials.index(existing)] = new
        else:
            if len(state.credentials) >= self.capacity:
                return b"", SW.NO_SPACE
            state.credentials.append(new)
        return b"", self._commit(state)

    def _delete(self, command: Command) -> Response:
        if self._locked():
            return b"", SW.SECURITY_NOT_SATISFIED
        name = tlv.parse_dict(command.data).get(TAG.NAME)
        if name is None:
            return b"", SW.WRONG_DATA
        state = self.state.copy()
        cred = self._find(name, state)
        if cred is None:
            return b"", self.profile.not_found
        state.credentials.remove(cred)
        return b"", self._commit(state)

    def _rename(self, command: Command) -> Response:
        if self._locked():
            return b"", SW.SECURITY_NOT_SATISFIED
        names = [t.value for t in tlv.parse(command.data) if t.tag == TAG.NAME]
        if len(names) != 2 or not 0 < len(names[1]) <= MAX_ID_LENGTH:
            return b"", SW.WRONG_DATA
        old, new = names
        state = self.state.copy()
        cred = self._find(old, state)
        if cred is None:
            return b"", self.profile.not_found
        if self._find(new, state) is not None:
            return b"", SW.WRONG_DATA
        cred.id = new
        return b"", self._commit(state)

    def _mac(self, cred: StoredCredential, message: bytes) -> bytes:
        return hmac.new(cred.key, message, _DIGESTS[cred.algorithm]).digest()

    def _answer(self, cred: StoredCredential, mac: bytes, truncate: bool) -> bytes:
        if truncate:
            return tlv.encode(TAG.TRUNCATED, bytes([cred.digits]) + _truncate(mac))
        return tlv.encode(TAG.RESPONSE, bytes([cred.digits]) + mac)

    def _calculate(self, command: Command) -> Response:
        if self._locked():
            return b"", SW.SECURITY_NOT_SATISFIED
        fields = tlv.parse_dict(command.data)
        name = fields.get(TAG.NAME)
        challenge = fields.get(TAG.CHALLENGE, b"")
        if name is None:
            return b"", SW.WRONG_DATA
        cred = self._find(name)
        if cred is None:
            return b"", self.profile.not_found
        if cred.properties & PROP_TOUCH and not self.touch.wait(cred.id):
            return b"", SW.SECURITY_NOT_SATISFIED
        if cred.kind == OATH_HOTP:
            state = self.state.copy()
            stored = self._find(name, state)
            assert stored is not None
            mac = self._mac(stored, stored.counter.to_bytes(8, "big"))
            stored.counter += 1
            status = self._commit(state)
            if status != SW.OK:
                return b"", status
        else:
            mac = self._mac(cred, challenge)
        return self._answer(cred, mac, command.p2 == 0x01), SW.OK

    def _calculate_all(self, command: Command) -> Response:
        if command.p1 != 0x00:
            return b"", SW.WRONG_P1P2
        if not self.profile.has_calculate_all:
            return b"", SW.CONDITIONS_NOT_SATISFIED
        if self._locked():
            return b"", SW.SECURITY_NOT_SATISFIED
        challenge = tlv.parse_dict(command.data).get(TAG.CHALLENGE)
        if challenge is None:
            return b"", SW.WRONG_DATA
        out = bytearray()
        for cred in self.state.credentials:
            out += tlv.encode(TAG.NAME, cred.id)
            if cred.kind == OATH_HOTP:
                out += tlv.encode(TAG.HOTP, bytes([cred.digits]))
            elif cred.properties & PROP_TOUCH:
                out += tlv.encode(TAG.TOUCH, bytes([cred.digits]))
            else:
                out += self._answer(cred, self._mac(cred, challenge), command.p2 == 0x01)
        return bytes(out), SW.OK

    def _set_code(self, command: Command) -> Response:
        if self.profile.uses_pin:
            return b"", SW.CONDITIONS_NOT_SATISFIED
        if self._locked():
            return b"", SW.SECURITY_NOT_SATISFIED
        fields = tlv.parse_dict(command.data)
        key_field = fields.get(TAG.KEY)
        if key_field is None:
            return b"", SW.WRONG_DATA
        state = self.state.copy()
        if not key_field:
            state.password_key = None
            return b"", self._commit(state)
        if key_field[0] & 0x0F != 0x01 or not 1 <= len(key_field) - 1 <= MAX_KEY_LENGTH:
            return b"", SW.WRONG_DATA
        key = key_field[1:]
        challenge = fields.get(TAG.CHALLENGE)
        response = fields.get(TAG.RESPONSE)
        if challenge is None or response is None:
            return b"", SW.WRONG_DATA
        expected = hmac.new(key, challenge, hashlib.sha1).digest()
        if not hmac.compare_digest(response, expected):
            return b"", SW.NO_SUCH_OBJECT
        state.password_key = key
        status = self._commit(state)
        if status == SW.OK:
            self._authenticated = True
        return b"", status

    def _validate(self, command: Command) -> Response:
        if self.profile.uses_pin:
            return b"", SW.CONDITIONS_NOT_SATISFIED
        key = self.state.password_key
        if key is None or self._challenge is None:
            return b"", SW.NO_SUCH_OBJECT
        fields = tlv.parse_dict(command.data)
        response = fields.get(TAG.RESPONSE)
        host_challenge = fields.get(TAG.CHALLENGE)
        if response is None or host_challenge is None:
            return b"", SW.WRONG_DATA
        expected = hmac.new(key, self._challenge, hashlib.sha1).digest()
        if not hmac.compare_digest(response, expected):
            return b"", SW.WRONG_DATA
        self._authenticated = True
        proof = hmac.new(key, host_challenge, hashlib.sha1).digest()
        return tlv.encode(TAG.RESPONSE, proof), SW.OK

    def _reset(self, command: Command) -> Response:
        if (command.p1, command.p2) != (0xDE, 0xAD):
            return b"", SW.WRONG_P1P2
        state = OathState(serial=self.state.serial)
        status = self._commit(state)
        if status == SW.OK:
            self._authenticated = False
            self._challenge = None
        return b"", status

    # --- Nitrokey 3 PIN -----------------------------------------------------------------------

    def _check_pin(self, pin: bytes) -> int:
        stored = self.state.pin_hash
        if stored is None:
            return SW.CONDITIONS_NOT_SATISFIED
        if self.state.pin_retries == 0:
            return SW.AUTH_METHOD_BLOCKED
        state = self.state.copy()
        if hmac.compare_digest(_pin_hash(pin, state.salt), stored):
            state.pin_retries = _MAX_PIN_RETRIES
            status = self._commit(state)
            return status
        state.pin_retries -= 1
        status = self._commit(state)
        if status != SW.OK:
            return status
        return SW.VERIFY_FAILED | state.pin_retries

    def _verify_pin(self, command: Command) -> Response:
        pin = tlv.parse_dict(command.data).get(TAG.PIN)
        if pin is None:
            return b"", SW.WRONG_DATA
        status = self._check_pin(pin)
        if status == SW.OK:
            self._authenticated = True
        return b"", status

    def _change_pin(self, command: Command) -> Response:
        fields = tlv.parse_dict(command.data)
        old, new = fields.get(TAG.PIN), fields.get(TAG.NEW_PIN)
        if old is None or new is None or not _PIN_LENGTH[0] <= len(new) <= _PIN_LENGTH[1]:
            return b"", SW.WRONG_DATA
        status = self._check_pin(old)
        if status != SW.OK:
            return b"", status
        state = self.state.copy()
        state.pin_hash = _pin_hash(new, state.salt)
        status = self._commit(state)
        if status == SW.OK:
            self._authenticated = True
        return b"", status

    def _set_pin(self, command: Command) -> Response:
        if self.state.pin_hash is not None:
            return b"", SW.CONDITIONS_NOT_SATISFIED
        pin = tlv.parse_dict(command.data).get(TAG.PIN)
        if pin is None or not _PIN_LENGTH[0] <= len(pin) <= _PIN_LENGTH[1]:
            return b"", SW.WRONG_DATA
        state = self.state.copy()
        state.pin_hash = _pin_hash(pin, state.salt)
        state.pin_retries = _MAX_PIN_RETRIES
        status = self._commit(state)
        if status == SW.OK:
            self._authenticated = True
        return b"", status

    # --- for tools and tests --------------------------------------------------------------------

    def credential_ids(self) -> list[bytes]:
        """The ids of the stored credentials, in order."""
        return [c.id for c in self.state.credentials]
