"""Kinds, states and formats in public signatures are Literal aliases, named by the facades;
the values stay plain strings."""

from __future__ import annotations

from typing import get_args, get_type_hints

from pyotp_hw import uri
from pyotp_hw.service import Client, QrFormat
from pyotp_hw.verifier import CredentialState, Kind, Verifier


def test_the_aliases_are_the_values_the_code_takes() -> None:
    assert Kind is uri.Kind
    assert get_args(Kind) == ("totp", "hotp")
    assert get_args(CredentialState) == ("active", "pending")
    assert get_args(QrFormat) == ("svg", "png")


def test_public_signatures_name_them() -> None:
    for method in (Verifier.enroll, Verifier.enroll_many):
        assert get_type_hints(method)["kind"] == Kind | None
    assert get_type_hints(Verifier.credential)["state"] == CredentialState
    assert get_type_hints(Client.qr)["fmt"] == QrFormat
