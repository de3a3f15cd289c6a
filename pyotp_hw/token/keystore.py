"""Remembered access keys: a token's password, kept as the key it derives, per device id.

ykman remembers a YubiKey's OATH password the same way: not the password but the 16-byte access
key PBKDF2 derives from it with the token's salt, filed under the token's device id (which a
reset changes, so a reset token is not unlocked by an old key). Here the keys live in one JSON
file, ``$XDG_CONFIG_HOME/pyotp-hw/token-keys.json`` by default (``~/.config`` when the variable
is unset), written with mode 0600 in a folder of mode 0700 (see :mod:`pyotp_hw._secret_files`).
A key unlocks its token as the password does: the file is refused when others may read it or
when it is a symbolic link, and no message ever holds a key.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from .._secret_files import OutputFileError, write_secret_file
from .errors import KeyStoreError

__all__ = ["RememberedKeys", "default_key_file", "KEY_FILE_NAME"]

KEY_FILE_NAME = "token-keys.json"
_FORMAT = "pyotp-hw remembered OATH access keys"
_VERSION = 1
_KEY_LENGTH = 16
_MAX_FILE = 1 << 20  # far more than any number of tokens needs


def default_key_file() -> Path:
    """``$XDG_CONFIG_HOME/pyotp-hw/token-keys.json``, with ``~/.config`` for an unset (or not
    absolute) ``XDG_CONFIG_HOME``, as the XDG base directory rules say."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "pyotp-hw" / KEY_FILE_NAME


class RememberedKeys:
    """The access keys remembered on this machine, by device id, in one 0600 file.

    Every method reads the file afresh (another process may have changed it) and every change
    rewrites it atomically. A missing file holds no keys.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_key_file()

    def __repr__(self) -> str:
        return f"RememberedKeys({str(self.path)!r})"

    # --- reading ------------------------------------------------------------------------------

    def _read(self) -> dict[str, str]:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise KeyStoreError(self._cannot("read", exc)) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise KeyStoreError(f"{self.path} is not a regular file: remove it")
            if info.st_mode & 0o077:
                raise KeyStoreError(
                    f"{self.path} may be read by other users (mode {stat.S_IMODE(info.st_mode):o}):"
                    " its keys unlock tokens; make it private (chmod 600) or remove it"
                )
            raw = os.read(fd, _MAX_FILE + 1)
        finally:
            os.close(fd)
        return self._parse(raw)

    def _cannot(self, verb: str, exc: OSError) -> str:
        import errno

        if exc.errno == errno.ELOOP:
            return f"cannot {verb} {self.path}: it is a symbolic link (not followed)"
        return f"cannot {verb} {self.path}: {exc.strerror or type(exc).__name__}"

    def _parse(self, raw: bytes) -> dict[str, str]:
        damaged = f"{self.path} is damaged or not a file of remembered keys: remove it"
        if len(raw) > _MAX_FILE:
            raise KeyStoreError(damaged)
        document: object = None
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            pass  # raised below, outside this handler: the error must not carry the text
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise KeyStoreError(damaged)
        if document.get("version") != _VERSION:
            raise KeyStoreError(f"{self.path} has a format version this pyotp-hw does not know")
        keys = document.get("keys")
        if not isinstance(keys, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _is_key_hex(v) for k, v in keys.items()
        ):
            raise KeyStoreError(damaged)
        return dict(keys)

    def device_ids(self) -> list[str]:
        """The device ids a key is remembered for."""
        return sorted(self._read())

    def __contains__(self, device_id: object) -> bool:
        return isinstance(device_id, str) and device_id in self._read()

    def get(self, device_id: str) -> bytes | None:
        """The key remembered for ``device_id``, or None."""
        value = self._read().get(device_id)
        return bytes.fromhex(value) if value is not None else None

    # --- changing -----------------------------------------------------------------------------

    def _write(self, keys: dict[str, str]) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyStoreError(self._cannot("create the folder of", exc)) from None
        document = {"format": _FORMAT, "version": _VERSION, "keys": dict(sorted(keys.items()))}
        data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
        try:
            write_secret_file(self.path, data, replace=True)
        except OutputFileError as exc:
            raise KeyStoreError(str(exc)) from None

    def put(self, device_id: str, key: bytes) -> None:
        """Remember ``key`` (16 bytes) for the token ``device_id``, replacing an older one."""
        if not isinstance(device_id, str) or not device_id:
            raise KeyStoreError("a remembered key needs the token's device id")
        if not isinstance(key, (bytes, bytearray)) or len(key) != _KEY_LENGTH:
            raise KeyStoreError(f"an access key is {_KEY_LENGTH} bytes")
        keys = self._read()
        keys[device_id] = bytes(key).hex()
        self._write(keys)

    def forget(self, device_id: str) -> bool:
        """Forget the key of ``device_id``; return whether there was one."""
        keys = self._read()
        if device_id not in keys:
            return False
        del keys[device_id]
        self._write(keys)
        return True

    def forget_all(self) -> int:
        """Forget every key; return how many there were."""
        keys = self._read()
        if keys:
            self._write({})
        return len(keys)


def _is_key_hex(value: str) -> bool:
    return len(value) == 2 * _KEY_LENGTH and all(c in "0123456789abcdef" for c in value)
