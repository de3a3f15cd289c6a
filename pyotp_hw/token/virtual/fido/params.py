"""Typed reads of a CTAP2 parameter map: a missing field or a wrong type is a CTAP2 status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .status import CtapFailure, Status

__all__ = ["get_bytes", "get_text", "get_uint", "get_map", "get_list", "get_bool"]


def _get(params: Mapping[Any, Any], key: Any, required: bool) -> Any:
    if key not in params:
        if required:
            raise CtapFailure(Status.MISSING_PARAMETER)
        return None
    value = params[key]
    if value is None:  # CTAP2 never sends null: it leaves the field out
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    return value


def _typed(value: Any, kind: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) and kind is not bool:
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    if not isinstance(value, kind):
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    return value


def get_bytes(params: Mapping[Any, Any], key: Any, *, required: bool = False) -> bytes | None:
    """A byte string, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else bytes(_typed(value, bytes))


def get_text(params: Mapping[Any, Any], key: Any, *, required: bool = False) -> str | None:
    """A text string, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else str(_typed(value, str))


def get_uint(params: Mapping[Any, Any], key: Any, *, required: bool = False) -> int | None:
    """An unsigned integer, or None when absent and not required."""
    value = _get(params, key, required)
    if value is None:
        return None
    number = int(_typed(value, int))
    if number < 0:
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    return number


def get_map(params: Mapping[Any, Any], key: Any, *, required: bool = False
            ) -> dict[Any, Any] | None:
    """A map, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else dict(_typed(value, dict))


def get_list(params: Mapping[Any, Any], key: Any, *, required: bool = False
             ) -> list[Any] | None:
    """An array, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else list(_typed(value, list))


def get_bool(params: Mapping[Any, Any], key: Any, *, required: bool = False) -> bool | None:
    """A boolean, or None when absent and not required."""
    value = _get(params, key, required)
    return None if value is None else bool(_typed(value, bool))
