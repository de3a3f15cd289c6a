"""Hostile otpauth:// URIs: only InvalidURI comes out, and nothing it carries holds the secret.

Lone surrogates are what Python makes of a byte that is not UTF-8 in a command-line argument
(``os.fsdecode``'s surrogateescape); numbers of thousands of digits pass Python's int string
limit. Every parameter is fuzzed, with arbitrary text, surrogates and huge numbers.
"""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw import uri as U
from pyotp_hw.errors import InvalidURI

from ..typed_errors import assert_clean_error, fuzz

SECRET = "ZXCVBNMQWERTYUIOPASDFGHJKL234567"
# What a shell hands Python for a Latin-1 "é" typed into a UTF-8 argument.
LONE = os.fsdecode(b"\xe9")


def _parse_error(text: str) -> BaseException:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            U.parse(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "part"),
    [
        (f"otpauth://totp/A:b?secret={SECRET}{LONE}", "'secret'"),
        (f"otpauth://totp/A:b?secret={SECRET[:16]}{LONE}{SECRET[16:]}", "'secret'"),
        (f"otpauth://totp/A{LONE}:b?secret={SECRET}", "label"),
        (f"otpauth://totp/A:b?secret={SECRET}&issuer=A{LONE}", "'issuer'"),
        (f"otpauth://totp/A:b?secret={SECRET}&x{LONE}=1", "parameter name"),
        (f"otpauth://totp/A:b?secret={SECRET}&x=1{LONE}", "parameter"),
        (f"otpauth://to{LONE}tp/A:b?secret={SECRET}", "type"),
        (f"otpauth://totp/A:b?secret={SECRET}&image={LONE}", "'image'"),
    ],
)
def test_a_lone_surrogate_is_a_typed_error_without_the_secret(text: str, part: str) -> None:
    error = _parse_error(text)
    assert_clean_error(error, [SECRET, SECRET[:16], SECRET[16:], text])
    assert isinstance(error, InvalidURI) and part in str(error)
    assert "not valid" in str(error)


@pytest.mark.parametrize("name", ["digits", "period", "counter"])
@pytest.mark.parametrize("kind", ["totp", "hotp"])
def test_a_number_of_thousands_of_digits_is_a_typed_error(name: str, kind: str) -> None:
    counter = "" if name == "counter" else "&counter=0"
    text = f"otpauth://{kind}/A:b?secret={SECRET}{counter}&{name}={'9' * 5000}"
    if kind == "totp" and name == "counter":
        # A stray counter on a TOTP URI is kept as an unknown parameter, not read as a number.
        assert U.parse(text).extra == (("counter", "9" * 5000),)
        return
    if kind == "hotp" and name == "period":
        assert U.parse(text).extra == (("period", "9" * 5000),)
        return
    error = _parse_error(text)
    assert_clean_error(error, [SECRET])
    assert f"'{name}'" in str(error) and "5000-digit" in str(error)
    assert len(str(error)) < 200


def test_leading_zeros_are_still_a_number() -> None:
    entry = U.parse(f"otpauth://totp/A:b?secret={SECRET}&period={'0' * 5000}60")
    assert entry.period == 60


# --- fuzzing ------------------------------------------------------------------------------------

SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
                     max_size=3)
TEXT = st.text(max_size=30) | SURROGATES
NUMBER = (
    st.integers(-(10**30), 10**30).map(str)
    | st.integers(1, 6000).map(lambda n: "9" * n)
    | st.integers(1, 6000).map(lambda n: "0" * n + "7")
    | TEXT
)
PARAMS = ["secret", "issuer", "algorithm", "digits", "period", "counter", "image", "encoder"]


def _quoted(text: str) -> str:
    # Half of the values travel percent-encoded, as exporters write them; surrogates cannot be
    # encoded as UTF-8 and are put in raw.
    return "".join(ch if 0xD800 <= ord(ch) <= 0xDFFF else f"%{ord(ch):02X}" if ord(ch) < 128
                   else ch for ch in text)


@st.composite
def uris(draw: st.DrawFn) -> tuple[str, list[str]]:
    kind = draw(st.sampled_from(["totp", "hotp", "steam", "TOTP", ""]) | TEXT)
    label = draw(TEXT)
    secret = draw(st.sampled_from([SECRET, SECRET.lower(), SECRET + "="]) | TEXT)
    parts = [f"secret={secret}"]
    for name in draw(st.lists(st.sampled_from([*PARAMS, "x"]) | TEXT, max_size=8)):
        value = draw(NUMBER if name in ("digits", "period", "counter") else TEXT)
        if draw(st.booleans()):
            value = _quoted(value)
        parts.append(f"{name}={value}")
    order = draw(st.permutations(parts))
    text = f"otpauth://{kind}/{label}?{'&'.join(order)}"
    # The secret is looked for only where it is the secret: the same text elsewhere in the URI
    # (as the type, say) may be quoted back in good faith.
    secrets = [s for s in (secret, secret.strip("=")) if len(s) >= 6 and "&" not in s
               and text.count(s) == 1]
    return text, secrets


@fuzz
@given(case=uris())
def test_fuzzed_uris_raise_only_clean_typed_errors(case: tuple[str, list[str]]) -> None:
    text, secrets = case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            entry = U.parse(text)
        except Exception as exc:  # whatever escapes is checked
            assert_clean_error(exc, secrets)
            return
    # A usable URI: its repr and its notes do not carry the secret either.
    for secret in secrets:
        assert secret not in repr(entry)
        assert all(secret not in note for note in entry.warnings)
        assert all(secret not in str(w.message) for w in caught)


@fuzz
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(os.fsdecode))
def test_arbitrary_text_raises_only_typed_errors(text: str) -> None:
    for candidate in (text, "otpauth://" + text, "otpauth://totp/" + text):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                U.parse(candidate)
            except Exception as exc:  # whatever escapes is checked
                assert_clean_error(exc)
