"""What the virtual token remembers, and where it keeps it.

:class:`OathState` is the applet's persistent data (salt, access key or PIN, credentials).
A store keeps it: :class:`MemoryStore` (nothing on disk, the default) or :class:`FileStore`.
A state file is written atomically (temporary file, fsync, rename, fsync of the directory) with
mode 0600, and is sealed with AES-256-GCM under a key derived by scrypt from a passphrase, unless
the user explicitly asks for a plaintext file. Sealing needs the ``cryptography`` package.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from ..._types import JSONObject, JSONValue
from ...sealing import (
    NONCE_BYTES,
    Aead,
    SealFormatError,
    SealOpenFailed,
    passphrase_bytes,
    require,
    scrypt_key,
)
from ..errors import StateFileError, StateProtectionMismatch

__all__ = [
    "StoredCredential",
    "OathState",
    "Store",
    "InMemory",
    "StateStore",
    "MemoryStore",
    "FileStore",
    "PassphraseSealer",
    "PASSPHRASE_ENV",
    "FORMAT",
    "SEALED",
    "require_protection",
    "read_state_file",
    "write_state_file",
]

FORMAT = "pyotp-hw-virtual-token"
FORMAT_VERSION = 1
#: The ``protection`` of a sealed state file.
SEALED = "scrypt+aes-256-gcm"
#: Environment variable the ``token virtual`` command reads the state passphrase from.
PASSPHRASE_ENV = "PYOTP_HW_TOKEN_STATE_PASSPHRASE"  # noqa: S105 - a variable name
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise StateFileError(f"state file: {what} is not a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise StateFileError(f"state file: {what} is not valid base64") from None


@dataclass
class StoredCredential:
    """One credential as the card stores it."""

    id: bytes
    kind: int  # type nibble: 0x10 HOTP, 0x20 TOTP
    algorithm: int  # 1 SHA-1, 2 SHA-256, 3 SHA-512
    digits: int
    key: bytes = field(repr=False)
    properties: int = 0
    counter: int = 0

    def to_json(self) -> JSONObject:
        """Return a JSON-ready dict (with the key)."""
        return {
            "id": _b64(self.id),
            "kind": self.kind,
            "algorithm": self.algorithm,
            "digits": self.digits,
            "key": _b64(self.key),
            "properties": self.properties,
            "counter": self.counter,
        }

    @classmethod
    def from_json(cls, data: object) -> StoredCredential:
        """Read one credential back; raise StateFileError when a field is wrong."""
        if not isinstance(data, dict):
            raise StateFileError("state file: a credential is not an object")
        ints: dict[str, int] = {}
        for name in ("kind", "algorithm", "digits", "properties", "counter"):
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise StateFileError(f"state file: credential field {name!r} is not a count")
            ints[name] = value
        return cls(
            id=_unb64(data.get("id"), "a credential id"),
            key=_unb64(data.get("key"), "a credential key"),
            **ints,
        )


@dataclass
class OathState:
    """The OATH applet's persistent data."""

    salt: bytes = field(default_factory=lambda: secrets.token_bytes(8))
    password_key: bytes | None = field(default=None, repr=False)
    pin_hash: bytes | None = field(default=None, repr=False)
    pin_retries: int = 8
    serial: int = field(default_factory=lambda: secrets.randbelow(2**31))
    credentials: list[StoredCredential] = field(default_factory=list)

    def copy(self) -> OathState:
        """Return an independent copy (the applet changes a copy, saves it, then keeps it)."""
        return copy.deepcopy(self)

    def to_json(self) -> JSONObject:
        """Return a JSON-ready dict, secrets included."""
        return {
            "salt": _b64(self.salt),
            "password_key": _b64(self.password_key) if self.password_key is not None else None,
            "pin_hash": _b64(self.pin_hash) if self.pin_hash is not None else None,
            "pin_retries": self.pin_retries,
            "serial": self.serial,
            "credentials": [c.to_json() for c in self.credentials],
        }

    @classmethod
    def from_json(cls, data: object) -> OathState:
        """Read the state back; raise StateFileError when a field is wrong."""
        if not isinstance(data, dict):
            raise StateFileError("state file: the state is not an object")
        creds = data.get("credentials")
        if not isinstance(creds, list):
            raise StateFileError("state file: 'credentials' is not a list")
        retries = data.get("pin_retries")
        serial = data.get("serial")
        if not isinstance(retries, int) or not isinstance(serial, int):
            raise StateFileError("state file: 'pin_retries' or 'serial' is not a number")
        key = data.get("password_key")
        pin = data.get("pin_hash")
        return cls(
            salt=_unb64(data.get("salt"), "the salt"),
            password_key=None if key is None else _unb64(key, "the access key"),
            pin_hash=None if pin is None else _unb64(pin, "the PIN hash"),
            pin_retries=retries,
            serial=serial,
            credentials=[StoredCredential.from_json(c) for c in creds],
        )


