"""Where the data key that seals seeds at rest comes from.

A key provider turns the store's random salt into the 32-byte AES-256-GCM data key. The salt is
created with the store and kept in it, so one passphrase, key file or environment variable yields
a different data key for every store. A hardware provider (a YubiKey's HMAC challenge-response, a
FIDO2 ``hmac-secret``) fits the same protocol: the salt is the challenge, the response the key.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import InvalidArgument, InvalidType
from ..sealing import check_scrypt_cost, hkdf, passphrase_bytes, scrypt_key, wipe
from .errors import WrongKey

__all__ = [
    "KeyProvider",
    "DataKey",
    "PassphraseKey",
    "KeyFile",
    "EnvKey",
    "as_provider",
    "DATA_KEY_BYTES",
    "DEFAULT_ENV_VAR",
]

log = logging.getLogger("pyotp_hw.verifier")

DATA_KEY_BYTES = 32
DEFAULT_ENV_VAR = "PYOTP_HW_VERIFIER_KEY"
_HKDF_INFO = b"pyotp-hw verifier data key v1"


@runtime_checkable
class KeyProvider(Protocol):
    """Supplies the data key of a store.

    ``data_key(salt)`` returns exactly 32 bytes and must return the same bytes for the same salt
    every time; it may raise :class:`~pyotp_hw.verifier.errors.WrongKey` when the key material it
    holds is unusable. Providers never put key material in their ``repr``.
    """

    def data_key(self, salt: bytes) -> bytes:
        """The 32-byte data key for a store whose salt is ``salt``."""
        ...


def _hkdf(material: bytes, salt: bytes) -> bytes:
    derived = hkdf(material, salt, _HKDF_INFO, DATA_KEY_BYTES, feature="sealing seeds at rest",
                   extra="verifier")
    try:
        return bytes(derived)
    finally:
        wipe(derived)


def _decode_material(text: bytes, source: str) -> bytes:
    """32 bytes of key material from raw bytes, hex or base64 text."""
    stripped = text.strip()
    if len(stripped) == 2 * DATA_KEY_BYTES:
        try:
            return binascii.unhexlify(stripped)
        except (binascii.Error, ValueError):
            pass
    try:
        raw = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == DATA_KEY_BYTES:
        return raw
    if len(text) == DATA_KEY_BYTES:
        return text
    raise WrongKey(
        f"{source} must hold {DATA_KEY_BYTES} bytes of key material, as raw bytes, "
        f"{2 * DATA_KEY_BYTES} hex digits or base64"
    )


class DataKey:
    """A data key given directly: 32 bytes, used as they are (the salt is ignored)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes | bytearray) -> None:
        if not isinstance(key, (bytes, bytearray)):
            raise InvalidType(f"a data key must be bytes, not {type(key).__name__}")
        if len(key) != DATA_KEY_BYTES:
            raise InvalidArgument(f"a data key must be {DATA_KEY_BYTES} bytes, not {len(key)}")
        self._key = bytes(key)

    def data_key(self, salt: bytes) -> bytes:
        """The key itself."""
        return self._key

    def __repr__(self) -> str:
        return "DataKey(<hidden>)"


class PassphraseKey:
    """A data key stretched from a passphrase with scrypt (RFC 7914) over the store's salt.

    The default cost (N = 2**15, r = 8, p = 1) takes about 32 MiB and a tenth of a second; a store
    must be opened with the same cost it was created with. The cost is checked as
    :func:`pyotp_hw.sealing.check_scrypt_cost` says (at most 1 GiB).
    """

    __slots__ = ("_passphrase", "n", "p", "r")

    def __init__(self, passphrase: str | bytes, *, n: int = 2**15, r: int = 8, p: int = 1) -> None:
        self._passphrase = passphrase_bytes(passphrase)
        self.n, self.r, self.p = check_scrypt_cost(n, r, p)

    def data_key(self, salt: bytes) -> bytes:
        """scrypt(passphrase, salt)."""
        return scrypt_key(self._passphrase, salt, n=self.n, r=self.r, p=self.p,
                          length=DATA_KEY_BYTES)

    def __repr__(self) -> str:
        return f"PassphraseKey(<hidden>, n={self.n}, r={self.r}, p={self.p})"


class KeyFile:
    """Key material read from a file (32 raw bytes, hex or base64), bound to the store by HKDF.

    A key file that its group or others may read is still used, and reported once per provider
    as a warning on the ``pyotp_hw.verifier`` logger (the command line prints it on stderr).
    """

    __slots__ = ("_reported", "path")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._reported = False

    @staticmethod
    def create(path: str | os.PathLike[str]) -> KeyFile:
        """Write 32 fresh random bytes (as hex) to a new file readable by its owner only."""
        target = Path(path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(target, flags, 0o600)
        except FileExistsError:
            raise InvalidArgument(f"key file {str(target)!r} already exists") from None
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(DATA_KEY_BYTES) + "\n")
        return KeyFile(target)

    def data_key(self, salt: bytes) -> bytes:
        """HKDF-SHA256 of the file's key material with the store's salt."""
        try:
            # The mode is read from the file that is read, not from a path looked up again.
            with open(self.path, "rb") as fh:
                mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
                text = fh.read()
        except OSError as exc:
            raise WrongKey(f"cannot read key file {str(self.path)!r}: {exc.strerror}") from None
        if mode & 0o077 and not self._reported:
            self._reported = True
            log.warning("key file %r is readable by its group or others (mode %04o); "
                        "chmod 600 it", str(self.path), mode)
        return _hkdf(_decode_material(text, f"key file {str(self.path)!r}"), salt)

    def __repr__(self) -> str:
        return f"KeyFile({str(self.path)!r})"


class EnvKey:
    """Key material from an environment variable (hex or base64 of 32 bytes), bound by HKDF."""

    __slots__ = ("name",)

    def __init__(self, name: str = DEFAULT_ENV_VAR) -> None:
        self.name = name

    def data_key(self, salt: bytes) -> bytes:
        """HKDF-SHA256 of the variable's key material with the store's salt."""
        value = os.environ.get(self.name)
        if not value:
            raise WrongKey(f"environment variable {self.name} is not set")
        return _hkdf(_decode_material(value.encode("ascii", "replace"), f"${self.name}"), salt)

    def __repr__(self) -> str:
        return f"EnvKey({self.name!r})"


def as_provider(key: object) -> KeyProvider:
    """A provider for ``key``: a provider itself, or 32 raw bytes used as the data key."""
    if isinstance(key, (bytes, bytearray)):
        return DataKey(key)
    if isinstance(key, KeyProvider):
        return key
    raise InvalidType(
        "key must be 32 bytes or a key provider (DataKey, PassphraseKey, KeyFile, EnvKey, ...), "
        f"not {type(key).__name__}"
    )
