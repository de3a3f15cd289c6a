"""Fuzzing the verifier's public inputs: user ids, codes of every shape, times, proofs.

Whatever comes in, a call either answers (a Result, a bool, a record) or raises one of the
project's typed errors, and no message, repr or args (nor anything in its cause/context chain)
holds the seed of the enrolled user. Run against the memory store and a real SQLite file (whose
driver refuses some strings the memory store would keep).
"""

from __future__ import annotations

import base64
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.verifier import Result, Verifier
from tests.typed_errors import assert_clean_error, fuzz

from .conftest import T
from .helpers import totp

SEED = bytes(range(1, 21))
SEED_B32 = base64.b32encode(SEED).decode()
SECRETS = [SEED, SEED_B32]

_zones = st.builds(dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23, minutes=59),
                                              max_value=dt.timedelta(hours=23, minutes=59)))
users = st.one_of(
    st.sampled_from(["alice", "bob", "nobody", "", "a" * 255, "a" * 256, "al\x00ice"]),
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
            max_size=4),  # lone surrogates, what Python makes of non-UTF-8 argv bytes
    st.binary(max_size=20), st.integers(), st.none(), st.floats(), st.lists(st.text(), max_size=2),
)
codes = st.one_of(
    st.text(alphabet="0123456789", min_size=0, max_size=12),
    st.text(alphabet="0123456789 +-_.\t\n", max_size=12),
    st.text(max_size=12),  # any Unicode: other scripts' digits, superscripts, surrogates
    st.builds(lambda t: totp(SEED, t), st.integers(T - 300, T + 300)),
    st.integers(), st.binary(max_size=10), st.none(), st.floats(), st.booleans(),
)
times = st.one_of(
    st.none(), st.just(T), st.integers(T - 10**6, T + 10**6),
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(timezones=_zones), st.datetimes(), st.booleans(), st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False),
)


def _call(fn: Any, *args: Any, **kwargs: Any) -> object:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the check is what escaped: it must be typed and clean
        assert_clean_error(exc, SECRETS)
        return exc


def _check_answer(answer: object) -> None:
    if isinstance(answer, Result):
        assert isinstance(answer.ok, bool)
        text = repr(answer)
        assert SEED_B32 not in text and SEED.hex() not in text


def _verifier(kind: str, tmp: Path) -> Verifier:
    url = "memory:" if kind == "memory" else f"sqlite:///{tmp}/fuzz.db"
    v = Verifier.open(url, key=bytes(32), digits=(6, 8), lockout_after=99, delay_after=99,
                      resync_window=3)
    v.enroll("alice", SEED, now=T)
    v.enroll("bob", SEED_B32, kind="hotp", digits=8, now=T)
    v.begin_enrollment("carol", issuer="Ex", name="carol", now=T)
    return v


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_fuzz_verification_inputs(kind) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        v = _verifier(kind, Path(tmp))

        @fuzz
        @given(user=users, code=codes, code2=codes, now=times, which=st.integers(0, 5),
               flag=st.one_of(st.booleans(), st.none(), st.integers(0, 1)))
        def check(user: Any, code: Any, code2: Any, now: Any, which: int, flag: Any) -> None:
            if which == 0:
                answer = _call(v.verify, user, code, now)
            elif which == 1:
                answer = _call(v.verify_many, [(user, code), ("alice", code2), (user,)], now)
                if isinstance(answer, list):
                    for item in answer:
                        _check_answer(item)
            elif which == 2:
                answer = _call(v.resync, user, code, code2, now)
            elif which == 3:
                answer = _call(v.confirm_enrollment, user, code, now, current_code=code2,
                               reauthenticated=flag)
            elif which == 4:
                answer = _call(v.credential, user)
                _call(v.events, user)
            else:
                answer = _call(v.unlock, user, now)
            _check_answer(answer)

        try:
            check()
        finally:
            v.close()


secrets_in = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567= -", max_size=80),
    st.text(max_size=40).filter(lambda s: not s.strip().lower().startswith("otpauth")),
    st.binary(max_size=80), st.integers(), st.none(), st.just(SEED), st.just(SEED_B32),
)
params = st.fixed_dictionaries({}, optional={
    "kind": st.one_of(st.sampled_from(["totp", "hotp", "steam", ""]), st.integers()),
    "digits": st.one_of(st.integers(-5, 12), st.integers(), st.text(max_size=3), st.booleans()),
    "digest": st.one_of(st.sampled_from(["sha1", "sha256", "md5", "SHA1"]), st.integers()),
    "interval": st.one_of(st.integers(-5, 100), st.integers(), st.floats()),
    "t0": st.one_of(st.integers(), st.floats()),
    "counter": st.one_of(st.integers(), st.floats()),
    "issuer": st.one_of(st.text(max_size=10), st.none(), st.integers()),
    "name": st.one_of(st.text(max_size=10), st.none()),
    "replace": st.booleans(),
    "current_code": codes,
    "reauthenticated": st.one_of(st.booleans(), st.integers(0, 1)),
})


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_fuzz_enrollment_inputs(kind) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        v = _verifier(kind, Path(tmp))

        @fuzz
        @given(user=users, secret=secrets_in, kwargs=params, now=times)
        def check(user: Any, secret: Any, kwargs: dict[str, Any], now: Any) -> None:
            # The seed of the enrolled users, and the one being enrolled, stay out of errors.
            try:
                v.enroll(user, secret, now=now, **kwargs)
            except Exception as exc:
                assert_clean_error(exc, [*SECRETS, *([secret] if isinstance(
                    secret, (str, bytes)) else [])])

        try:
            check()
        finally:
            v.close()