class _Copies(Protocol):
    def copy(self: _S) -> _S: ...


_S = TypeVar("_S", bound=_Copies)


class Store(Protocol[_S]):
    """Somewhere an applet's state (an :class:`OathState` or a FIDO2 state) lives."""

    def load(self) -> _S | None:
        """Return the saved state, or None when there is none yet."""
        ...

    def save(self, state: _S) -> None:
        """Save ``state`` so that a crash at any moment leaves the old or the new one."""
        ...


class InMemory(Generic[_S]):
    """Keeps an applet's state in memory only: it is gone when the process ends."""

    def __init__(self, state: _S | None = None) -> None:
        self.state = state

    def load(self) -> _S | None:
        """Return the state held, if any."""
        return None if self.state is None else self.state.copy()

    def save(self, state: _S) -> None:
        """Hold a copy of ``state``."""
        self.state = state.copy()


class StateStore(Store[OathState], Protocol):
    """Somewhere the OATH applet's state lives."""


class MemoryStore(InMemory[OathState]):
    """Keeps the OATH applet's state in memory only: it is gone when the process ends."""


def _aead(key: bytes) -> Aead:
    return Aead(key, feature="a sealed virtual-token state file", extra="token")


class PassphraseSealer:
    """Seals state with AES-256-GCM under a key that scrypt derives from a passphrase.

    The scrypt salt is made once per file and kept in its header; every save uses a new nonce.
    The header is authenticated with the ciphertext, so a changed header fails to open.
    """

    def __init__(self, passphrase: str) -> None:
        self._passphrase = passphrase_bytes(passphrase, "the state passphrase", StateFileError)
        self._salt: bytes | None = None
        self._key: bytes | None = None
        require("a sealed virtual-token state file", "token")

    def __repr__(self) -> str:
        return "PassphraseSealer(<passphrase hidden>)"

    def _derive(self, salt: bytes) -> bytes:
        if self._key is None or self._salt != salt:
            self._key = scrypt_key(self._passphrase, salt, **_SCRYPT)
            self._salt = salt
        return self._key

    def seal(self, plaintext: bytes) -> JSONObject:
        """Return the sealed document (header fields and ciphertext)."""
        salt = self._salt or secrets.token_bytes(16)
        key = self._derive(salt)
        header: JSONObject = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "protection": SEALED,
            "kdf": {"name": "scrypt", "salt": _b64(salt), **_SCRYPT},
        }
        aad = json.dumps(header, sort_keys=True).encode("utf-8")
        sealed = _aead(key).seal(plaintext, aad)
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        return {**header, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}

    def open(self, document: Mapping[str, object]) -> bytes:
        """Return the plaintext of a sealed document, or raise StateFileError."""
        kdf = document.get("kdf")
        if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
            raise StateFileError("state file: unknown key derivation")
        if any(kdf.get(k) != v for k, v in _SCRYPT.items()):
            raise StateFileError("state file: unsupported scrypt parameters")
        salt = _unb64(kdf.get("salt"), "the scrypt salt")
        header = {k: document.get(k) for k in ("format", "version", "protection", "kdf")}
        aad = json.dumps(header, sort_keys=True).encode("utf-8")
        nonce = _unb64(document.get("nonce"), "the nonce")
        if len(nonce) != NONCE_BYTES:
            raise StateFileError(f"state file: the nonce is {len(nonce)} bytes, not "
                                 f"{NONCE_BYTES}: the file was changed")
        ciphertext = _unb64(document.get("ciphertext"), "the ciphertext")
        try:
            return _aead(self._derive(salt)).open(nonce + ciphertext, aad)
        except (SealOpenFailed, SealFormatError):  # a failed authentication, or a cut value
            raise StateFileError(
                "the state file cannot be opened: wrong passphrase, or the file was changed"
            ) from None


