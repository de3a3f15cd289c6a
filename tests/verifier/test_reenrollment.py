"""Replacing an active credential needs the current factor, and keeps its lockout (3.9).

Someone who has a user's password but not their authenticator could lock the credential by
guessing, then "set up a new authenticator": the replacement took the new seed without the old
factor and cleared the lockout. Now a replacement (``confirm_enrollment`` of a pending
credential, ``enroll(replace=True)``) needs a code from the current credential
(``current_code=``) or the site's word that it re-authenticated the user just now
(``reauthenticated=True``), and the new credential inherits the old one's failures, delay and
lock. ``Policy(replace_needs_proof=False)`` drops the first requirement, never the second.
"""

from __future__ import annotations

import pyotp
import pytest

from pyotp_hw.verifier import EventKind, Policy, Reason, ReauthenticationRequired

from .conftest import T
from .helpers import new_secret, totp, wrong_code


def _new_app(v, user: str, t: int) -> pyotp.TOTP:
    return pyotp.parse_uri(v.begin_enrollment(user, issuer="Ex", name=user, now=t).uri)


def _lock(v, user: str, seed: bytes, t: int, failures: int) -> None:
    for _ in range(failures):
        assert not v.verify(user, wrong_code(seed, t), now=t).ok
    assert v.credential(user).locked


def test_confirming_a_replacement_needs_the_current_factor(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    old = new_secret()
    v.enroll("alice", old, now=T)
    app = _new_app(v, "alice", T)
    # The new authenticator's code alone is not enough while an active credential exists.
    result = v.confirm_enrollment("alice", app.at(T), now=T)
    assert result == (False, Reason.NEEDS_PROOF, None)
    assert v.credential("alice", "pending") is not None
    assert v.verify("alice", totp(old, T), now=T).ok  # the old one still works
    # A wrong current code is a failure of the current credential.
    t = T + 30
    bad = wrong_code(old, t)
    assert v.confirm_enrollment("alice", app.at(t), now=t, current_code=bad).reason is (
        Reason.CURRENT_REJECTED)
    assert v.credential("alice").failures == 1
    t += 30
    result = v.confirm_enrollment("alice", app.at(t), now=t, current_code=totp(old, t))
    assert result.ok and result.step == t // 30
    t += 30
    assert v.verify("alice", totp(old, t), now=t).reason is Reason.INVALID
    assert v.verify("alice", app.at(t), now=t).ok


def test_the_site_may_vouch_for_a_fresh_reauthentication(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", new_secret(), now=T)
    app = _new_app(v, "alice", T)
    assert v.confirm_enrollment("alice", app.at(T), now=T, reauthenticated=True).ok
    replaced = [e for e in v.events("alice") if e.kind is EventKind.REPLACED]
    assert len(replaced) == 1 and "re-authenticated" in replaced[0].detail


def test_a_locked_credential_stays_locked_through_a_replacement(store_url, open_verifier) -> None:
    v = open_verifier(store_url, lockout_after=3, delay_after=5)
    old = new_secret()
    v.enroll("alice", old, now=T)
    _lock(v, "alice", old, T, 3)
    app = _new_app(v, "alice", T)
    # Its own code cannot prove anything: a locked credential is not evaluated.
    t = T + 30
    assert v.confirm_enrollment("alice", app.at(t), now=t, current_code=totp(old, t)).reason \
        is Reason.CURRENT_REJECTED
    # Vouched for by the site, the seed is replaced, but the lockout stays until unlock().
    t += 30
    assert v.confirm_enrollment("alice", app.at(t), now=t, reauthenticated=True).ok
    info = v.credential("alice")
    assert info.locked and info.failures == 3
    t += 30
    assert v.verify("alice", app.at(t), now=t).reason is Reason.LOCKED
    v.unlock("alice", now=t)
    assert v.verify("alice", app.at(t), now=t).ok


def test_enroll_replace_needs_the_current_factor(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    old, new = new_secret(), new_secret()
    v.enroll("alice", old, now=T)
    with pytest.raises(ReauthenticationRequired, match="current_code"):
        v.enroll("alice", new, replace=True, now=T)
    t = T + 30
    with pytest.raises(ReauthenticationRequired, match="not accepted"):
        v.enroll("alice", new, replace=True, current_code=wrong_code(old, t), now=t)
    assert v.verify("alice", totp(old, t), now=t).ok  # nothing was replaced
    t += 30
    v.enroll("alice", new, replace=True, current_code=totp(old, t), now=t)
    t += 30
    assert v.verify("alice", totp(old, t), now=t).reason is Reason.INVALID
    assert v.verify("alice", totp(new, t), now=t).ok
    # A user without a credential needs no proof.
    v.enroll("bob", new, replace=True, now=t)


def test_enroll_replace_keeps_the_lockout(store_url, open_verifier) -> None:
    v = open_verifier(store_url, lockout_after=2, delay_after=5)
    old, new = new_secret(), new_secret()
    v.enroll("alice", old, now=T)
    _lock(v, "alice", old, T, 2)
    v.enroll("alice", new, replace=True, reauthenticated=True, now=T + 30)
    assert v.credential("alice").locked
    assert v.verify("alice", totp(new, T + 30), now=T + 30).reason is Reason.LOCKED


def test_enroll_many_replacing_needs_the_sites_word(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", new_secret(), now=T)
    with pytest.raises(ReauthenticationRequired):
        v.enroll_many([("bob", new_secret()), ("alice", new_secret())], replace=True, now=T)
    assert v.credential("bob") is None  # all or nothing
    v.enroll_many([("bob", new_secret()), ("alice", new_secret())], replace=True,
                  reauthenticated=True, now=T)
    assert v.credential("bob") is not None


def test_a_site_may_turn_the_proof_off_but_not_the_lockout(store_url, open_verifier) -> None:
    v = open_verifier(store_url, policy=Policy(replace_needs_proof=False, lockout_after=2,
                                               delay_after=5))
    old = new_secret()
    v.enroll("alice", old, now=T)
    _lock(v, "alice", old, T, 2)
    app = _new_app(v, "alice", T)
    assert v.confirm_enrollment("alice", app.at(T + 30), now=T + 30).ok
    assert v.credential("alice").locked
