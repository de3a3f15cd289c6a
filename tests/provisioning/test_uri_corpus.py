"""A corpus of URI shapes that real sites and exporters produce, each with its fields by hand.

Secrets are compared with what Python's own base64 module decodes from the canonical form, so
the base32 decoder under test is not its own oracle.
"""

from __future__ import annotations

import base64
import warnings
from typing import Any

import pytest

from pyotp_hw import uri as U

HELLO = b"Hello!\xde\xad\xbe\xef"  # JBSWY3DPEHPK3PXP, the Key URI format's example secret


def b32(canonical: str) -> bytes:
    return base64.b32decode(canonical + "=" * (-len(canonical) % 8))


# (source, uri, expected fields, expected warning substrings)
CORPUS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    (
        "Key URI format, main example",
        "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        dict(kind="totp", account="alice@google.com", issuer="Example", secret=HELLO,
             digest="sha1", digits=6, period=30),
        [],
    ),
    (
        "Key URI format, all parameters",
        "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
        "&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
        dict(kind="totp", account="john.doe@email.com", issuer="ACME Co",
             secret=b32("HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"), digest="sha1", digits=6,
             period=30),
        [],
    ),
    (
        "Key URI format, label with encoded separator and optional space",
        "otpauth://totp/Big%20Corporation%3A%20alice%40bigco.com?secret=JBSWY3DPEHPK3PXP",
        dict(kind="totp", account="alice@bigco.com", issuer="Big Corporation", secret=HELLO),
        [],
    ),
    (
        "Key URI format, provider label without issuer parameter",
        "otpauth://totp/Provider1:Alice%20Smith?secret=JBSWY3DPEHPK3PXP",
        dict(kind="totp", account="Alice Smith", issuer="Provider1"),
        [],
    ),
    (
        "Key URI format, HOTP with counter",
        "otpauth://hotp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&counter=42",
        dict(kind="hotp", account="alice@google.com", issuer="Example", counter=42, digits=6),
        [],
    ),
    (
        "Google account enrollment: %3A separator, lowercase secret in groups",
        "otpauth://totp/Google%3Auser%40gmail.com?secret=jbsw%20y3dp%20ehpk%203pxp&issuer=Google",
        dict(kind="totp", account="user@gmail.com", issuer="Google", secret=HELLO),
        [],
    ),
    (
        "Microsoft account: issuer in both places, 16-character secret",
        "otpauth://totp/Microsoft:user%40outlook.com?secret=GEZDGNBVGY3TQOJQ&issuer=Microsoft",
        dict(kind="totp", account="user@outlook.com", issuer="Microsoft",
             secret=b"1234567890", digits=6, period=30),
        [],
    ),
    (
        "Microsoft Entra work account: tenant in the label, Microsoft as issuer",
        "otpauth://totp/Contoso:alice%40contoso.com?secret=GEZDGNBVGY3TQOJQ&issuer=Microsoft",
        dict(kind="totp", account="alice@contoso.com", issuer="Microsoft"),
        ["differs from the label"],
    ),
    (
        "Authy export (Authy-hosted token): 7 digits, 10-second period, '+' for spaces",
        "otpauth://totp/Authy+Demo:alice+smith?secret=JBSWY3DPEHPK3PXP&digits=7&period=10"
        "&issuer=Authy+Demo",
        dict(kind="totp", account="alice smith", issuer="Authy Demo", digits=7, period=10),
        [],
    ),
    (
        "Authy export (third-party token): padded secret, issuer only as parameter",
        "otpauth://totp/alice@example.com?secret=MFRGGZA%3D&issuer=Example",
        dict(kind="totp", account="alice@example.com", issuer="Example", secret=b"abcd"),
        [],
    ),
    (
        "Ente Auth export: lowercase algorithm, codeDisplay JSON kept",
        "otpauth://totp/GitHub:octocat?secret=JBSWY3DPEHPK3PXP&issuer=GitHub&algorithm=sha256"
        "&digits=8&period=30&codeDisplay=%7B%22pinned%22%3Afalse%2C%22tags%22%3A%5B%5D%7D",
        dict(kind="totp", account="octocat", issuer="GitHub", digest="sha256", digits=8,
             extra=(("codeDisplay", '{"pinned":false,"tags":[]}'),)),
        [],
    ),
    (
        "Ente / Aegis Steam entry: steam type",
        "otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam&algorithm=SHA1"
        "&digits=5&period=30",
        dict(kind="totp", account="gaben", issuer="Steam", encoder="steam", digits=5),
        [],
    ),
    (
        "KeePassXC Steam entry: encoder=steam",
        "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&period=30&digits=5&issuer=Steam"
        "&encoder=steam",
        dict(kind="totp", account="gaben", issuer="Steam", encoder="steam", digits=5),
        [],
    ),
    (
        "steamguard-cli style: issuer Steam only",
        "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam",
        dict(kind="totp", issuer="Steam", encoder="steam", digits=5),
        [],
    ),
    (
        "FreeOTP: SHA512, 10 digits, 60 s, logo image",
        "otpauth://totp/Bank:joe?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&digits=10&period=60"
        "&issuer=Bank&image=https%3A%2F%2Fbank.example%2Flogo.png",
        dict(kind="totp", digest="sha512", digits=10, period=60,
             image="https://bank.example/logo.png"),
        [],
    ),
    (
        "QR alphanumeric mode: everything uppercase",
        "OTPAUTH://TOTP/EXAMPLE:ALICE?SECRET=JBSWY3DPEHPK3PXP&ISSUER=EXAMPLE&ALGORITHM=SHA256",
        dict(kind="totp", account="ALICE", issuer="EXAMPLE", digest="sha256", secret=HELLO),
        [],
    ),
    (
        "Label issuer and parameter disagree: the parameter wins",
        "otpauth://totp/OldName:alice?secret=JBSWY3DPEHPK3PXP&issuer=NewName",
        dict(account="alice", issuer="NewName"),
        ["'NewName' differs from the label's issuer 'OldName'"],
    ),
    (
        "Colons in an account, separator literal, colons escaped",
        "otpauth://totp/Lab:host%3A22?secret=JBSWY3DPEHPK3PXP&issuer=Lab",
        dict(account="host:22", issuer="Lab"),
        [],
    ),
    (
        "No label at all",
        "otpauth://totp/?secret=JBSWY3DPEHPK3PXP&issuer=Bare",
        dict(account="", issuer="Bare"),
        ["no account name"],
    ),
    (
        "HOTP with a stray period parameter kept as extra",
        "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=0&period=60",
        dict(kind="hotp", counter=0, extra=(("period", "60"),)),
        [],
    ),
    (
        "Surrounding whitespace pasted from a web page",
        "  otpauth://totp/Site:me?secret=JBSWY3DPEHPK3PXP&issuer=Site\n",
        dict(account="me", issuer="Site", secret=HELLO),
        [],
    ),
]


