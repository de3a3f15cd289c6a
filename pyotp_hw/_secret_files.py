"""Writing files that hold secrets (QR images of otpauth URIs, URI files): mode 0600, no links.

A file is created with its mode given to ``os.open`` (never chmod after the fact), so it is
never readable by others, whatever the umask. A symbolic link at the destination is refused
rather than followed (following one lets whoever planted it choose which file is truncated).
Replacing an existing file, where allowed, goes through a private temporary file and a rename,
so readers see the old file or the new one, never half of one. :func:`check_output` runs the
same checks without writing, for callers that must know before their first side effect.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from .errors import OTPError

__all__ = ["OutputFileError", "Reservation", "check_output", "reserve", "write_secret_file"]

_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class OutputFileError(OTPError, OSError):
    """A file cannot be written where it was asked for; the message says why and what to do."""


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.ELOOP:
        return "it is a symbolic link (not followed: give the real path)"
    return os.strerror(exc.errno) if exc.errno else type(exc).__name__


def check_output(path: str | os.PathLike[str], *, replace: bool) -> Path:
    """Raise :class:`OutputFileError` unless ``path`` can be written; return it as a Path.

    Refused: a symbolic link, anything but a regular file at ``path``, an existing file when
    ``replace`` is false, a missing or unwritable folder.
    """
    target = Path(os.fspath(path))
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputFileError(f"cannot write {target}: {_reason(exc)}") from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OutputFileError(
                f"cannot write {target}: it is a symbolic link (not followed: give the real path)"
            )
        if not stat.S_ISREG(info.st_mode):
            raise OutputFileError(f"cannot write {target}: it exists and is not a regular file")
        if not replace:
            raise OutputFileError(
                f"cannot write {target}: the file exists (remove it or choose another name)"
            )
    folder = target.parent
    if not folder.is_dir():
        raise OutputFileError(f"cannot write {target}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(f"cannot write {target}: permission denied in {folder}")
    return target


def _create(path: Path) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, _MODE)
    except FileExistsError:
        raise OutputFileError(
            f"cannot write {path}: the file exists (remove it or choose another name)"
        ) from None
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {_reason(exc)}") from None


def _write_all(fd: int, data: bytes, path: Path) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {_reason(exc)}") from None


class Reservation:
    """A new, empty 0600 file, created now and filled (or removed) later.

    A caller reserves its output before an irreversible step (storing a key on a token), then
    calls :meth:`fill` after it, or :meth:`discard` when the step failed.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def fill(self, data: bytes) -> None:
        """Write ``data`` into the reserved file and close it."""
        fd = self._take()
        try:
            _write_all(fd, data, self.path)
        finally:
            os.close(fd)

    def discard(self) -> None:
        """Close and remove the reserved file (safe to call after :meth:`fill` failed)."""
        if self._fd is not None:
            os.close(self._take())
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def _take(self) -> int:
        if self._fd is None:
            raise OutputFileError(f"the reservation of {self.path} was already used")
        fd, self._fd = self._fd, None
        return fd


def reserve(path: str | os.PathLike[str]) -> Reservation:
    """Create ``path`` now as an empty 0600 file (it must not exist) and return the reservation."""
    target = check_output(path, replace=False)
    return Reservation(target, _create(target))


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it survives a crash (where the OS allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_secret_file(path: str | os.PathLike[str], data: bytes, *, replace: bool,
                      sync_folder: bool = False) -> None:
    """Write ``data`` to ``path`` as a 0600 file.

    With ``replace``, an existing regular file is replaced atomically (a temporary file in the
    same folder, fsynced, then a rename); otherwise an existing file is refused. A symbolic link
    at ``path`` is always refused. With ``sync_folder`` the folder is fsynced afterwards, so the
    new file (or the rename) is durable: a crash leaves the old file or the new one. Raises
    :class:`OutputFileError`.
    """
    target = check_output(path, replace=replace)
    if not replace:
        fd = _create(target)
        try:
            _write_all(fd, data, target)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            raise
        os.close(fd)
        if sync_folder:
            _sync_folder(target.parent)
        return
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = _create(temporary)
    try:
        try:
            _write_all(fd, data, target)
        finally:
            os.close(fd)
        try:
            # rename() replaces a link planted meanwhile instead of following it.
            os.replace(temporary, target)
        except OSError as exc:
            raise OutputFileError(f"cannot write {target}: {_reason(exc)}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if sync_folder:
        _sync_folder(target.parent)
