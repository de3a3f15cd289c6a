"""The core's constants and status codes: digest ids, limits, and C status codes as exceptions."""

from __future__ import annotations

from typing import Any, TypeAlias

from .._core import ffi, lib
from ..errors import InvalidArgument, InvalidType, NativeError

__all__ = [
    "DIGEST_IDS",
    "MAX_DIGITS",
    "MAX_WINDOW",
    "MIN_DIGITS",
    "RAW_DIGITS",
    "CData",
    "check_status",
    "digest_id",
    "digest_name",
]

CData: TypeAlias = Any
"""A cffi ``<cdata>`` value (a C pointer, array or struct). cffi ships no types, so this names
the opaque pointer type in signatures; it is ``Any`` to mypy."""

DIGEST_IDS: dict[str, int] = {
    "sha1": int(lib.OTP_SHA1),
    "sha256": int(lib.OTP_SHA256),
    "sha512": int(lib.OTP_SHA512),
}
_DIGEST_NAMES = {v: k for k, v in DIGEST_IDS.items()}
MAX_WINDOW: int = lib.OTP_MAX_WINDOW
MIN_DIGITS: int = lib.OTP_MIN_DIGITS
MAX_DIGITS: int = lib.OTP_MAX_DIGITS
RAW_DIGITS: int = lib.OTP_RAW_DIGITS
"""``digits`` value that asks the C core for the 31-bit truncated value itself."""
_U64_MAX = (1 << 64) - 1


def digest_id(digest: object) -> int:
    """Return the C id of a digest given as a name ("sha1", "SHA-256") or a hashlib constructor."""
    if type(digest) is str:
        known = DIGEST_IDS.get(digest)
        if known is not None:
            return known
    name = digest
    if not isinstance(digest, str):
        name = getattr(digest, "name", None)
        if name is None and callable(digest):
            # A callable that is no hash constructor: it wants arguments, or what it returns has
            # no name. Anything else it raises is its own failure and propagates as it is.
            try:
                name = digest().name
            except (TypeError, AttributeError) as exc:
                raise InvalidType("digest must be 'sha1', 'sha256' or 'sha512'") from exc
    if not isinstance(name, str):
        raise InvalidType(
            f"digest must be a str or hashlib constructor, not {type(digest).__name__}"
        )
    key = name.lower().replace("-", "").replace("_", "")
    if key.startswith("hmac"):
        key = key[4:]
    if key not in DIGEST_IDS:
        raise InvalidArgument(f"digest must be sha1, sha256 or sha512, not {name!r}")
    return DIGEST_IDS[key]


def digest_name(ident: int) -> str:
    """Return the canonical name ("sha1", ...) of a C digest id."""
    return _DIGEST_NAMES[ident]


def check_status(
    status: int, err_index: CData | None = None, *, names: dict[int, str] | None = None
) -> None:
    """Raise the Python exception matching a C status code (no-op for success)."""
    if status == lib.OTP_OK:
        return
    message = ffi.string(lib.otp_strerror(status)).decode("ascii")
    where = ""
    if err_index is not None and err_index[0] != _U64_MAX:
        where = f" (item {int(err_index[0])})"
    if names and status in names:
        message = f"{names[status]}: {message}"
    if status == lib.OTP_E_NOMEM:
        raise MemoryError(message)
    if status in (lib.OTP_E_KERNEL, lib.OTP_E_NULL, lib.OTP_E_STRIDE, lib.OTP_E_CLOCK):
        raise NativeError(message + where)
    raise InvalidArgument(message + where)


def _err_slot() -> CData:
    slot = ffi.new("size_t *")
    slot[0] = _U64_MAX
    return slot