@pytest.mark.parametrize(("source", "text", "expected", "notes"), CORPUS,
                         ids=[c[0] for c in CORPUS])
def test_corpus(source: str, text: str, expected: dict[str, Any], notes: list[str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = U.parse(text)
    for name, value in expected.items():
        assert getattr(got, name) == value, name
    assert len(got.warnings) == len(notes)
    for note, expected_note in zip(got.warnings, notes, strict=True):
        assert expected_note in note
    # Every note is also a Python warning of the package's category.
    assert [str(w.message) for w in caught if issubclass(w.category, U.URIWarning)] == list(
        got.warnings
    )


@pytest.mark.parametrize(("source", "text", "expected", "notes"), CORPUS,
                         ids=[c[0] for c in CORPUS])
def test_corpus_writes_back_without_loss(
    source: str, text: str, expected: dict[str, Any], notes: list[str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = U.parse(text)
        again = U.parse(got.to_uri())
    assert again == got
    # Writing back resolves what was odd about the input (it may not invent new oddities).
    assert set(again.warnings) <= set(got.warnings)
    assert not any("differs" in note for note in again.warnings)


def test_issuer_mismatch_warns() -> None:
    with pytest.warns(U.URIWarning, match="using the parameter"):
        U.parse("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&issuer=C")


def test_repr_hides_the_secret() -> None:
    got = U.parse("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&issuer=A")
    assert "JBSWY3DPEHPK3PXP" not in repr(got)
    assert "Hello" not in repr(got)
    assert "JBSWY3DPEHPK3PXP" not in str(got.as_dict())
    assert got.as_dict(show_secret=True)["secret"] == "JBSWY3DPEHPK3PXP"
    assert got.label == "A:b"
