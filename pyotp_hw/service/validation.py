"""Strict request bodies: JSON objects with exactly the expected fields, each of its type.

Every refusal is a :class:`BadRequest` naming the field (``items[3].code``), never quoting a
value (a code or a secret could be in it). JSON is parsed strictly: duplicate keys, ``NaN`` and
``Infinity``, and any top level but an object are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Literal, NoReturn, TypeVar, overload
from urllib.parse import parse_qsl

from .._types import JSONObject
from ..errors import InvalidArgument, InvalidType
from ..verifier import Verifier

__all__ = ["BadRequest", "parse_json", "parse_form", "Fields", "check_user_field",
           "plain_verify_body"]

MAX_CODE_LEN = 64
MAX_TEXT_LEN = 255

_T = TypeVar("_T")
_V = TypeVar("_V")


class BadRequest(InvalidArgument):
    """A request the service refuses with 400 (or ``status``); ``field`` names the culprit."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON error body."""
        out = {"error": str(self)}
        if self.field is not None:
            out["field"] = self.field
        return out


def _no_duplicates(pairs: Iterable[tuple[str, _V]]) -> dict[str, _V]:
    out: dict[str, _V] = {}
    for k, v in pairs:
        if k in out:
            raise BadRequest(f"{k}: given twice", k)
        out[k] = v
    return out


def _no_constant(name: str) -> NoReturn:
    raise BadRequest(f"{name} is not a JSON number")


# Built once: json.loads with hooks builds a new decoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def parse_json(body: bytes) -> JSONObject:
    """The request body as a JSON object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    try:
        data = _DECODER.decode(text)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (each field at most once)."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=False,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form body is not valid") from None
    return _no_duplicates(pairs)


class Fields:
    """The fields of one object: each read once, the rest refused as unknown."""

    def __init__(self, data: Mapping[str, object], where: str = "") -> None:
        self._data = data
        self._where = where
        self._seen: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self._where}.{key}" if self._where else key

    @overload
    def get(self, key: str, kind: type[_T], *, required: Literal[True] = ...) -> _T: ...
    @overload
    def get(self, key: str, kind: type[_T], *, required: bool, default: _T) -> _T: ...
    @overload
    def get(self, key: str, kind: type[_T], *, required: bool, default: None = ...
            ) -> _T | None: ...
    @overload
    def get(self, key: str, kind: tuple[type, ...], *, required: bool = ...,
            default: object = ...) -> object: ...
    def get(self, key: str, kind: type | tuple[type, ...], *, required: bool = True,
            default: object = None) -> object:
        """The field's value, of ``kind`` (bool is not an int here)."""
        self._seen.add(key)
        if key not in self._data:
            if required:
                raise BadRequest(f"{self._name(key)}: missing", self._name(key))
            return default
        value = self._data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds).replace("str", "string").replace(
                "list", "array").replace("dict", "object").replace("int", "integer")
            raise BadRequest(f"{self._name(key)}: must be a {names}", self._name(key))
        return value

    @overload
    def text(self, key: str, *, required: Literal[True] = ..., limit: int = ...) -> str: ...
    @overload
    def text(self, key: str, *, required: bool, limit: int = ...) -> str | None: ...
    def text(self, key: str, *, required: bool = True, limit: int = MAX_TEXT_LEN) -> str | None:
        """A string field of at most ``limit`` characters."""
        value = self.get(key, str, required=required)
        if value is not None and len(value) > limit:
            raise BadRequest(f"{self._name(key)}: longer than {limit} characters",
                             self._name(key))
        return value

    def code(self, key: str = "code") -> str:
        """A code field (its digits are the verifier's to judge: a bad code is a rejection)."""
        return self.text(key, limit=MAX_CODE_LEN)

    def user(self, key: str = "user") -> str:
        """A user id field, checked as the verifier checks user ids."""
        return check_user_field(self.get(key, str), self._name(key))

    def done(self) -> None:
        """Refuse any field not read."""
        extra = sorted(set(self._data) - self._seen)
        if extra:
            raise BadRequest(f"{self._name(extra[0])}: unknown field", self._name(extra[0]))


def check_user_field(user: object, name: str = "user") -> str:
    """``user`` as the verifier accepts user ids, else :class:`BadRequest` naming ``name``."""
    try:
        return Verifier.check_user(user)
    except (InvalidArgument, InvalidType) as exc:
        raise BadRequest(f"{name}: {exc}", name) from None



# A verify body as clients write it: {"user": ..., "code": ...} in either order, JSON whitespace
# only, a user id of printable ASCII without quote or backslash (so always one the verifier
# takes: 1 to 255 characters, no NUL) and a code of 1 to 64 digits. Without escapes the text
# between the quotes is the value. Any other body is left to parse_json and Fields.
_WS = rb"[ \t\n\r]*"
_USER = _WS + rb'"user"' + _WS + rb":" + _WS + rb'"([\x20\x21\x23-\x5b\x5d-\x7e]{1,255})"' + _WS
_CODE = _WS + rb'"code"' + _WS + rb":" + _WS + rb'"([0-9]{1,%d})"' % MAX_CODE_LEN + _WS
_USER_FIRST = re.compile(_WS + rb"\{" + _USER + rb"," + _CODE + rb"\}" + _WS)
_CODE_FIRST = re.compile(_WS + rb"\{" + _CODE + rb"," + _USER + rb"\}" + _WS)


def plain_verify_body(body: bytes) -> tuple[str, str] | None:
    """(user, code) of a verify body in the plain form above, or None for any other body
    (which :func:`parse_json` and :class:`Fields` then judge). Whatever it returns, those two
    would return too."""
    m = _USER_FIRST.fullmatch(body)
    if m is not None:
        return m.group(1).decode("ascii"), m.group(2).decode("ascii")
    m = _CODE_FIRST.fullmatch(body)
    if m is not None:
        return m.group(2).decode("ascii"), m.group(1).decode("ascii")
    return None
