"""Typed reads of a CTAP2 parameter map: a missing field or a wrong type is a CTAP2 status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from ...._types import CBORValue
from .status import CtapFailure, Status

__all__ = ["Params", "Response", "get_bytes", "get_text", "get_uint", "get_map", "get_list",
           "get_bool"]

Params = Mapping[CBORValue, CBORValue]
"""A CTAP2 parameter map as decoded (int keys at the top, text keys inside)."""
Response = dict[int, CBORValue]
"""A CTAP2 response map, before it is CBOR-encoded."""
_T = TypeVar("_T")


def _get(params: Params, key: CBORValue, required: bool) -> CBORValue:
    if key not in params:
        if required:
            raise CtapFailure(Status.MISSING_PARAMETER)
        return None
    value = params[key]
    if value is None:  # CTAP2 never sends null: it leaves the field out
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    return value


def _typed(value: CBORValue, kind: type[_T]) -> _T:
    if isinstance(value, bool) and kind is not bool:
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    if not isinstance(value, kind):
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    return value


def get_bytes(params: Params, key: CBORValue, *, required: bool = False) -> bytes | None:
    """A byte string, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else bytes(_typed(value, bytes))


def get_text(params: Params, key: CBORValue, *, required: bool = False) -> str | None:
    """A text string, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else str(_typed(value, str))


def get_uint(params: Params, key: CBORValue, *, required: bool = False) -> int | None:
    """An unsigned integer, or None when absent and not required."""
    value = _get(params, key, required)
    if value is None:
        return None
    number = int(_typed(value, int))
    if number < 0:
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    return number


def get_map(params: Params, key: CBORValue, *, required: bool = False
            ) -> dict[CBORValue, CBORValue] | None:
    """A map, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else dict(_typed(value, dict))


def get_list(params: Params, key: CBORValue, *, required: bool = False
             ) -> list[CBORValue] | None:
    """An array, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else list(_typed(value, list))


def get_bool(params: Params, key: CBORValue, *, required: bool = False) -> bool | None:
    """A boolean, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else bool(_typed(value, bool))