class FileStore:
    """Keeps the state in a file: sealed by ``sealer``, or in plaintext when it is None.

    Plaintext must be asked for explicitly (``plaintext=True``): a store without a sealer and
    without that flag refuses to be created.
    """

    def __init__(
        self, path: str | os.PathLike[str], sealer: PassphraseSealer | None = None, *,
        plaintext: bool = False,
    ) -> None:
        require_protection(sealer, plaintext, "state")
        self.path = Path(path)
        self.sealer = sealer

    def load(self) -> OathState | None:
        """Read the file; None when it does not exist."""
        data = read_state_file(self.path, self.sealer, "state")
        return None if data is None else OathState.from_json(data)

    def save(self, state: OathState) -> None:
        """Write the file atomically with mode 0600."""
        write_state_file(self.path, self.sealer, state.to_json())


def require_protection(sealer: PassphraseSealer | None, plaintext: bool, what: str) -> None:
    """Refuse a state file with neither a sealer nor an explicit ``plaintext`` choice."""
    if sealer is None and not plaintext:
        raise StateFileError(f"a {what} file holds secrets: give a passphrase to seal it, or "
                             "ask for plaintext explicitly")


def _protection_mismatch(message: str, sealed: bool) -> StateFileError:
    return StateProtectionMismatch(message, sealed=sealed)


def read_state_file(
    path: Path, sealer: PassphraseSealer | None, what: str, *,
    mismatch: Callable[[str, bool], StateFileError] = _protection_mismatch,
) -> JSONValue:
    """The state an applet saved with :func:`write_state_file` (JSON), or None: no file yet.

    Both applets' files share this envelope (format, version, protection, and the state in
    clear or sealed by ``sealer``); ``what`` names the state in messages ("state", "FIDO2
    state"). A file sealed when ``sealer`` is None, or the other way round, raises what
    ``mismatch(message, sealed)`` makes (:class:`StateProtectionMismatch` unless told).
    """
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read the {what} file {name!r}: {exc.strerror}") from None
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise StateFileError(f"{name!r} is not a virtual-token state file") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateFileError(f"{name!r} is not a virtual-token state file")
    if document.get("version") != FORMAT_VERSION:
        raise StateFileError(f"state file version {document.get('version')!r} is not supported")
    protection = document.get("protection")
    if protection == "none":
        if sealer is not None:
            raise mismatch(
                f"the {what} file {name!r} is not sealed: it holds its secrets in clear text, so "
                "open it as plaintext (no passphrase opens it)", False)
        return document.get("state")
    if protection != SEALED:
        raise StateFileError(f"state file protection {protection!r} is not supported")
    if sealer is None:
        raise mismatch(
            f"the {what} file {name!r} is sealed under a passphrase: it cannot be opened as "
            "plaintext; open it with its passphrase", True)
    plaintext = sealer.open(document)
    try:
        state: JSONValue = json.loads(plaintext)
    except ValueError:
        raise StateFileError(f"the sealed {what} is damaged") from None
    return state


def write_state_file(path: Path, sealer: PassphraseSealer | None, state: JSONObject) -> None:
    """Write ``state`` (JSON-ready) in the envelope :func:`read_state_file` reads: sealed by
    ``sealer``, or in clear when it is None; atomically, with mode 0600."""
    if sealer is None:
        document: JSONObject = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "protection": "none",
            "state": state,
        }
    else:
        document = sealer.seal(json.dumps(state, sort_keys=True).encode("utf-8"))
    write_atomic(path, json.dumps(document, indent=1, sort_keys=True).encode("utf-8") + b"\n")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a new 0600 file beside it, fsync, rename, fsync the dir."""
    directory = path.parent
    for _ in range(100):
        tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - 100 random names taken
        raise StateFileError(f"cannot create a temporary file beside {str(path)!r}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
