"""What the virtual FIDO2 authenticator remembers, and where it keeps it.

:class:`FidoState` holds the master key (which seals every credential id), the signature counter
and the PIN (its hash and the retries left). Credentials themselves are not stored: a credential
id is the credential's private key and secrets sealed under the master key, so the state stays a
few hundred bytes however many credentials exist, and a reset (a new master key) voids them all.

A :class:`FidoFileStore` keeps the state in its own file beside the OATH applet's (the ``token
virtual`` command uses ``STATE.fido`` for ``--state STATE``). The file has the OATH state file's
envelope: JSON with ``format`` ``"pyotp-hw-virtual-token"``, version 1, and either
``"protection": "scrypt+aes-256-gcm"`` (a :class:`~pyotp_hw.token.virtual.state.PassphraseSealer`
document: scrypt salt and parameters, nonce and AES-256-GCM ciphertext, the header authenticated)
or ``"protection": "none"`` with the state in clear under ``"state"``, which must be asked for.
The state itself (sealed or not) is JSON whose ``"applet"`` is ``"fido2"``, so neither applet
opens the other's file. Writes are atomic (a new 0600 file, fsync, rename, fsync of the
directory): a crash leaves the old or the new state.
"""

from __future__ import annotations

import base64
import copy
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ...._numbers import option
from ...._types import JSONObject
from ...errors import StateFileError
from ..state import (
    InMemory,
    PassphraseSealer,
    Store,
    read_state_file,
    require_protection,
    write_state_file,
)

__all__ = ["FidoState", "FidoStore", "FidoMemoryStore", "FidoFileStore", "MAX_PIN_RETRIES",
           "STATE_SUFFIX"]

#: A PIN is blocked after this many wrong tries in a row (across power cycles).
MAX_PIN_RETRIES = 8
#: The ``token virtual`` command keeps the FIDO2 state in ``STATE`` + this suffix.
STATE_SUFFIX = ".fido"
_APPLET = "fido2"
_STATE_VERSION = 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, what: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise StateFileError(f"FIDO2 state: {what} is not a base64 string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise StateFileError(f"FIDO2 state: {what} is not valid base64") from None
    if len(raw) != length:
        raise StateFileError(f"FIDO2 state: {what} is not {length} bytes long")
    return raw


def _count(value: object, what: str, top: int) -> int:
    return option(value, f"FIDO2 state: {what}", 0, top, error=StateFileError)


@dataclass
class FidoState:
    """The authenticator's persistent data."""

    master_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    sign_count: int = 0
    #: LEFT(SHA-256(PIN), 16) as CTAP2 stores it, or None when no PIN is set.
    pin_hash: bytes | None = field(default=None, repr=False)
    pin_retries: int = MAX_PIN_RETRIES

    def copy(self) -> FidoState:
        """Return an independent copy (the authenticator changes a copy, saves it, keeps it)."""
        return copy.deepcopy(self)

    def to_json(self) -> JSONObject:
        """Return a JSON-ready dict, secrets included."""
        return {
            "applet": _APPLET,
            "state_version": _STATE_VERSION,
            "master_key": _b64(self.master_key),
            "sign_count": self.sign_count,
            "pin_hash": None if self.pin_hash is None else _b64(self.pin_hash),
            "pin_retries": self.pin_retries,
        }

    @classmethod
    def from_json(cls, data: object) -> FidoState:
        """Read the state back; raise StateFileError when a field is wrong."""
        if not isinstance(data, dict):
            raise StateFileError("FIDO2 state: the state is not an object")
        if data.get("applet") != _APPLET:
            raise StateFileError(
                "the file is not a FIDO2 state file (an OATH state file? the FIDO2 state "
                f"lives in its own file, STATE{STATE_SUFFIX})"
            )
        if data.get("state_version") != _STATE_VERSION:
            raise StateFileError(
                f"FIDO2 state version {data.get('state_version')!r} is not supported"
            )
        pin = data.get("pin_hash")
        return cls(
            master_key=_unb64(data.get("master_key"), "the master key", 32),
            sign_count=_count(data.get("sign_count"), "the signature counter", 2**32 - 1),
            pin_hash=None if pin is None else _unb64(pin, "the PIN hash", 16),
            pin_retries=_count(data.get("pin_retries"), "the PIN retries", MAX_PIN_RETRIES),
        )


class FidoStore(Store[FidoState], Protocol):
    """Somewhere the authenticator's state lives."""


class FidoMemoryStore(InMemory[FidoState]):
    """Keeps the authenticator's state in memory only: it is gone when the process ends."""


class FidoFileStore:
    """Keeps the state in a file: sealed by ``sealer``, or in clear when ``plaintext=True``."""

    def __init__(
        self, path: str | os.PathLike[str], sealer: PassphraseSealer | None = None, *,
        plaintext: bool = False,
    ) -> None:
        require_protection(sealer, plaintext, "FIDO2 state")
        self.path = Path(path)
        self.sealer = sealer

    def __repr__(self) -> str:
        sealed = "sealed" if self.sealer is not None else "plaintext"
        return f"FidoFileStore({str(self.path)!r}, {sealed})"

    def load(self) -> FidoState | None:
        """Read the file; None when it does not exist."""
        # A plain StateFileError: a StateProtectionMismatch is taken (by `token virtual`) to be
        # about the OATH file the user named, not about this sibling file.
        data = read_state_file(self.path, self.sealer, "FIDO2 state",
                               mismatch=lambda message, sealed: StateFileError(message))
        return None if data is None else FidoState.from_json(data)

    def save(self, state: FidoState) -> None:
        """Write the file atomically with mode 0600."""
        write_state_file(self.path, self.sealer, state.to_json())
