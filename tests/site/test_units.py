"""The site's pieces without a browser: accounts (argon2id, a 0600 file), what counts as an
email, a password and a code, the key shown as text, the settings' checks. Bad input gives a
typed one-line error that repeats no password."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.errors import InvalidArgument
from tests.typed_errors import assert_clean_error, fuzz

pytest.importorskip("argon2")
pytest.importorskip("jinja2")

from pyotp_hw.site import SiteConfig
from pyotp_hw.site.accounts import Accounts, check_email, check_password
from pyotp_hw.site.messages import MALFORMED, code_message, normalise_code
from pyotp_hw.site.twostep import key_text
from pyotp_hw.uri import build


def test_accounts_hash_with_argon2id_in_a_private_file(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    path = tmp_path / "site.db"
    accounts = Accounts(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    made = accounts.create("a@example.com", "a good long password")
    import sqlite3

    stored = sqlite3.connect(path).execute("SELECT password_hash FROM accounts").fetchone()[0]
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, "a good long password")  # argon2-cffi's own check
    assert accounts.authenticate("a@example.com", "a good long password") == made
    assert accounts.authenticate("a@example.com", "a good long passwore") is None
    assert accounts.authenticate("b@example.com", "a good long password") is None
    with pytest.raises(InvalidArgument, match="exists"):
        accounts.create("a@example.com", "another long password")


def test_pending_uri_expires(tmp_path: Path) -> None:
    accounts = Accounts(str(tmp_path / "site.db"))
    a = accounts.create("a@example.com", "a good long password")
    accounts.set_pending(a, "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", 1000.0)
    assert accounts.pending(a, now=999.0) is not None
    assert accounts.pending(a, now=1000.0) is None
    assert accounts.pending(a, now=10.0) is None  # dropped, not just hidden


@pytest.mark.parametrize("text", ["", "a", "a@b", "@example.com", "a@.com", "a@example.",
                                  "a b@example.com", "a@example.com\n", "x" * 250 + "@e.com"])
def test_bad_emails(text: str) -> None:
    with pytest.raises(InvalidArgument, match="email address like"):
        check_email(text.replace("\n", "\x01"))


def test_email_domain_is_lowered() -> None:
    assert check_email("  Ann@Example.COM ") == "Ann@example.com"


def test_passwords() -> None:
    for bad in ("", "short", "x" * 9, "x" * 257):
        with pytest.raises(InvalidArgument) as info:
            check_password(bad)
        assert_clean_error(info.value, [bad] if len(bad) >= 6 else [])
    assert check_password("x" * 10) == "x" * 10


@fuzz
@given(st.text(max_size=300))
def test_email_checks_only_raise_typed_errors(text: str) -> None:
    try:
        check_email(text)
    except InvalidArgument as exc:
        assert_clean_error(exc)


@pytest.mark.parametrize(("typed", "code"), [("123456", "123456"), (" 123 456 ", "123456"),
                                             ("123-456", "123456"), ("12345678", "12345678")])
def test_codes_typed_with_spaces(typed: str, code: str) -> None:
    assert normalise_code(typed) == code


@pytest.mark.parametrize("typed", ["", "12345", "123456789", "12a456", "١٢٣٤٥٦", "123456\x00"])
def test_malformed_codes(typed: str) -> None:
    assert normalise_code(typed) is None


def test_each_reason_has_its_sentence() -> None:
    sentences = {code_message(r) for r in ("invalid code", "replayed code", "throttled",
                                           "credential locked", "malformed code")}
    assert len(sentences) == 5 and MALFORMED in sentences


def test_key_text_is_the_uri_secret() -> None:
    secret = pyotp.random_base32(32)
    uri = build("totp", secret, account="a@example.com", issuer="Example Site")
    shown = key_text(uri)
    assert shown.replace(" ", "") == secret
    assert all(len(group) == 4 for group in shown.split())


def test_settings_are_checked(tmp_path: Path) -> None:
    ok = {"db": str(tmp_path / "s.db"), "secret_key_file": str(tmp_path / "k")}
    with pytest.raises(InvalidArgument, match="http://HOST:PORT"):
        SiteConfig(service="ftp://x", **ok)
    with pytest.raises(InvalidArgument, match="site name"):
        SiteConfig(service="http://127.0.0.1:1", site_name="a:b", **ok)
    config = SiteConfig(service="http://127.0.0.1:1", api_key_env="PYOTP_HW_TEST_NO_SUCH", **ok)
    with pytest.raises(InvalidArgument, match="PYOTP_HW_TEST_NO_SUCH"):
        config.api_key()
