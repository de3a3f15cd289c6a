"""Optional dependencies: a missing one is a clear error naming the extra to install."""

from __future__ import annotations

import sys

import pytest

from pyotp_hw.errors import MissingExtra


def test_missing_pyscard_names_the_token_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyotp_hw.token import pcsc

    monkeypatch.setitem(sys.modules, "smartcard", None)
    for call in (pcsc.reader_names, lambda: pcsc.PcscConnection("any")):
        with pytest.raises(MissingExtra, match=r"pip install 'pyotp-hw\[token\]'") as exc:
            call()
        assert exc.value.module == "pyscard" and isinstance(exc.value, ImportError)


def test_missing_cryptography_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyotp_hw.token.virtual import PassphraseSealer

    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers.aead", None)
    with pytest.raises(MissingExtra, match=r"pyotp-hw\[token\]") as exc:
        PassphraseSealer("words")
    assert exc.value.module == "cryptography"


def test_the_token_package_imports_without_pyscard(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only token/pcsc.py imports smartcard, and only when called.
    import subprocess

    code = (
        "import sys; sys.modules['smartcard'] = None\n"
        "import pyotp_hw.token, pyotp_hw.token.virtual, pyotp_hw.token.rig, pyotp_hw.cli\n"
        "from pyotp_hw.token.virtual import make_card\n"
        "from pyotp_hw.token import OathSession\n"
        "print(OathSession(make_card().connect()).info.version)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(5, 7, 2)"
