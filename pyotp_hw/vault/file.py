"""The vault file: canonical JSON, checked byte for byte, written atomically.

The file is one JSON object in canonical form (sorted keys, no spaces, ASCII, one final newline):
``format`` ``"pyotp-hw-vault"``, ``version`` 1, ``generation`` (a count of writes), ``slots``
(the unlocker slots, see :mod:`.slots`) and ``payload``: the seeds and the verifier key sealed
under the data key with AES-256-GCM, whose associated data is the SHA-256 of the rest of the
document. A file that is not exactly the canonical form of what it parses to was changed (an
added space counts); a changed slot fails the payload; a changed payload fails its tag. Nothing
of a file that fails a check is used.

A write goes to a new 0600 file beside the vault, is fsynced, renamed over the vault, and the
folder is fsynced: a crash at any moment leaves the old file or the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from .._types import JSONObject
from ..sealing import Aead, SealFormatError, SealOpenFailed
from ..secret_files import OutputFileError, write_secret_file
from .errors import VaultChanged, VaultCorrupted, VaultFileError, VaultVersionError
from .slots import Slot, b64, unb64

__all__ = ["FORMAT", "VERSION", "Document", "Payload", "read_document", "write_document",
           "seal_payload", "open_payload", "MAX_FILE_BYTES"]

FORMAT = "pyotp-hw-vault"
VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
_PAYLOAD_AAD = b"pyotp-hw-vault/1\x00payload\x00"
_FIELDS = {"format", "version", "generation", "slots", "payload"}


class Payload(TypedDict):
    """The sealed contents of a vault: its seeds (name to ``otpauth://`` URI) and verifier key."""

    seeds: dict[str, str]
    verifier_key: str | None  # base64 of 32 bytes, or None until first used


def canonical(value: object) -> bytes:
    """The one byte form of a JSON value this file uses (json.dumps refuses anything else)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


@dataclass
class Document:
    """A vault file's contents: the slots in clear and the sealed payload."""

    generation: int
    slots: list[Slot]
    payload: bytes

    def header(self) -> JSONObject:
        """Everything but the payload (what the payload's associated data digests)."""
        return {"format": FORMAT, "version": VERSION, "generation": self.generation,
                "slots": [s.to_json() for s in self.slots]}

    def encode(self) -> bytes:
        """The file's bytes."""
        return canonical({**self.header(), "payload": b64(self.payload)}) + b"\n"

    def payload_aad(self) -> bytes:
        """Associated data of the payload: it binds every other byte of the file."""
        return _PAYLOAD_AAD + hashlib.sha256(canonical(self.header())).digest()


def _parse(raw: bytes, name: str) -> Document:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise VaultCorrupted(f"{name} is not a vault file, or it was cut short or "
                             "changed") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise VaultCorrupted(f"{name} is not a pyotp-hw vault file")
    if data.get("version") != VERSION:
        raise VaultVersionError(f"{name} is a vault of format version {data.get('version')!r};"
                                f" this release reads version {VERSION}")
    if set(data) != _FIELDS:
        raise VaultCorrupted(f"{name} was changed: it has the wrong fields")
    try:
        again = canonical(data) + b"\n"
    except (ValueError, RecursionError):  # NaN or Infinity, or nested too deep
        again = b""
    if again != raw:
        raise VaultCorrupted(f"{name} was changed or cut short (it is not in the form the "
                             "vault writes)")
    generation, slots = data["generation"], data["slots"]
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
        raise VaultCorrupted(f"{name} was changed: its generation is not a count")
    if not isinstance(slots, list) or not slots:
        raise VaultCorrupted(f"{name} was changed: it has no unlocker slots")
    parsed = [Slot.from_json(s) for s in slots]
    if len({s.id for s in parsed}) != len(parsed):
        raise VaultCorrupted(f"{name} was changed: two slots have one id")
    return Document(generation, parsed, unb64(data["payload"], "the payload"))


def read_document(path: str | os.PathLike[str]) -> Document:
    """Read and check a vault file (everything but the sealed parts)."""
    target = Path(path)
    name = repr(str(target))
    try:
        with open(target, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise VaultFileError(f"no vault file at {name}") from None
    except OSError as exc:
        raise VaultFileError(f"cannot read the vault {name}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise VaultCorrupted(f"{name} is larger than any vault this release writes")
    return _parse(raw, name)


def write_document(path: str | os.PathLike[str], document: Document, *, replace: bool,
                   expect_generation: int | None = None) -> None:
    """Write the file atomically (0600; a new file unless ``replace``).

    With ``expect_generation`` the file must still be at that generation (checked under an
    advisory lock on ``.NAME.lock`` beside it, which every writer takes), else
    :class:`VaultChanged`: two writers never overwrite each other's change.
    """
    target = Path(path)
    with _locked(target):
        if expect_generation is not None:
            current = read_document(target).generation
            if current != expect_generation:
                raise VaultChanged(f"the vault {str(target)!r} was changed by someone else since "
                                   "it was opened: open it again")
        try:
            write_secret_file(target, document.encode(), replace=replace, sync_folder=True)
        except OutputFileError as exc:
            raise VaultFileError(str(exc)) from None


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no advisory locks
        yield
        return
    lock = target.with_name(f".{target.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise VaultFileError(f"cannot lock the vault {str(target)!r}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def seal_payload(document: Document, data_key: bytes | bytearray, payload: Payload) -> None:
    """Seal ``payload`` into ``document`` (after its slots are final)."""
    aead = Aead(data_key, feature="the vault", extra="vault")
    document.payload = aead.seal(canonical(payload), document.payload_aad())


def open_payload(document: Document, data_key: bytes | bytearray) -> JSONObject:
    """The payload of ``document``; VaultCorrupted when any byte of the file was changed.

    Its fields are the caller's to check (the seal proves who wrote it, not its shape).
    """
    aead = Aead(data_key, feature="the vault", extra="vault")
    try:
        buf = aead.open_into(document.payload, document.payload_aad())
    except (SealOpenFailed, SealFormatError):
        raise VaultCorrupted("the vault file was changed: its contents do not authenticate "
                             "under the key its unlocker opened") from None
    try:
        data = json.loads(bytes(buf))
    except ValueError:  # pragma: no cover - authenticated, so written by us
        raise VaultCorrupted("the vault's contents are damaged") from None
    finally:
        buf[:] = bytes(len(buf))
    if not isinstance(data, dict):  # pragma: no cover - authenticated
        raise VaultCorrupted("the vault's contents are damaged")
    return data
