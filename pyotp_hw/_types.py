"""Names for what an argument really accepts, so that annotations can say it precisely.

Annotations only: nothing here is checked at run time (the functions that take these values
check them and raise :class:`~pyotp_hw.errors.InvalidType`). The module imports nothing from the
package, so a module of any floor may use it.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, SupportsFloat, SupportsIndex, TypeAlias

__all__ = [
    "ArrayInterface",
    "Buffer",
    "BufferProtocol",
    "CBORValue",
    "Digest",
    "Integers",
    "JSONObject",
    "JSONValue",
    "Named",
    "TimeValue",
    "Times",
]


class BufferProtocol(Protocol):
    """An object with ``__buffer__`` (PEP 688): ``bytes``, ``bytearray``, ``memoryview``, ``array``.

    The same structural type as ``collections.abc.Buffer`` (Python 3.12+). Type checkers see
    ``__buffer__`` on the builtin buffers whatever the Python version they check for.
    """

    def __buffer__(self, flags: int, /) -> memoryview:
        """A memoryview of the object's memory."""
        ...


class ArrayInterface(Protocol):
    """An object with numpy's ``__array_interface__``, such as a numpy array."""

    @property
    def __array_interface__(self) -> Mapping[str, object]:
        """How the array's memory is laid out."""
        ...


if sys.version_info >= (3, 12):
    Buffer: TypeAlias = BufferProtocol
else:
    # numpy declares ndarray.__buffer__ only for Python 3.12 on, though its arrays are buffers
    # on every version: checked for an older Python, a numpy array is known by its interface.
    Buffer: TypeAlias = BufferProtocol | ArrayInterface
"""An object exposing the buffer protocol (what ``memoryview()`` takes), numpy arrays included."""


class Named(Protocol):
    """Something with a digest name, such as a ``hashlib`` hash object (``.name == "sha256"``)."""

    @property
    def name(self) -> str:
        """The digest's name."""
        ...


Digest: TypeAlias = str | Named | Callable[[], Named]
"""A digest: a name ("sha1", "SHA-256", "hmac-sha512"), a hashlib constructor or a hash object."""

TimeValue: TypeAlias = SupportsIndex | SupportsFloat | datetime.datetime
"""One time: Unix seconds as an int, a real number (floored) or an aware ``datetime``."""

Integers: TypeAlias = SupportsIndex | Buffer | Sequence[SupportsIndex]
"""Whole numbers: one (broadcast), a sequence of them, or a 1-D buffer of an integer type."""

Times: TypeAlias = TimeValue | Buffer | Sequence[TimeValue]
"""Times: one (broadcast), a sequence of them, or a 1-D buffer of an integer or float type."""

JSONValue: TypeAlias = (
    bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
)
"""A value of a JSON document as :func:`json.loads` returns it."""

JSONObject: TypeAlias = dict[str, JSONValue]
"""A JSON object (the top of a parsed document)."""

CBORValue: TypeAlias = (
    bool | int | float | str | bytes | list["CBORValue"] | dict["CBORValue", "CBORValue"] | None
)
"""A CBOR data item as this package's decoder returns it (maps have int or text keys)."""
