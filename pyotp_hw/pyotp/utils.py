"""pyotp's helpers: ``build_uri`` (provisioning URIs) and ``strings_equal`` (code comparison).

``strings_equal`` compares NFKC-normalised text in constant time, so that a code typed with
full-width digits matches; inputs longer than :data:`MAX_COMPARISON_LENGTH` code points are
refused before normalisation, which would otherwise cost time proportional to an attacker's
input (pyotp 2.12's guard for CVE-2026-3276).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from hmac import compare_digest
from urllib.parse import quote, urlencode, urlparse

from ..errors import InvalidArgument, InvalidType

__all__ = [
    "build_uri",
    "strings_equal",
    "compare_digest",
    "bounded_nfkc",
    "refuse_clashes",
    "MAX_COMPARISON_LENGTH",
]

#: The longest text, in code points, that :func:`strings_equal` normalises and compares.
MAX_COMPARISON_LENGTH = 1024


def bounded_nfkc(text: str) -> str | None:
    """``text`` in Unicode NFKC form, or None when it is too long to be worth normalising.

    ASCII text is already in NFKC form and is returned as it is.
    """
    if len(text) > MAX_COMPARISON_LENGTH:
        return None
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def strings_equal(s1: str, s2: str) -> bool:
    """True when ``s1`` and ``s2`` are equal after NFKC normalisation, compared in constant time.

    Only the lengths can leak through timing. Either input longer than
    :data:`MAX_COMPARISON_LENGTH` code points gives False without being normalised.
    """
    for value in (s1, s2):
        if not isinstance(value, str):
            raise InvalidType(f"strings_equal compares str values, not {type(value).__name__}")
    left = bounded_nfkc(s1)
    right = bounded_nfkc(s2)
    if left is None or right is None:
        return False
    # surrogatepass: a lone surrogate (not encodable as UTF-8) still compares, as unequal.
    return compare_digest(
        left.encode("utf-8", "surrogatepass"), right.encode("utf-8", "surrogatepass")
    )


def _check_image(value: str) -> None:
    parts = urlparse(value)
    if parts.scheme != "https" or not parts.netloc or not parts.path:
        raise InvalidArgument("image must be an https:// URL with a host and a path")


def refuse_clashes(extra: Mapping[str, object], taken: tuple[str, ...]) -> None:
    """Refuse extra URI parameters that ``provisioning_uri`` already passes by name.

    (Python itself would raise a bare TypeError about "multiple values" for them.)
    """
    clash = sorted(set(extra) & set(taken))
    if clash:
        raise InvalidType(
            f"provisioning_uri() sets {', '.join(clash)} itself; do not pass it as an extra "
            "parameter"
        )


def build_uri(
    secret: str | bytes,
    name: str,
    initial_count: int | None = None,
    issuer: str | None = None,
    algorithm: str | None = None,
    digits: int | None = None,
    period: int | None = None,
    **kwargs: str,
) -> str:
    """An ``otpauth://`` provisioning URI, formatted exactly as pyotp formats it.

    With ``initial_count`` (0 included) the URI is ``hotp``, otherwise ``totp``. The label is
    ``issuer:name`` percent-encoded (``@`` becomes ``%40``, ``/`` stays); ``algorithm``, ``digits``
    and ``period`` appear only when they differ from SHA1, 6 and 30. Extra parameters must be
    strings; ``image`` must be an https URL. The URI contains the secret.
    """
    if not isinstance(name, str):
        raise InvalidType(f"the account name must be a str, not {type(name).__name__}")
    if issuer is not None and not isinstance(issuer, str):
        raise InvalidType(f"issuer must be a str, not {type(issuer).__name__}")
    query: dict[str, object] = {"secret": secret}
    label = quote(name)
    if issuer is not None:
        label = f"{quote(issuer)}:{label}"
        query["issuer"] = issuer
    if initial_count is not None:
        query["counter"] = initial_count
    if algorithm is not None and algorithm != "sha1":
        query["algorithm"] = algorithm.upper()
    if digits is not None and digits != 6:
        query["digits"] = digits
    if period is not None and period != 30:
        query["period"] = period
    for key, value in kwargs.items():
        if not isinstance(value, str):
            raise InvalidType(
                f"otpauth URI parameter {key!r} must be a str, not {type(value).__name__}"
            )
        if key == "image":
            _check_image(value)
        query[key] = value
    kind = "hotp" if initial_count is not None else "totp"
    # urlencode writes spaces as '+'; otpauth readers expect %20 (a literal '+' is already %2B).
    return f"otpauth://{kind}/{label}?{urlencode(query).replace('+', '%20')}"
