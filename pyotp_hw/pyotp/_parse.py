"""``parse_uri``: an ``otpauth://`` URI to a HOTP, TOTP or Steam object, by pyotp's rules.

The rules, those of pyotp 2.12: the label is split at its first literal ':' before being
percent-decoded (so an encoded ``%3A`` stays part of the issuer or name); each security parameter
(secret, issuer, algorithm, encoder, digits, period, counter) may appear once, even when empty;
empty values are otherwise ignored; ``digits`` must be 6, 7 or 8 unless ``encoder=steam``; an
issuer in both the label and the query must be the same. Error texts are pyotp's, since callers
match on them.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from ..errors import InvalidType, InvalidURI
from .contrib.steam import Steam
from .hotp import HOTP
from .otp import OTP
from .totp import TOTP

__all__ = ["parse_uri"]

_SECURITY_PARAMETERS = frozenset(
    {"secret", "issuer", "algorithm", "encoder", "digits", "period", "counter"}
)
_ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
# The keyword arguments each class takes, beyond the secret.
_ACCEPTS = {
    Steam: frozenset({"name", "issuer", "interval", "digits"}),
    TOTP: frozenset({"name", "issuer", "digest", "digits", "interval"}),
    HOTP: frozenset({"name", "issuer", "digest", "digits", "initial_count"}),
}
_PARAMETER_OF = {"digest": "algorithm", "interval": "period", "initial_count": "counter"}


def _integer(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidURI(f"the {key} parameter must be a whole number") from None


def parse_uri(uri: str) -> OTP:
    """The :class:`HOTP`, :class:`TOTP` or :class:`~pyotp_hw.pyotp.contrib.Steam` of ``uri``.

    Raises a ValueError subclass for a URI that is not a usable ``otpauth://`` URI.
    """
    if not isinstance(uri, str):
        raise InvalidType(f"uri must be a str, not {type(uri).__name__}")
    try:
        parts = urlparse(uri)
    except ValueError:
        raise InvalidURI("the URI cannot be parsed (malformed host part)") from None
    if parts.scheme != "otpauth":
        raise InvalidURI("Not an otpauth URI")

    fields: dict[str, Any] = {}
    label = parts.path[1:].split(":", 1)
    if len(label) == 2:
        fields["issuer"] = unquote(label[0])
    fields["name"] = unquote(label[-1])

    secret = None
    encoder = None
    digits = None
    seen: set[str] = set()
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _SECURITY_PARAMETERS:
            if key in seen:
                raise InvalidURI(f"Duplicate {key} parameter")
            seen.add(key)
        if not value:
            continue
        if key == "secret":
            secret = value
        elif key == "issuer":
            if fields.get("issuer") is not None and fields["issuer"] != value:
                raise InvalidURI(
                    "If issuer is specified in both label and parameters, it should be equal."
                )
            fields["issuer"] = value
        elif key == "algorithm":
            if value not in _ALGORITHMS:
                raise InvalidURI("Invalid value for algorithm, must be SHA1, SHA256 or SHA512")
            fields["digest"] = _ALGORITHMS[value]
        elif key == "encoder":
            encoder = value
        elif key == "digits":
            digits = fields["digits"] = _integer(key, value)
        elif key == "period":
            fields["interval"] = _integer(key, value)
        elif key == "counter":
            fields["initial_count"] = _integer(key, value)

    if encoder != "steam" and digits is not None and digits not in (6, 7, 8):
        raise InvalidURI("Digits may only be 6, 7, or 8")
    if not secret:
        raise InvalidURI("No secret found in URI")

    kind: type[OTP]
    if encoder == "steam":
        kind = Steam
    elif parts.netloc == "totp":
        kind = TOTP
    elif parts.netloc == "hotp":
        kind = HOTP
    else:
        raise InvalidURI("Not a supported OTP type")
    for field in fields:
        if field not in _ACCEPTS[kind]:
            # pyotp fails here with a TypeError from the constructor call; so does this, typed.
            raise InvalidType(
                f"a {kind.__name__} URI cannot carry the {_PARAMETER_OF[field]} parameter"
            )
    return kind(secret, **fields)
