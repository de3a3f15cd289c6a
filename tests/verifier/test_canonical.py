"""Checklist 2: canonical input only, checked before any cache, counter or rate-limit lookup."""

from __future__ import annotations

import pytest

from pyotp_hw import bulk
from pyotp_hw.errors import InvalidType
from pyotp_hw.verifier import Reason

from .conftest import SECRET, T
from .helpers import totp

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def variants(code: str) -> list[str]:
    """Spellings of a valid code that int() or str.strip() would turn back into it."""
    return [
        f" {code}", f"{code} ", f"\t{code}", f"{code}\n", f"\u00a0{code}", f"{code}\u2003",
        f"+{code}", f"+{code[1:]}", f"-{code[1:]}", f"{code[:3]}_{code[3:]}",
        f"{code[:3]} {code[3:]}", f"0{code}", code[1:], f"{code}0", "",
        code.translate(FULLWIDTH), code.translate(ARABIC_INDIC), code.translate(SUPERSCRIPT),
        code[:5] + code[5].translate(FULLWIDTH), f"0x{code}", f"{code[:5]}a",
    ]


def test_naive_parsing_would_accept_these_variants() -> None:
    # Why the check matters: Python's own parsing maps many of them onto the valid code.
    code = "123456"
    parsed = [v for v in variants(code) if _int_or_none(v) == int(code)]
    assert {" 123456", "+123456", "123_456", "0123456", "\u00a0123456",
            code.translate(FULLWIDTH), code.translate(ARABIC_INDIC)} <= set(parsed)
    assert "²".isdigit() and not "²".isascii()  # str.isdigit() alone is not enough


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def test_variants_are_rejected_before_any_lookup(store_url, spy_verifier, monkeypatch) -> None:
    v, spy = spy_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    code = totp(SECRET, T)
    before = v.credential("alice")
    spy.calls.clear()

    def no_core(*args, **kwargs):
        raise AssertionError("the C core was reached with a malformed code")

    monkeypatch.setattr(bulk, "verify_totp", no_core)
    monkeypatch.setattr(v._cache, "lookup", no_core)
    for variant in variants(code):
        assert v.verify("alice", variant, now=T) == (False, Reason.MALFORMED, None), variant
    results = v.verify_many([("alice", variant) for variant in variants(code)], now=T)
    assert all(r.reason is Reason.MALFORMED and not r.ok for r in results)
    assert spy.calls == []  # no state read, no counter, no rate limit touched
    monkeypatch.undo()
    after = v.credential("alice")
    assert after == before and after is not None and after.failures == 0
    # The valid spelling still works: nothing was consumed or counted.
    assert v.verify("alice", code, now=T).ok


def test_confirm_and_resync_check_canonical_form_first(store_url, spy_verifier) -> None:
    v, spy = spy_verifier(store_url, resync_window=5)
    v.enroll("alice", SECRET, now=T)
    spy.calls.clear()
    code = totp(SECRET, T)
    assert v.confirm_enrollment("alice", f" {code}", now=T).reason is Reason.MALFORMED
    assert v.resync("alice", f"+{code[1:]}", code, now=T).reason is Reason.MALFORMED
    assert v.resync("alice", code, code.translate(FULLWIDTH), now=T).reason is Reason.MALFORMED
    assert spy.calls == []


def test_length_must_match_the_credential_without_touching_state(store_url, spy_verifier
                                                                  ) -> None:
    # A verifier accepting 6- and 8-digit codes: a 7-digit code never reaches the store; a
    # 6-digit code for an 8-digit credential is refused without evaluation or any write.
    v, spy = spy_verifier(store_url, digits=(6, 8))
    v.enroll("eight", SECRET, digits=8, now=T)
    code8 = totp(SECRET, T, digits=8)
    spy.calls.clear()
    assert v.verify("eight", code8[:7], now=T).reason is Reason.MALFORMED
    assert spy.calls == []
    assert v.verify("eight", code8[2:], now=T).reason is Reason.MALFORMED
    assert "commit" not in spy.calls
    info = v.credential("eight")
    assert info is not None and info.failures == 0 and info.last_used is None
    assert v.verify("eight", code8, now=T).ok


@pytest.mark.parametrize("code", [123456, b"123456", None, 12.0])
def test_non_string_codes_are_a_type_error(code) -> None:
    from pyotp_hw.verifier import Verifier

    with Verifier.open("memory:", key=bytes(32)) as v:
        v.enroll("alice", SECRET)
        with pytest.raises(InvalidType):
            v.verify("alice", code)


def test_user_ids_are_checked() -> None:
    from pyotp_hw.errors import InvalidArgument
    from pyotp_hw.verifier import Verifier

    with Verifier.open("memory:", key=bytes(32)) as v:
        for bad in ("", "a\x00b", "x" * 256):
            with pytest.raises(InvalidArgument):
                v.verify(bad, "123456")
        with pytest.raises(InvalidType):
            v.verify(42, "123456")  # type: ignore[arg-type]
