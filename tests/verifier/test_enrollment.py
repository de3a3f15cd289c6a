"""The enrollment flow a site runs (moving its users from SMS to an authenticator app)."""

from __future__ import annotations

import base64

import pyotp
import pytest

from pyotp_hw.errors import InvalidArgument, InvalidURI
from pyotp_hw.verifier import AlreadyEnrolled, EventKind, Reason

from .conftest import SECRET, T
from .helpers import hotp, new_secret, totp, wrong_code


def app_for(uri: str) -> pyotp.TOTP:
    """The user's authenticator app: pyotp reading the URI (an independent parser)."""
    otp = pyotp.parse_uri(uri)
    assert isinstance(otp, pyotp.TOTP)
    return otp


def test_pending_cannot_sign_in_until_confirmed(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    enrollment = v.begin_enrollment("alice", issuer="Example", name="alice@example.com", now=T)
    app = app_for(enrollment.uri)
    assert app.issuer == "Example" and app.name == "alice@example.com"
    assert v.verify("alice", app.at(T), now=T).reason is Reason.NO_CREDENTIAL
    assert v.credential("alice") is None and v.credential("alice", "pending") is not None
    result = v.confirm_enrollment("alice", app.at(T + 30), now=T + 30)
    assert result.ok and result.step == (T + 30) // 30
    assert v.credential("alice", "pending") is None
    # The confirming code is used up; the next one signs in.
    assert v.verify("alice", app.at(T + 30), now=T + 30).reason is Reason.REPLAY
    assert v.verify("alice", app.at(T + 60), now=T + 60).ok


def test_wrong_code_leaves_it_pending(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    enrollment = v.begin_enrollment("alice", issuer="Example", name="alice", now=T)
    app = app_for(enrollment.uri)
    bad = "000000" if app.at(T) != "000000" else "111111"
    assert v.confirm_enrollment("alice", bad, now=T).reason is Reason.INVALID
    pending = v.credential("alice", "pending")
    assert pending is not None and pending.failures == 1
    assert v.credential("alice") is None
    assert v.confirm_enrollment("alice", app.at(T), now=T).ok


def test_expired_cannot_be_confirmed(store_url, open_verifier) -> None:
    v = open_verifier(store_url, enrollment_ttl=300)
    enrollment = v.begin_enrollment("alice", issuer="Example", name="alice", now=T)
    app = app_for(enrollment.uri)
    assert enrollment.expires_at == T + 300
    late = T + 300
    assert v.confirm_enrollment("alice", app.at(late), now=late).reason is Reason.EXPIRED
    assert v.credential("alice", "pending") is None
    assert v.confirm_enrollment("alice", app.at(late), now=late).reason is Reason.NO_PENDING
    assert v.verify("alice", app.at(late), now=late).reason is Reason.NO_CREDENTIAL


def test_replacing_keeps_the_old_one_until_the_new_one_is_confirmed(store_url, open_verifier
                                                                   ) -> None:
    v = open_verifier(store_url)
    events = []
    v.on_event(events.append)
    old = new_secret()
    v.enroll("alice", old, now=T)
    enrollment = v.begin_enrollment("alice", issuer="Example", name="alice", now=T)
    new_app = app_for(enrollment.uri)
    # Until confirmation the old authenticator still signs in and the new one does not.
    assert v.verify("alice", totp(old, T), now=T).ok
    assert v.verify("alice", new_app.at(T + 30), now=T + 30).reason is Reason.INVALID
    # Replacing needs the current factor: a code from the old authenticator.
    assert v.confirm_enrollment("alice", new_app.at(T + 60), now=T + 60,
                                current_code=totp(old, T + 60)).ok
    assert v.verify("alice", totp(old, T + 90), now=T + 90).reason is Reason.INVALID
    assert v.verify("alice", new_app.at(T + 90), now=T + 90).ok
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.ENROLLED, EventKind.ENROLLED, EventKind.CONFIRMED,
                     EventKind.REPLACED]
    assert [e.kind for e in v.events("alice")] == kinds
    assert [e.at for e in v.events("alice")] == [T, T, T + 60, T + 60]


def test_beginning_again_replaces_the_pending_one(open_verifier) -> None:
    v = open_verifier("memory:")
    first = app_for(v.begin_enrollment("alice", issuer="Ex", name="a", now=T).uri)
    second = app_for(v.begin_enrollment("alice", issuer="Ex", name="a", now=T).uri)
    assert first.secret != second.secret
    assert v.confirm_enrollment("alice", first.at(T), now=T).reason is Reason.INVALID
    assert v.confirm_enrollment("alice", second.at(T), now=T).ok


def test_every_change_produces_its_event(store_url, open_verifier) -> None:
    v = open_verifier(store_url, lockout_after=2, delay_after=5)
    delivered = []
    cancel = v.on_event(delivered.append)
    v.enroll("alice", SECRET, now=T)                                    # enrolled
    v.enroll("alice", new_secret(), replace=True, reauthenticated=True,
             now=T + 1)                                                 # enrolled, replaced
    enrollment = v.begin_enrollment("bob", issuer="Ex", name="b", now=T + 2)  # enrolled
    v.confirm_enrollment("bob", app_for(enrollment.uri).at(T + 3), now=T + 3)  # confirmed
    code = app_for(enrollment.uri).at(T + 3)
    v.verify("bob", code, now=T + 4)                                    # replay
    v.verify("bob", wrong_code(b"x" * 20, T), now=T + 5)                # locked (2nd failure)
    v.unlock("bob", now=T + 6)                                          # unlocked
    assert v.disable("alice", now=T + 7)                                # disabled
    assert not v.disable("alice", now=T + 8)
    expected = [
        ("alice", EventKind.ENROLLED, T), ("alice", EventKind.ENROLLED, T + 1),
        ("alice", EventKind.REPLACED, T + 1), ("bob", EventKind.ENROLLED, T + 2),
        ("bob", EventKind.CONFIRMED, T + 3), ("bob", EventKind.REPLAY, T + 4),
        ("bob", EventKind.LOCKED, T + 5), ("bob", EventKind.UNLOCKED, T + 6),
        ("alice", EventKind.DISABLED, T + 7),
    ]
    assert [(e.user, e.kind, e.at) for e in delivered] == expected
    stored = v.events()
    assert [(e.user, e.kind, e.at) for e in stored] == expected
    assert [e.id for e in stored] == sorted(e.id for e in stored)
    assert [e.kind for e in v.events("bob", after=stored[4].id)] == [
        EventKind.REPLAY, EventKind.LOCKED, EventKind.UNLOCKED]
    cancel()
    v.enroll("carol", SECRET, now=T + 9)
    assert len(delivered) == len(expected)


def test_disable_turns_verification_off(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    v.begin_enrollment("alice", issuer="Ex", name="a", now=T)
    assert v.disable("alice", now=T)
    assert v.verify("alice", totp(SECRET, T), now=T).reason is Reason.NO_CREDENTIAL
    assert v.confirm_enrollment("alice", "123456", now=T).reason is Reason.NO_PENDING


def test_remove_forgets_the_user(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    heard = []
    v.on_event(heard.append)
    v.enroll_many([("alice", SECRET), ("bob", SECRET)], now=T)
    assert v.remove("alice", now=T + 1)
    assert v.events("alice") == [] and len(v.events("bob")) == 1
    assert heard[-1].kind is EventKind.REMOVED and heard[-1].user == "alice"
    assert not v.remove("alice")


def test_enroll_from_uris(store_url, open_verifier) -> None:
    v = open_verifier(store_url, digits=(6, 8), look_ahead=0)
    seed = new_secret()
    b32 = base64.b32encode(seed).decode().rstrip("=")
    v.enroll("t", f"otpauth://totp/Ex:t?secret={b32}&issuer=Ex&digits=8&algorithm=SHA256&"
                  "period=60", now=T)
    info = v.credential("t")
    assert info is not None and (info.kind, info.digits, info.digest, info.period) == (
        "totp", 8, "sha256", 60)
    assert info.issuer == "Ex" and info.account == "t"
    assert v.verify("t", totp(seed, T, digits=8, digest="sha256", period=60), now=T).ok
    v.enroll("h", f"otpauth://hotp/h?secret={b32}&counter=42", now=T)
    assert v.verify("h", hotp(seed, 42), now=T).step == 42
    with pytest.raises(InvalidArgument, match="either in the URI or as arguments"):
        v.enroll("x", f"otpauth://totp/x?secret={b32}", digits=8, now=T)
    with pytest.raises(InvalidArgument, match="Steam"):
        v.enroll("s", f"otpauth://totp/Steam:s?secret={b32}&encoder=steam&digits=5", now=T)
    with pytest.raises(InvalidURI):
        v.enroll("m", "otpauth-migration://offline?data=AAAA", now=T)
    with pytest.raises(InvalidArgument, match="6, 8-digit"):
        v.enroll("seven", seed, digits=7, now=T)


def test_enroll_refuses_to_overwrite_silently(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, now=T)
    other = new_secret()
    with pytest.raises(AlreadyEnrolled):
        v.enroll("alice", other, now=T)
    with pytest.raises(AlreadyEnrolled):
        v.enroll_many([("bob", other), ("alice", other)], now=T)
    assert v.credential("bob") is None  # all or nothing
    assert v.verify("alice", totp(SECRET, T), now=T).ok
    with pytest.raises(InvalidArgument, match="twice"):
        v.enroll_many([("carol", other), ("carol", other)], now=T)


def test_enrollment_qr_code_reads_back_as_the_uri(tmp_path, open_verifier) -> None:
    # The QR code is read by an independent decoder (zxing-cpp) into the same URI.
    import zxingcpp
    from PIL import Image

    v = open_verifier("memory:")
    enrollment = v.begin_enrollment("alice", issuer="Example", name="alice@example.com", now=T)
    drawing = enrollment.qr()
    assert "█" in drawing or "▀" in drawing or "▄" in drawing
    path = tmp_path / "qr.png"
    enrollment.write_qr(path)
    texts = [r.text for r in zxingcpp.read_barcodes(Image.open(path))]
    assert texts == [enrollment.uri]
    assert enrollment.png().startswith(b"\x89PNG")
