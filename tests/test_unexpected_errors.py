"""An unexpected exception is never turned into a domain error: it propagates as it is.

Each case below once caught every exception (or every ValueError) and answered with a typed
error about the caller's input, hiding a failure that was not the input's. The expected failures
keep their typed answer.
"""

from __future__ import annotations

from typing import Any

import pytest

import pyotp_hw
from pyotp_hw import _native
from pyotp_hw.cli import main

KEY = b"12345678901234567890"


class FactoryBug(RuntimeError):
    pass


def test_a_digest_factory_that_fails_propagates_its_own_error() -> None:
    def broken() -> Any:
        raise FactoryBug("the hash factory itself failed")

    with pytest.raises(FactoryBug):
        _native.digest_id(broken)
    with pytest.raises(FactoryBug):
        pyotp_hw.HOTP(KEY, digest=broken)
    with pytest.raises(MemoryError):
        _native.digest_id(lambda: (_ for _ in ()).throw(MemoryError()))


def test_a_callable_that_is_no_hash_constructor_is_still_a_typed_error() -> None:
    with pytest.raises(pyotp_hw.InvalidType, match="digest must be"):
        _native.digest_id(int)  # int() has no .name
    with pytest.raises(pyotp_hw.InvalidType, match="digest must be"):
        _native.digest_id(lambda needed: needed)  # wants an argument


def test_uri_commands_do_not_relabel_a_bug_as_a_bad_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyotp_hw.uri

    good = "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"

    def buggy(text: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("an internal bug, not the URI's fault")

    monkeypatch.setattr(pyotp_hw.uri, "parse", buggy)
    for argv in (["uri", "show", good], ["uri", "export-migration", good]):
        with pytest.raises(ValueError, match="internal bug"):
            main(argv)


def test_uri_commands_still_answer_a_bad_uri_in_one_line(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    assert main(["uri", "show", "otpauth://totp/x?secret=JBSWY3DP&period=0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyotp-hw: error: ") and "period" in err and err.count("\n") == 1


def test_pcsc_error_text_falls_back_only_for_codes_pyscard_cannot_describe() -> None:
    from pyotp_hw.token import pcsc

    class Scard:
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def SCardGetErrorMessage(self, hresult: int) -> str:
            raise self.error

    assert pcsc._message(Scard(OverflowError()), 0x8010002E).startswith("PC/SC error (0x")
    with pytest.raises(FactoryBug):
        pcsc._message(Scard(FactoryBug("pyscard broke")), 0x8010002E)
