"""Unusable URIs raise InvalidURI naming the part at fault, and never quote the secret."""

from __future__ import annotations

import warnings

import pytest

from pyotp_hw import uri as U
from pyotp_hw.errors import InvalidArgument, InvalidURI, OTPError

# A distinctive secret: no message may contain it, whole or in the lowercase the user typed.
SECRET = "ZXCVBNMQWERTYUIOPASDFGHJKL234567"

BAD = [
    ("https://example.com/?secret=" + SECRET, "otpauth://"),
    ("otpauth://totp/A:b?issuer=A", "'secret' is missing"),
    ("otpauth://totp/A:b?secret=&issuer=A", "'secret' is missing"),
    ("otpauth://totp/A:b?secret=" + SECRET[:-1] + "0", "'secret'"),
    ("otpauth://totp/A:b?secret=" + SECRET[:9], "'secret'"),
    ("otpauth://totp/A:b?secret=" + SECRET.lower() + "!", "'secret'"),
    ("otpauth://hotp/A:b?secret=" + SECRET, "'counter' is required"),
    ("otpauth://hotp/A:b?secret=" + SECRET + "&counter=-1", "'counter'"),
    ("otpauth://hotp/A:b?secret=" + SECRET + "&counter=abc", "'counter'"),
    ("otpauth://hotp/A:b?secret=" + SECRET + f"&counter={2**64}", "'counter'"),
    ("otpauth://motp/A:b?secret=" + SECRET, "type 'motp'"),
    ("otpauth:///A:b?secret=" + SECRET, "no type"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&digits=5", "'digits'"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&digits=11", "'digits'"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&digits=six", "'digits'"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&period=0", "'period'"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&period=30s", "'period'"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&algorithm=MD5", "'algorithm'"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&encoder=yandex", "'encoder'"),
    ("otpauth://hotp/A:b?secret=" + SECRET + "&counter=1&encoder=steam", "Steam"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&encoder=steam&period=60", "Steam"),
    ("otpauth://totp/A:b?secret=" + SECRET + "&digits=6&digits=8", "appears twice"),
    ("otpauth-migration://offline?data=" + SECRET, "otpauth-migration"),
    # A secret pasted into the wrong parameter is not quoted back either.
    ("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&digits=" + SECRET, "32-character value"),
    ("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&algorithm=" + SECRET, "'algorithm'"),
    ("otpauth://" + SECRET + "/A:b?secret=JBSWY3DPEHPK3PXP", "unsupported OTP type"),
]


@pytest.mark.parametrize(("text", "part"), BAD, ids=[b[1] + " " + b[0][:30] for b in BAD])
def test_unusable_uri_names_the_part(text: str, part: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InvalidURI) as info:
            U.parse(text)
    message = str(info.value)
    assert part in message
    assert SECRET not in message
    assert SECRET.lower() not in message
    assert SECRET[:8] not in message and SECRET[8:16] not in message
    # The tree: InvalidURI is an OTPError and a ValueError.
    assert isinstance(info.value, OTPError) and isinstance(info.value, ValueError)


def test_same_parameter_twice_with_one_value_is_fine() -> None:
    got = U.parse(f"otpauth://totp/A:b?secret={SECRET}&secret={SECRET}&issuer=A")
    assert got.account == "b"


def test_not_a_string() -> None:
    with pytest.raises(InvalidURI, match="str"):
        U.parse(b"otpauth://totp/a?secret=" + SECRET.encode())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "part"),
    [
        (dict(digits=5), "digits"),
        (dict(digits=11), "digits"),
        (dict(digest="md5"), "algorithm"),
        (dict(period=0), "period"),
        (dict(extra=[("Secret", "x")]), "clashes"),
        (dict(encoder="yandex"), "encoder"),
    ],
)
def test_build_refuses_unusable_fields(kwargs: dict[str, object], part: str) -> None:
    with pytest.raises(InvalidURI, match=part):
        U.build("totp", SECRET, account="a", **kwargs)  # type: ignore[arg-type]


def test_build_refuses_a_bad_secret_without_quoting_it() -> None:
    with pytest.raises(InvalidURI) as info:
        U.build("totp", SECRET[:-1] + "1", account="a")
    assert SECRET[:-1] not in str(info.value)
    with pytest.raises(InvalidURI, match="secret"):
        U.build("totp", b"", account="a")
    with pytest.raises(InvalidURI, match="type"):
        U.build("motp", SECRET, account="a")


def test_hotp_build_defaults_the_counter_to_zero() -> None:
    assert U.build("hotp", SECRET, account="a").endswith("&counter=0")


def test_latin1_label_is_read_with_a_warning() -> None:
    with pytest.warns(U.URIWarning, match="Latin-1"):
        got = U.parse(f"otpauth://totp/Caf%E9:b?secret={SECRET}")
    assert got.issuer == "Café"


def test_invalid_argument_is_the_base_of_invalid_uri() -> None:
    assert issubclass(InvalidURI, InvalidArgument)
