"""``otpauth://`` key URIs: parse what real authenticators and sites produce, and build clean ones.

The format is the Key URI format that Google Authenticator introduced::

    otpauth://TYPE/LABEL?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30

``TYPE`` is ``totp`` or ``hotp`` (``steam``, as Aegis writes it, is read as Steam Guard TOTP),
``LABEL`` is ``account`` or ``issuer:account``. The parser forgives what exporters get wrong or
write differently (a ``%3A`` separator, ``+`` for spaces, lowercase algorithm names, padded
secrets, an issuer parameter that disagrees with the label) and keeps parameters it does not know,
so nothing is lost on the way through. What cannot be used raises :class:`InvalidURI` naming the
part at fault; no message ever contains the secret.
"""

from __future__ import annotations

import re
import warnings as _warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

from . import _native
from ._numbers import option
from .errors import InvalidArgument, InvalidSecret, InvalidURI
from .keys import decode_base32, encode_base32
from .kinds import DIGESTS, Digest, Kind, check_digest, check_kind

__all__ = [
    "OtpAuthURI",
    "URIWarning",
    "DIGESTS",
    "Digest",
    "Kind",
    "check_digest",
    "check_kind",
    "parse",
    "build",
    "entry",
    "extra_parameters",
]


_STEAM_DIGITS = 5
_MIN_DIGITS, _MAX_DIGITS = _native.MIN_DIGITS, _native.MAX_DIGITS
_MAX_PERIOD = 10 * 365 * 24 * 3600
_MAX_COUNTER = 2**64 - 1
# Parameters with a meaning of their own; everything else is kept verbatim in ``extra``.
_KNOWN = ("secret", "issuer", "algorithm", "digits", "period", "counter", "image", "encoder")
_SCHEME = re.compile(r"^otpauth://([^/?#]*)/?(.*)$", re.IGNORECASE | re.DOTALL)
_DECIMAL = re.compile(r"[0-9]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


class URIWarning(UserWarning):
    """Something in a URI was odd but usable; the text says what and what was done about it."""


@dataclass(frozen=True)
class OtpAuthURI:
    """The fields of one ``otpauth://`` URI, validated.

    ``digits`` is 6 to 10, or 5 for Steam Guard entries (``encoder == "steam"``, always TOTP,
    SHA-1, 30 s). ``period`` matters for TOTP only and ``counter`` for HOTP only (where it is
    required). ``extra`` keeps unknown parameters in their order; ``warnings`` lists what the
    parser noticed (it does not take part in comparisons). The secret is left out of ``repr``.
    """

    kind: Kind
    secret: bytes = field(repr=False)
    account: str
    issuer: str | None = None
    digest: str = "sha1"
    digits: int = 6
    period: int = 30
    counter: int | None = None
    image: str | None = None
    encoder: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        check_kind(self.kind)
        if not isinstance(self.secret, bytes) or not self.secret:
            raise InvalidURI("secret must be non-empty bytes")
        if not isinstance(self.account, str):
            raise InvalidURI("account must be a str")
        if self.issuer is not None and not isinstance(self.issuer, str):
            raise InvalidURI("issuer must be a str or None")
        check_digest(self.digest)
        if self.encoder is not None and self.encoder != "steam":
            raise InvalidURI(f"encoder must be 'steam' or None, not {self.encoder!r}")
        option(self.period, "period", 1, _MAX_PERIOD, error=InvalidURI)
        if self.encoder == "steam":
            if self.kind != "totp" or self.digest != "sha1" or self.period != 30:
                raise InvalidURI("Steam Guard entries are TOTP with SHA1 and a 30-second period")
            if self.digits != _STEAM_DIGITS:
                raise InvalidURI(f"Steam Guard codes have {_STEAM_DIGITS} characters (digits=5)")
        else:
            option(self.digits, "digits", _MIN_DIGITS, _MAX_DIGITS, error=InvalidURI)
        if self.kind == "hotp":
            if self.counter is None:
                raise InvalidURI("parameter 'counter' is required for hotp")
            option(self.counter, "counter", 0, _MAX_COUNTER, error=InvalidURI)
        elif self.counter is not None:
            raise InvalidURI("parameter 'counter' is only meaningful for hotp")
        for pair in self.extra:
            if (
                not isinstance(pair, tuple)
                or len(pair) != 2
                or not all(isinstance(p, str) for p in pair)
            ):
                raise InvalidURI("extra must be a tuple of (name, value) string pairs")
            name = pair[0].strip().lower()
            # A stray parameter of the other type is kept as it came (see parse()).
            stray = "period" if self.kind == "hotp" else "counter"
            if name in _KNOWN and name != stray:
                raise InvalidURI(f"extra parameter {pair[0]!r} clashes with a known parameter")
        texts = [("account", self.account), ("issuer", self.issuer), ("image", self.image)]
        texts += [("extra parameter", text) for pair in self.extra for text in pair]
        for what, text in texts:
            if text is None:
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidURI(f"{what} is not valid Unicode (it has a lone surrogate)") from None

    @property
    def label(self) -> str:
        """``issuer:account`` when there is an issuer, else ``account``."""
        return f"{self.issuer}:{self.account}" if self.issuer else self.account

    @property
    def is_steam(self) -> bool:
        """True for a Steam Guard entry (5-character codes)."""
        return self.encoder == "steam"

    @property
    def secret_base32(self) -> str:
        """The secret as uppercase unpadded base32 (for when the user asked to see it)."""
        return encode_base32(self.secret)

    def to_uri(self) -> str:
        """Return the canonical ``otpauth://`` text of these fields."""
        return _format(self)

    def as_dict(self, *, show_secret: bool = False) -> dict[str, object]:
        """Return the fields as plain JSON-ready values; the secret only when ``show_secret``."""
        out: dict[str, object] = {
            "type": self.kind,
            "label": self.label,
            "account": self.account,
            "issuer": self.issuer,
            "digest": self.digest,
            "digits": self.digits,
            "secret_bits": 8 * len(self.secret),
        }
        if self.kind == "totp":
            out["period"] = self.period
        else:
            out["counter"] = self.counter
        if self.is_steam:
            out["steam"] = True
        if self.image is not None:
            out["image"] = self.image
        if self.extra:
            out["extra"] = [list(pair) for pair in self.extra]
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if show_secret:
            out["secret"] = self.secret_base32
        return out


# ----------------------------------------------------------------------------------------------
# Parsing


def _check_text(text: str, part: str) -> None:
    """Refuse a lone surrogate without raising from inside the codec.

    ``str.encode`` would raise UnicodeEncodeError, whose args hold the whole text (it may be the
    secret) and would stay in the chain of whatever replaced it.
    """
    if _SURROGATE.search(text) is not None:
        raise InvalidURI(
            f"{part} is not valid text: it holds a lone surrogate, which is what Python makes of "
            "a byte that is not UTF-8 (in a command-line argument, say); write such bytes "
            "percent-encoded (%XX)"
        )


def _unquote(text: str, part: str, notes: list[str], *, plus: bool = True) -> str:
    """Percent-decode ``text`` (``+`` as space when ``plus``): UTF-8, else Latin-1 with a note."""
    _check_text(text, part)
    if plus:
        text = text.replace("+", " ")
    raw = unquote_to_bytes(text)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        notes.append(f"{part} is not valid UTF-8 once decoded; read it as Latin-1")
        return raw.decode("latin-1")


def _split_label(
    raw_label: str, issuer_param: str | None, notes: list[str]
) -> tuple[str | None, str]:
    """Return ``(issuer from the label or None, account)``."""
    if ":" in raw_label:
        # A literal ':' is the separator; colons inside either part arrive as %3A.
        left, right = raw_label.split(":", 1)
        label_issuer: str | None = _unquote(left, "label", notes)
        account = _unquote(right, "label", notes)
    else:
        decoded = _unquote(raw_label, "label", notes)
        label_issuer = None
        account = decoded
        if issuer_param and decoded.startswith(issuer_param + ":"):
            label_issuer, account = issuer_param, decoded[len(issuer_param) + 1 :]
        elif ":" in decoded:
            # Exporters that percent-encode the separator itself (issuer%3Aaccount).
            label_issuer, account = decoded.split(":", 1)
    # The format allows spaces after the separator ("Example: alice"). An empty issuer is how
    # the builder writes an account holding a colon (":a%3Ab"), so its spaces are the account's.
    if label_issuer:
        account = account.lstrip(" ")
    return label_issuer or None, account


def _shown(value: str) -> str:
    """Quote a bad value only when it is short: a long one may be a misplaced secret."""
    if len(value) <= 10:
        return repr(value)
    return f"a {len(value)}-character value"


def _parse_int(name: str, value: str, low: int, high: int) -> int:
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        raise InvalidURI(f"parameter {name!r} must be a whole number, got {_shown(value)}")
    significant = text.lstrip("0") or "0"
    # Checked before int(): Python refuses to convert strings of more than 4300 digits.
    if len(significant) > len(str(high)):
        raise InvalidURI(
            f"parameter {name!r} must be between {low} and {high}, got a "
            f"{len(significant)}-digit number"
        )
    number = int(significant)
    if not low <= number <= high:
        raise InvalidURI(f"parameter {name!r} must be between {low} and {high}, got {number}")
    return number


def _parse_digest(value: str) -> str:
    name = value.strip().lower().replace("-", "").replace("_", "")
    if name in DIGESTS:
        return name
    raise InvalidURI(
        f"parameter 'algorithm' must be SHA1, SHA256 or SHA512, got {_shown(value)}"
    )


def _parse_type(otp_type: str) -> tuple[Kind, str | None]:
    if otp_type == "steam":
        return "totp", "steam"
    if otp_type == "totp":
        return "totp", None
    if otp_type == "hotp":
        return "hotp", None
    if not otp_type:
        raise InvalidURI("URI has no type; expected otpauth://totp/... or otpauth://hotp/...")
    raise InvalidURI(f"unsupported OTP type {_shown(otp_type)}; expected totp or hotp")


def _parse_query(
    query: str, notes: list[str]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The known parameters (lowercase names) and the others, in order."""
    params: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        raw_key, _, raw_value = item.partition("=")
        key = _unquote(raw_key, "a parameter name", notes)
        lowered = key.strip().lower()
        if lowered not in _KNOWN:
            extra.append((key, _unquote(raw_value, f"parameter {_shown(key)}", notes)))
            continue
        if lowered == "secret":
            # The secret is base32 only; decoding it as UTF-8 text cannot fail in a way
            # worth a note, and any message about it must not quote it.
            _check_text(raw_value, "parameter 'secret'")
            value = unquote_to_bytes(raw_value.replace("+", " ")).decode("latin-1")
        else:
            value = _unquote(raw_value, f"parameter {lowered!r}", notes)
        if lowered in params and params[lowered] != value:
            raise InvalidURI(f"parameter {lowered!r} appears twice with different values")
        params[lowered] = value
    return params, extra


def _parse_names(
    raw_label: str, issuer_param: str | None, notes: list[str]
) -> tuple[str | None, str]:
    """``(issuer, account)`` from the label and the issuer parameter (which wins)."""
    if issuer_param is not None and not issuer_param.strip():
        issuer_param = None
    label_issuer, account = _split_label(raw_label, issuer_param, notes)
    issuer = issuer_param if issuer_param is not None else label_issuer
    if issuer_param is not None and label_issuer is not None and label_issuer != issuer_param:
        notes.append(
            f"issuer parameter {issuer_param!r} differs from the label's issuer "
            f"{label_issuer!r}; using the parameter"
        )
    if not account:
        notes.append("the label has no account name")
    return issuer, account


def _parse_digits(
    kind: Kind, encoder: str | None, issuer: str | None, digest: str, period: int,
    params: Mapping[str, str], notes: list[str],
) -> tuple[str | None, int]:
    """``(encoder, digits)``: Steam Guard is recognised here, by encoder or by issuer."""
    digits_given = "digits" in params
    digits = _parse_int("digits", params["digits"], 0, 10**6) if digits_given else 6
    if "encoder" in params:
        value = params["encoder"].strip().lower()
        if value != "steam":
            raise InvalidURI(f"unsupported parameter 'encoder' value {_shown(value)}")
        encoder = "steam"
    if encoder is None and issuer is not None and issuer.strip().lower() == "steam":
        if kind == "totp" and digest == "sha1" and period == 30 and digits in (5, 6):
            encoder = "steam"
            if digits_given and digits != _STEAM_DIGITS:
                notes.append("issuer is Steam: reading as Steam Guard (5-character codes)")
        else:
            notes.append(
                "issuer is Steam but the parameters are not Steam Guard's; read as standard "
                f"{kind.upper()}"
            )
    if encoder == "steam":
        if kind != "totp" or digest != "sha1" or period != 30:
            raise InvalidURI(
                "Steam Guard entries (encoder=steam) must be TOTP with SHA1 and period 30"
            )
        if digits_given and digits not in (_STEAM_DIGITS, 6):
            notes.append(f"Steam Guard codes have 5 characters; ignored digits={digits}")
        return encoder, _STEAM_DIGITS
    if not _MIN_DIGITS <= digits <= _MAX_DIGITS:
        raise InvalidURI(
            f"parameter 'digits' must be between {_MIN_DIGITS} and {_MAX_DIGITS}, got {digits}"
        )
    return encoder, digits


def _parse_counter(
    kind: Kind, params: Mapping[str, str], extra: list[tuple[str, str]]
) -> int | None:
    # A parameter meaningless for the kind is kept in ``extra`` so writing the URI back loses
    # nothing.
    if kind == "hotp":
        if "counter" not in params:
            raise InvalidURI("parameter 'counter' is required for hotp")
        if "period" in params:
            extra.append(("period", params["period"]))
        return _parse_int("counter", params["counter"], 0, _MAX_COUNTER)
    if "counter" in params:
        extra.append(("counter", params["counter"]))
    return None


def parse(uri: str) -> OtpAuthURI:
    """Parse an ``otpauth://totp|hotp/LABEL?...`` URI into its validated fields.

    Every note in the result's ``warnings`` is also issued as a :class:`URIWarning`.
    Raises :class:`InvalidURI` naming the unusable part; the message never contains the secret.
    """
    if not isinstance(uri, str):
        raise InvalidURI(f"URI must be a str, not {type(uri).__name__}")
    text = uri.strip()
    match = _SCHEME.match(text)
    if match is None:
        if text.lower().startswith("otpauth-migration:"):
            raise InvalidURI(
                "this is a Google Authenticator export (otpauth-migration://); "
                "import it with pyotp_hw.migration"
            )
        raise InvalidURI("URI must start with otpauth://")
    _check_text(match.group(1), "the OTP type")
    kind, encoder = _parse_type(match.group(1).lower())
    raw_label, _, query = match.group(2).partition("?")
    notes: list[str] = []
    params, extra = _parse_query(query, notes)

    if "secret" not in params or not params["secret"].strip():
        raise InvalidURI("parameter 'secret' is missing")
    try:
        secret = decode_base32(params["secret"])
    except InvalidSecret as exc:
        raise InvalidURI(f"parameter 'secret': {exc}") from None

    issuer, account = _parse_names(raw_label, params.get("issuer"), notes)
    digest = _parse_digest(params["algorithm"]) if "algorithm" in params else "sha1"
    period = 30
    if kind == "totp" and "period" in params:
        period = _parse_int("period", params["period"], 1, _MAX_PERIOD)
    encoder, digits = _parse_digits(kind, encoder, issuer, digest, period, params, notes)
    counter = _parse_counter(kind, params, extra)

    image = params.get("image")
    result = OtpAuthURI(
        kind=kind,
        secret=secret,
        account=account,
        issuer=issuer,
        digest=digest,
        digits=digits,
        period=period,
        counter=counter,
        image=image,
        encoder=encoder,
        extra=tuple(extra),
        warnings=tuple(notes),
    )
    for note in notes:
        _warnings.warn(note, URIWarning, stacklevel=2)
    return result


# ----------------------------------------------------------------------------------------------
# Building


def _q(text: str, safe: str) -> str:
    # quote() leaves '+' alone only when asked; the parser reads a bare '+' as a space.
    return quote(text, safe=safe)


def _format(entry: OtpAuthURI) -> str:
    label_safe = "@"
    value_safe = "@/:"
    account = _q(entry.account, label_safe)
    if entry.issuer:
        label = f"{_q(entry.issuer, label_safe)}:{account}"
    elif ":" in entry.account:
        # An empty issuer before a literal separator keeps the account's colons from being
        # read as an issuer:account split by lenient parsers (this one included).
        label = f":{account}"
    else:
        label = account
    params: list[tuple[str, str]] = [("secret", entry.secret_base32)]
    if entry.issuer:
        params.append(("issuer", entry.issuer))
    if entry.digest != "sha1":
        params.append(("algorithm", entry.digest.upper()))
    if entry.digits != 6:
        params.append(("digits", str(entry.digits)))
    if entry.kind == "totp":
        if entry.period != 30:
            params.append(("period", str(entry.period)))
    else:
        params.append(("counter", str(entry.counter)))
    if entry.image is not None:
        params.append(("image", entry.image))
    if entry.encoder is not None:
        params.append(("encoder", entry.encoder))
    params.extend(entry.extra)
    query = "&".join(f"{_q(k, '')}={_q(v, value_safe)}" for k, v in params)
    return f"otpauth://{entry.kind}/{label}?{query}"


def build(
    kind: str,
    secret: bytes | str,
    *,
    account: str,
    issuer: str | None = None,
    digest: str = "sha1",
    digits: int = 6,
    period: int = 30,
    counter: int | None = None,
    image: str | None = None,
    encoder: str | None = None,
    extra: Iterable[tuple[str, str]] | Mapping[str, str] = (),
) -> str:
    """Return an ``otpauth://`` URI for the given fields (secret as bytes or base32 text).

    ``kind`` is ``"totp"`` or ``"hotp"`` (``counter`` defaults to 0 for HOTP); ``encoder="steam"``
    makes a Steam Guard entry (``digits`` is then 5 whatever is passed). Raises
    :class:`InvalidURI` for fields that cannot be written.
    """
    return entry(
        kind,
        secret,
        account=account,
        issuer=issuer,
        digest=digest,
        digits=digits,
        period=period,
        counter=counter,
        image=image,
        encoder=encoder,
        extra=extra,
    ).to_uri()


def extra_parameters(
    extra: Mapping[str, object] | None,
) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """Split caller-given URI parameters into ``(image, encoder, other pairs)``.

    ``None`` values are dropped; a parameter the fields already carry (``secret``, ``digits``...)
    raises :class:`InvalidArgument`, since writing it would contradict them.
    """
    image = encoder = None
    other: list[tuple[str, str]] = []
    for key, value in (extra or {}).items():
        if value is None:
            continue
        lowered = key.lower()
        if lowered == "image":
            image = str(value)
        elif lowered == "encoder":
            encoder = str(value)
        elif lowered in _KNOWN:
            raise InvalidArgument(
                f"extra parameter {key!r} would contradict the object's own settings"
            )
        else:
            other.append((key, str(value)))
    return image, encoder, other


def entry(
    kind: str,
    secret: bytes | str,
    *,
    account: str,
    issuer: str | None,
    digest: str,
    digits: int,
    period: int,
    counter: int | None,
    image: str | None,
    encoder: str | None,
    extra: Iterable[tuple[str, str]] | Mapping[str, str],
) -> OtpAuthURI:
    """Return validated :class:`OtpAuthURI` fields (what :func:`build` writes as text)."""
    lowered = kind.lower() if isinstance(kind, str) else kind
    if lowered not in ("totp", "hotp"):
        raise InvalidURI(f"type must be 'totp' or 'hotp', not {kind!r}")
    if isinstance(secret, str):
        try:
            raw = decode_base32(secret)
        except InvalidSecret as exc:
            raise InvalidURI(f"secret: {exc}") from None
    elif isinstance(secret, (bytes, bytearray, memoryview)):
        raw = bytes(secret)
    else:
        raise InvalidURI(f"secret must be bytes or a base32 str, not {type(secret).__name__}")
    if isinstance(digest, str):
        digest = _parse_digest(digest)
    pairs = list(extra.items()) if isinstance(extra, Mapping) else list(extra)
    if encoder is not None:
        encoder = encoder.lower()
        if encoder == "steam":
            digits = _STEAM_DIGITS
    if lowered == "hotp" and counter is None:
        counter = 0
    return OtpAuthURI(
        kind="totp" if lowered == "totp" else "hotp",
        secret=raw,
        account=account,
        issuer=issuer or None,
        digest=digest,
        digits=digits,
        period=period,
        counter=counter,
        image=image,
        encoder=encoder,
        extra=tuple((str(k), str(v)) for k, v in pairs),
    )
