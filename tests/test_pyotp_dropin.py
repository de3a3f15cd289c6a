"""pyotp_hw.pyotp against pyotp 2.12.1 itself: same codes, verify answers, errors and surface.

The oracle is the real pyotp package (installed by the test extra). Each property calls both with
the same arguments and compares the outcome: the value, or the kind of error (ValueError,
TypeError, OTPVerificationError). Errors from pyotp_hw.pyotp must also be the project's typed
errors and carry no secret.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import hashlib
import hmac
import importlib.metadata
import inspect
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pyotp_hw
from pyotp_hw import pyotp as hw

from .typed_errors import assert_clean_error

_installed = importlib.metadata.version("pyotp")
if _installed != "2.12.1":
    pytest.skip(f"the oracle must be pyotp 2.12.1, found {_installed}", allow_module_level=True)

U64_MAX = (1 << 64) - 1
LIMIT = 253402300800  # 10000-01-01T00:00:00Z
DIGESTS = [hashlib.sha1, hashlib.sha256, hashlib.sha512]
FULLWIDTH = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                          "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ")

# Text without lone surrogates (see test_lone_surrogate_code_is_false for those).
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
keys = st.binary(min_size=14, max_size=80)
digits = st.integers(min_value=6, max_value=10)
digests = st.sampled_from(DIGESTS)


def b32(key: bytes, form: int = 0) -> str:
    """``key`` in base32: padded, unpadded or lower case."""
    text = base64.b32encode(key).decode("ascii")
    return [text, text.rstrip("="), text.lower()][form % 3]


secrets_ = st.builds(b32, keys, st.integers(0, 2))


def outcome(call: Callable[[], Any], secrets: tuple[str | bytes, ...] | None = None,
            ) -> tuple[str, Any]:
    """("ok", value) or ("raise", kind) for one call to pyotp or to pyotp_hw.pyotp.

    ``secrets`` is given for pyotp_hw.pyotp's calls: its errors must be typed and clean.
    """
    try:
        return ("ok", call())
    except (pyotp.OTPVerificationError, hw.OTPVerificationError) as exc:
        _check_ours(exc, secrets)
        return ("raise", "verification")
    except ValueError as exc:
        _check_ours(exc, secrets)
        return ("raise", "value")
    except TypeError as exc:
        _check_ours(exc, secrets)
        return ("raise", "type")


def _check_ours(exc: BaseException, secrets: tuple[str | bytes, ...] | None) -> None:
    if secrets is not None:
        assert_clean_error(exc, secrets)


def both(make: Callable[[Any], Any], use: Callable[[Any], Any],
         secrets: tuple[str | bytes, ...] = ()) -> tuple[str, Any]:
    """Build with each module and use the object; assert equal outcomes, return pyotp's."""
    theirs = outcome(lambda: use(make(pyotp)))
    ours = outcome(lambda: use(make(hw)), secrets or ())
    assert ours == theirs
    return theirs


@contextlib.contextmanager
def dst_zone() -> Iterator[None]:
    """Local time is New York's rules (with DST), as a POSIX TZ string, for naive datetimes."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EST5EDT,M3.2.0/2,M11.1.0/2"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


# ---------------------------------------------------------------- codes


@given(secret=secrets_, count=st.integers(-5, U64_MAX), initial=st.integers(-5, 1000),
       d=digits, digest=digests)
def test_hotp_codes_match_pyotp(secret: str, count: int, initial: int, d: int, digest: Any) -> None:
    if count + initial > U64_MAX:
        count = U64_MAX - initial
    both(lambda m: m.HOTP(secret, digits=d, digest=digest, initial_count=initial),
         lambda o: (o.at(count), o.generate_otp(max(count, 0)), o.byte_secret()), (secret,))


@st.composite
def moments(draw: st.DrawFn) -> Any:
    """A time as pyotp takes it: int or float seconds, an aware or a naive datetime."""
    kind = draw(st.sampled_from(["int", "float", "aware", "naive", "repeated", "outside"]))
    if kind == "repeated":
        # A wall-clock time that happens twice in dst_zone(): 01:00-02:00 on November's first
        # Sunday; fold picks the first (EDT) or the second (EST) of the two.
        year = draw(st.integers(1971, 9998))
        sunday = 1 + (6 - dt.date(year, 11, 1).weekday()) % 7
        return dt.datetime(year, 11, sunday, 1, draw(st.integers(0, 59)), draw(st.integers(0, 59)),
                           draw(st.integers(0, 999_999)), fold=draw(st.integers(0, 1)))
    seconds = draw(st.integers(0, LIMIT - 1))
    if kind == "int":
        return seconds
    if kind == "float":
        return seconds + draw(st.floats(0, 0.999))
    if kind == "outside":
        return draw(st.sampled_from([-1, -0.5, LIMIT, float("nan"), float("inf"), 10**12,
                                     dt.datetime.min, dt.datetime.max.replace(
                                         tzinfo=dt.timezone(dt.timedelta(hours=-1)))]))
    offset = dt.timezone(dt.timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
    moment = dt.datetime.fromtimestamp(min(seconds, LIMIT - 2 * 86400), dt.timezone.utc)
    moment = moment.replace(microsecond=draw(st.integers(0, 999_999)))
    if kind == "aware":
        return moment.astimezone(offset)
    return moment.astimezone().replace(tzinfo=None, fold=draw(st.integers(0, 1)))


intervals = st.one_of(st.integers(1, 120), st.sampled_from([0, -1, 121, 0.5, 45.5, 120.0]))


@given(secret=secrets_, when=moments(), interval=intervals, offset=st.integers(-3, 3),
       d=digits, digest=digests)
def test_totp_codes_match_pyotp(secret: str, when: Any, interval: Any,
                                offset: int, d: int, digest: Any) -> None:
    with dst_zone():
        both(lambda m: m.TOTP(secret, digits=d, digest=digest, interval=interval),
             lambda o: (o.timecode(when), o.at(when), o.at(when, counter_offset=offset),
                        o.interval), (secret,))


@given(secret=secrets_, when=moments(), interval=intervals)
def test_steam_codes_match_pyotp(secret: str, when: Any, interval: Any) -> None:
    with dst_zone():
        both(lambda m: m.contrib.Steam(secret, interval=interval),
             lambda o: (o.at(when), o.interval, o.digits, o.generate_otp(7)), (secret,))


def test_now_matches_pyotp() -> None:
    secret = b32(bytes(range(20)))
    for _ in range(3):
        theirs, ours = pyotp.TOTP(secret).now(), hw.TOTP(secret).now()
        if theirs == pyotp.TOTP(secret).now():  # not across a step boundary
            assert ours == theirs
            return
    pytest.fail("three step boundaries in a row")


# ---------------------------------------------------------------- verification


@st.composite
def candidates(draw: st.DrawFn, right: str) -> Any:
    """What a user may type: the right code in some form, or anything else."""
    return draw(st.one_of(
        st.just(right),
        st.just(right.translate(FULLWIDTH)),
        st.sampled_from([right + " ", " " + right, right[:3] + " " + right[3:], right[:-1],
                         right + "0", "", None, "abc", "\u0301\u0323" * 600, "a" * 1025]),
        st.builds(int, st.just(right)) if right.isdigit() else st.just(right.lower()),
        texts,
        st.integers(-10, 10**10),
    ))


@given(data=st.data(), secret=secrets_, when=moments(), interval=st.integers(1, 120),
       shift=st.integers(-4, 4), window=st.integers(-2, 4), d=digits, digest=digests)
def test_totp_verify_matches_pyotp(data: st.DataObject, secret: str, when: Any,
                                   interval: int, shift: int, window: int, d: int,
                                   digest: Any) -> None:
    with dst_zone():
        reference = pyotp.TOTP(secret, digits=d, digest=digest, interval=interval)
        right = outcome(lambda: reference.at(when, counter_offset=shift))
        code = data.draw(candidates(right[1] if right[0] == "ok" else "123456"))
        both(lambda m: m.TOTP(secret, digits=d, digest=digest, interval=interval),
             lambda o: o.verify(code, for_time=when, valid_window=window), (secret,))
        both(lambda m: m.TOTP(secret, digits=d, digest=digest, interval=interval),
             lambda o: o.verify_and_get_timecode(code, for_time=when, valid_window=window),
             (secret,))


@given(data=st.data(), secret=secrets_, counter=st.integers(-2, 10**6),
       initial=st.integers(0, 50), shift=st.integers(-1, 1), d=digits, digest=digests)
def test_hotp_verify_matches_pyotp(data: st.DataObject, secret: str, counter: int, initial: int,
                                   shift: int, d: int, digest: Any) -> None:
    reference = pyotp.HOTP(secret, digits=d, digest=digest, initial_count=initial)
    right = outcome(lambda: reference.at(counter + shift))
    code = data.draw(candidates(right[1] if right[0] == "ok" else "123456"))
    both(lambda m: m.HOTP(secret, digits=d, digest=digest, initial_count=initial),
         lambda o: o.verify(code, counter), (secret,))


@given(data=st.data(), secret=secrets_, when=st.integers(0, LIMIT - 1),
       shift=st.integers(-3, 3), window=st.integers(-1, 3))
def test_steam_verify_matches_pyotp(data: st.DataObject, secret: str, when: int, shift: int,
                                    window: int) -> None:
    right = pyotp.contrib.Steam(secret).at(when, counter_offset=shift) if when >= 90 else "BDJKQ"
    code = data.draw(candidates(right))
    both(lambda m: m.contrib.Steam(secret),
         lambda o: (outcome(lambda: o.verify(code, for_time=when, valid_window=window)),
                    outcome(lambda: o.verify_and_get_timecode(code, for_time=when,
                                                              valid_window=window))),
         (secret,))


def test_wide_windows_match_pyotp() -> None:
    """Windows wider than the C core's slice (1000 steps) are covered in slices.

    Among 3,001 six-digit codes some repeat: for those, both must answer the earliest step.
    """
    secret = b32(bytes(range(20)))
    theirs, ours = pyotp.TOTP(secret), hw.TOTP(secret)
    now = 1_700_000_000
    seen: dict[str, int] = {}
    repeats = []
    for shift in range(-1500, 1501):
        code = theirs.at(now, counter_offset=shift)
        if code in seen:
            repeats.append(shift)
        seen[code] = shift
    assert repeats
    for shift in (-1500, -1001, -1000, 0, 999, 1000, 1001, 1499, 1500, *repeats):
        code = theirs.at(now, counter_offset=shift)
        for window in (1000, 1500, 2600):
            assert outcome(lambda c=code, w=window: ours.verify_and_get_timecode(
                c, for_time=now, valid_window=w), ()) == outcome(
                lambda c=code, w=window: theirs.verify_and_get_timecode(
                    c, for_time=now, valid_window=w))


def test_malformed_codes_are_false_not_errors() -> None:
    """Issue 12: a login handler must see False for a typo, never an exception."""
    totp = hw.TOTP(b32(bytes(range(20))))
    code = totp.at(1_700_000_000)
    for typed in (code + " ", code[:3] + " " + code[3:], "abc", "", None, 12, "\n", "-" + code):
        assert totp.verify(typed, for_time=1_700_000_000) is False
        assert pyotp.TOTP(totp.secret).verify(typed, for_time=1_700_000_000) is False


# ---------------------------------------------------------------- URIs


names = st.one_of(st.none(), st.just(""), texts, st.sampled_from(
    ["mark@percival", "a:b", "Big Corp", "x/y", "ü@ö", "%41", "+", "a&b=c?#"]))


@given(secret=secrets_, name=names, issuer=names, uri_name=names, uri_issuer=names,
       d=digits, digest=digests, interval=st.integers(1, 120),
       initial=st.one_of(st.none(), st.integers(0, 2**70)),
       extra=st.dictionaries(st.sampled_from(["image", "color", "icon", "x y"]),
                             st.one_of(texts, st.sampled_from(
                                 ["https://a.b/c.png", "http://a.b/c", "https://a.b"]),
                                 st.integers(0, 3)), max_size=2))
def test_provisioning_uris_match_pyotp(secret: str, name: Any, issuer: Any, uri_name: Any,
                                       uri_issuer: Any, d: int, digest: Any, interval: int,
                                       initial: Any, extra: dict[str, Any]) -> None:
    both(lambda m: m.TOTP(secret, digits=d, digest=digest, interval=interval, name=name,
                          issuer=issuer),
         lambda o: o.provisioning_uri(name=uri_name, issuer_name=uri_issuer, **extra), (secret,))
    both(lambda m: m.HOTP(secret, digits=d, digest=digest, name=name, issuer=issuer),
         lambda o: o.provisioning_uri(name=uri_name, issuer_name=uri_issuer,
                                      initial_count=initial, **extra), (secret,))
    both(lambda m: m.contrib.Steam(secret, name=name, issuer=issuer),
         lambda o: o.provisioning_uri(name=uri_name, issuer_name=uri_issuer), (secret,))


def summary(otp: Any) -> tuple[Any, ...]:
    """What parse_uri produced, comparable across the two modules."""
    return (type(otp).__name__, otp.secret, otp.name, otp.issuer, otp.digits,
            getattr(otp, "interval", None), getattr(otp, "initial_count", None),
            otp.digest().name, otp.generate_otp(1), otp.provisioning_uri())


# Values each parameter may take in generated URIs: usable ones first, then unusable ones.
GOOD_VALUES = {
    "secret": ["GEZDGNBVGY3TQOJQGEZDGNBV", "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
               "FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW"],
    "issuer": ["Example", "Big%20Corp", "a%3Ab"],
    "algorithm": ["SHA1", "SHA256", "SHA512"],
    "encoder": ["steam"],
    "digits": ["6", "7", "8"],
    "period": ["30", "60", "120", "1"],
    "counter": ["0", "7", "123456789012"],
    "image": ["https://a.b/c.png"],
    "unknown": ["one", "two"],
}
BAD_VALUES = {
    "secret": ["wrn3pqx5uqxqvnqr", "SOME_SECRET", "", "GEZDGNBVGY3TQOJQGEZDGNB1"],
    "issuer": [""],
    "algorithm": ["sha1", "MD5", ""],
    "encoder": ["other", ""],
    "digits": ["5", "10", "x", "", " 8"],
    "period": ["121", "0", "-5", "x", ""],
    "counter": ["-1", "x", ""],
    "image": ["nourl"],
    "unknown": [""],
}


@st.composite
def uris(draw: st.DrawFn) -> str:
    """otpauth URIs, mostly usable: types, labels, and now and then a duplicate or bad value."""
    scheme = draw(st.sampled_from(["otpauth"] * 8 + ["http", "OTPAUTH"]))
    kind = draw(st.sampled_from(["totp"] * 4 + ["hotp"] * 3 + ["derp", ""]))
    label = draw(st.sampled_from(["", "Example", "Steam:", "Text%3A%20More:Secret", "a%3Ab",
                                  "Big%20Corp:bob", "Example:alice@x", "a:b:c", "%E2%82%AC",
                                  "Example:"]))
    names = draw(st.lists(st.sampled_from(sorted(GOOD_VALUES)), max_size=5, unique=True))
    names = [n for n in names if n != "secret"]
    if draw(st.integers(0, 9)):
        names.insert(draw(st.integers(0, len(names))), "secret")
    if names and not draw(st.integers(0, 7)):
        names.append(draw(st.sampled_from(names)))  # a duplicate
    query = []
    for name in names:
        table = BAD_VALUES if not draw(st.integers(0, 7)) else GOOD_VALUES
        query.append(f"{name}={draw(st.sampled_from(table[name]))}")
    return f"{scheme}://{kind}/{label}?{'&'.join(query)}"


@given(uri=uris())
def test_parse_uri_matches_pyotp(uri: str) -> None:
    theirs = outcome(lambda: summary(pyotp.parse_uri(uri)))
    ours = outcome(lambda: summary(hw.parse_uri(uri)), ("GEZDGNBVGY3TQOJQGEZDGNBV",))
    assert ours == theirs


@pytest.mark.parametrize("uri", [
    "http://hello.com", "otpauth://totp", "otpauth://derp?secret=foo", "otpauth://totp?digits=-1",
    "otpauth://totp/SomeIssuer:?issuer=AnotherIssuer", "otpauth://totp?algorithm=aes",
    "otpauth://totp/?secret=GEZDGNBVGY3TQOJQGEZDGNBV&secret=GEZDGNBVGY3TQOJQGEZDGNBV",
])
def test_parse_uri_error_texts_are_pyotps(uri: str) -> None:
    with pytest.raises(ValueError) as theirs:
        pyotp.parse_uri(uri)
    with pytest.raises(pyotp_hw.InvalidURI) as ours:
        hw.parse_uri(uri)
    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------- secrets and other helpers


@given(length=st.integers(-2, 80), which=st.sampled_from(["random_base32", "random_hex"]))
def test_random_secrets_match_pyotp(length: int, which: str) -> None:
    theirs = outcome(lambda: len(getattr(pyotp, which)(length=length)))
    ours = outcome(lambda: len(getattr(hw, which)(length=length)), ())
    assert ours == theirs
    if ours[0] == "ok":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" if which == "random_base32" else (
            "ABCDEF0123456789")
        assert set(getattr(hw, which)(length=length)) <= set(alphabet)


def test_random_base32_uses_the_csprng() -> None:
    assert type(hw.compat.random) is type(pyotp.compat.random)  # secrets.SystemRandom
    drawn = {hw.random_base32() for _ in range(50)}
    assert len(drawn) == 50


@given(a=st.one_of(texts, st.sampled_from(["ａ" * 1024, "a" * 1025, "ｘs１２３45"])),
       b=st.one_of(texts, st.sampled_from(["a" * 1024, "xs12345"])))
def test_strings_equal_matches_pyotp(a: str, b: str) -> None:
    assert hw.utils.strings_equal(a, b) == pyotp.utils.strings_equal(a, b)
    assert hw.utils.strings_equal(a, a) == pyotp.utils.strings_equal(a, a)


@given(secret=secrets_, name=texts, issuer=st.one_of(st.none(), texts),
       counter=st.one_of(st.none(), st.integers(0, 10)), d=st.one_of(st.none(), digits),
       algorithm=st.sampled_from([None, "sha1", "sha256"]),
       period=st.one_of(st.none(), st.integers(1, 120)))
def test_build_uri_matches_pyotp(secret: str, name: str, issuer: Any, counter: Any, d: Any,
                                 algorithm: Any, period: Any) -> None:
    args = (secret, name, counter, issuer, algorithm, d, period)
    assert hw.utils.build_uri(*args) == pyotp.utils.build_uri(*args)


# ---------------------------------------------------------------- objects


@given(secret=secrets_, d=digits, digest=digests, when=st.integers(0, LIMIT - 1))
def test_pickle_and_copies_keep_working(secret: str, d: int, digest: Any, when: int) -> None:
    for make in (lambda: hw.TOTP(secret, digits=d, digest=digest, name="n", issuer="i"),
                 lambda: hw.HOTP(secret, digits=d, digest=digest, initial_count=3),
                 lambda: hw.contrib.Steam(secret)):
        original = make()
        expected = original.at(when)
        for clone in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original),
                      copy.copy(original)):
            assert type(clone) is type(original)
            assert vars(clone).keys() >= {"secret", "digits", "digest", "name", "issuer"}
            assert clone.at(when) == expected
            assert clone.provisioning_uri() == original.provisioning_uri()
        assert pickle.loads(pickle.dumps(original)).__dict__.get("_pyotp_hw_core") is None


def test_pickles_hold_only_public_state() -> None:
    totp = hw.TOTP(b32(bytes(range(20))))
    totp.at(0)
    assert b"cffi" not in pickle.dumps(totp) and b"_pyotp_hw_core" not in pickle.dumps(totp)
    assert set(totp.__getstate__()) == set(vars(pyotp.TOTP(totp.secret)))


def test_reassigned_attributes_are_followed_as_in_pyotp() -> None:
    first, second = b32(bytes(range(20))), b32(bytes(range(40, 72)))
    for module in (pyotp, hw):
        totp = module.TOTP(first)
        totp.at(0)
        totp.secret = second
        totp.digits = 8
        totp.digest = hashlib.sha256
        totp.interval = 60
        totp.name = "x@y"
    results = []
    for module in (pyotp, hw):
        totp = module.TOTP(first)
        totp.at(0)
        totp.secret, totp.digits, totp.digest, totp.interval = second, 8, hashlib.sha256, 60
        results.append((totp.at(1_700_000_000), totp.provisioning_uri(),
                        totp.verify(totp.at(1_700_000_000), for_time=1_700_000_000)))
    assert results[0] == results[1]


def test_subclasses_that_override_hooks_behave_as_in_pyotp() -> None:
    raw = bytes(range(20))

    def raw_key(module: Any) -> Any:
        class RawKey(module.TOTP):  # type: ignore[misc, name-defined]
            def byte_secret(self) -> bytes:
                return raw

        return RawKey(b32(raw))

    def reversed_codes(module: Any) -> Any:
        class Reversed(module.HOTP):  # type: ignore[misc, name-defined]
            def generate_otp(self, input: int) -> str:
                return str(super().generate_otp(input))[::-1]

        return Reversed(b32(raw))

    for make, use in ((raw_key, lambda o: (o.at(59), o.verify(o.at(59), for_time=59,
                                                              valid_window=1))),
                      (reversed_codes, lambda o: (o.at(3), o.verify(o.at(3), 3),
                                                  o.verify(o.at(3)[::-1], 3)))):
        ours = outcome(lambda m=make, u=use: u(m(hw)), ())
        assert ours == outcome(lambda m=make, u=use: u(m(pyotp)))


def test_codes_come_from_the_c_core_not_pythons_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = b32(bytes(range(20)))
    expected = (pyotp.TOTP(secret).at(1_700_000_000), pyotp.HOTP(secret).at(5),
                pyotp.contrib.Steam(secret).at(1_700_000_000))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pyotp_hw.pyotp called Python's hmac")

    for name in ("new", "digest", "HMAC"):
        monkeypatch.setattr(hmac, name, refuse)
    totp, hotp, steam = hw.TOTP(secret), hw.HOTP(secret), hw.contrib.Steam(secret)
    assert (totp.at(1_700_000_000), hotp.at(5), steam.at(1_700_000_000)) == expected
    assert totp.verify(expected[0], for_time=1_700_000_000, valid_window=1)
    assert hotp.verify(expected[1], 5)
    assert steam.verify_and_get_timecode(expected[2], for_time=1_700_000_000) == 1_700_000_000 // 30


# ---------------------------------------------------------------- the public surface


MODULES = ["", "otp", "hotp", "totp", "utils", "compat", "exceptions", "contrib",
           "contrib.steam"]


def _module(root: Any, dotted: str) -> Any:
    for part in filter(None, dotted.split(".")):
        root = getattr(root, part)
    return root


def _public(module: Any) -> dict[str, Any]:
    """pyotp's own names in a module: what it defines, its submodules, its constants."""
    found = {}
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        defined_here = getattr(value, "__module__", "").startswith("pyotp")
        submodule = inspect.ismodule(value) and value.__name__.startswith("pyotp")
        constant = isinstance(value, (str, int)) and name.isupper()
        if defined_here or submodule or constant or name in ("random", "compare_digest"):
            found[name] = value
    return found


@pytest.mark.parametrize("dotted", MODULES)
def test_every_public_name_of_pyotp_exists(dotted: str) -> None:
    theirs = _public(_module(pyotp, dotted))
    ours = _module(hw, dotted)
    assert theirs, dotted
    for name, value in theirs.items():
        assert hasattr(ours, name), f"pyotp{'.' + dotted if dotted else ''}.{name} is missing"
        mine = getattr(ours, name)
        if isinstance(value, (str, int)):
            assert mine == value, name
        if inspect.isclass(value) or inspect.isfunction(value):
            _same_signatures(value, mine, name)


def _same_signatures(theirs: Any, ours: Any, name: str) -> None:
    members = [(name, theirs, ours)]
    if inspect.isclass(theirs):
        members = [(f"{name}.{m}", getattr(theirs, m), getattr(ours, m, None))
                   for m in vars(theirs) if not m.startswith("_") or m == "__init__"]
        for base in theirs.__mro__[1:]:
            if base.__module__.startswith("pyotp"):
                assert any(b.__name__ == base.__name__ for b in ours.__mro__), (name, base)
    for label, a, b in members:
        assert b is not None, f"{label} is missing"
        if callable(a) and not inspect.isclass(a):
            pa, pb = inspect.signature(a).parameters, inspect.signature(b).parameters
            assert [(p.name, p.kind) for p in pa.values()] == [
                (p.name, p.kind) for p in pb.values()], label
            for p in pa.values():
                q = pb[p.name].default
                # digest defaults: None for HOTP/TOTP, hashlib.sha1 for OTP, in both.
                assert q == p.default or (p.default is not inspect.Parameter.empty
                                          and repr(q) == repr(p.default)), (label, p.name)


def test_errors_are_pyotps_and_the_projects() -> None:
    assert issubclass(hw.OTPVerificationError, hw.PyOTPError)
    assert issubclass(hw.PyOTPError, pyotp_hw.OTPError)
    assert hw.exceptions.PyOTPError is hw.PyOTPError
    assert hw.OTP.min_secret_length_bits == 112
    assert hw.TOTP(b32(bytes(20))).digest is hashlib.sha1
    assert hw.TOTP(b32(bytes(20))).name == "Secret"


# ---------------------------------------------------------------- documented deviations


def test_deviation_digests_beyond_the_otpauth_three_are_refused() -> None:
    """pyotp computes HMAC-SHA384 or SHA3 in Python; the C core does SHA1/256/512 only."""
    secret = b32(bytes(range(20)))
    pyotp.TOTP(secret, digest=hashlib.sha384).at(0)
    for digest in (hashlib.sha384, hashlib.sha3_256, hashlib.blake2b, hashlib.sha224):
        with pytest.raises(pyotp_hw.InvalidArgument, match="SHA1, HMAC-SHA256 and HMAC-SHA512"):
            hw.TOTP(secret, digest=digest)


def test_deviation_counters_past_64_bits_are_refused() -> None:
    """RFC 4226 counters are 8 bytes; pyotp would HMAC a 9-byte message."""
    hotp = hw.HOTP(b32(bytes(range(20))))
    with pytest.raises(pyotp_hw.InvalidArgument, match="2\\*\\*64-1"):
        hotp.at(1 << 64)
    assert hotp.at(U64_MAX) == pyotp.HOTP(hotp.secret).at(U64_MAX)


def test_lone_surrogate_code_is_false() -> None:
    """pyotp raises UnicodeEncodeError for a lone surrogate; a malformed code is just False."""
    totp = hw.TOTP(b32(bytes(range(20))))
    with pytest.raises(UnicodeEncodeError):
        pyotp.TOTP(totp.secret).verify("\ud800", for_time=0)
    assert totp.verify("\ud800", for_time=0) is False
    assert hw.utils.strings_equal("\ud800", "\ud800") is True
    assert hw.utils.strings_equal("\ud800", "\ud801") is False


# ---------------------------------------------------------------- the alias

def test_one_alias_line_serves_pyotps_submodules_too() -> None:
    """``sys.modules["pyotp"] = pyotp_hw.pyotp`` alone: ``from pyotp.totp import TOTP`` works."""
    script = """
import pkgutil, sys, warnings
warnings.simplefilter("error")
import pyotp_hw.pyotp
sys.modules["pyotp"] = pyotp_hw.pyotp
from pyotp.totp import TOTP
from pyotp.hotp import HOTP
from pyotp.utils import strings_equal
from pyotp.contrib.steam import Steam
import pyotp.contrib, pyotp.otp, pyotp.exceptions, pyotp.compat
import pyotp
assert TOTP is pyotp.TOTP is pyotp_hw.pyotp.totp.TOTP
assert HOTP is pyotp_hw.pyotp.HOTP and Steam is pyotp_hw.pyotp.contrib.Steam
assert strings_equal is pyotp_hw.pyotp.utils.strings_equal
assert sys.modules["pyotp.contrib.steam"] is pyotp_hw.pyotp.contrib.steam
assert pkgutil.resolve_name("pyotp.totp.time") is sys.modules["time"]
assert pyotp_hw.pyotp.totp.__spec__.name == "pyotp_hw.pyotp.totp"
assert not [m for m in sys.modules if m.startswith("pyotp.") and
            not sys.modules[m].__name__.startswith("pyotp_hw.pyotp")]
print(TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").at(59))
# An object pickled by pyotp itself (a session, a cache) loads as the drop-in's.
import pickle
old = pickle.loads(bytes.fromhex(sys.argv[1]))
assert type(old) is pyotp_hw.pyotp.TOTP
print(old.at(59), old.provisioning_uri())
"""
    pickled = pickle.dumps(pyotp.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", digits=8, name="a@b"))
    proc = subprocess.run([sys.executable, "-c", script, pickled.hex()], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split("\n")[:2] == [
        "287082", "94287082 " + pyotp.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", digits=8,
                                           name="a@b").provisioning_uri()]


@pytest.mark.parametrize("code", ["2147483647", "2147483648", "4294967295", "4294967296",
                                  "9999999999"])
def test_ten_digit_codes_above_31_bits_are_false(code: str) -> None:
    """Truncation keeps 31 bits, so such codes never match; they must not reach the C core."""
    for module in (pyotp, hw):
        assert module.HOTP(b32(bytes(range(20))), digits=10).verify(code, 0) is False
        assert module.TOTP(b32(bytes(range(20))), digits=10).verify(code, for_time=0) is False


# ---------------------------------------------------------------- the benchmark rows


def test_bench_shows_the_dropin_next_to_pyotp() -> None:
    from pyotp_hw import bench

    cases = bench.cases(quick=True, digests=["sha1", "sha256"])
    dropin = [c for c in cases if c.name.startswith("pyotp_hw.pyotp ")]
    assert {c.group for c in dropin} == {
        f"{d} {job}" for d in ("sha1", "sha256")
        for job in ("HOTP generation", "TOTP verify +-1, new key per user",
                    "TOTP verify +-1, keys prepared")} | {"sha1 TOTP.now(), one code per call"}
    for case in dropin:
        peers = [c for c in cases if c.group == case.group and c.family == "pyotp"]
        assert peers and all(p.units == case.units for p in peers), case.group
    baselines = [c for c in cases if c.family == "pyotp" and not c.baseline_group]
    results = bench.run(baselines + dropin, repeat=1)
    assert all(r.ratio_to_pyotp is not None and r.ratio_to_pyotp > 0 for r in results)



@pytest.mark.parametrize("secret", ["ABC!DEFGHIJKLMNOPQRSTUVWXY", "JBSWY3DPEHPK3PX1",
                                    "JBSWY3DP EHPK3PXP", "JBSWY3DPEHPK3PXP=="])
def test_bad_base32_raises_what_pyotp_raises(secret: str) -> None:
    # pyotp lets base64.b32decode's binascii.Error out; code written for it catches that.
    import binascii

    with pytest.raises(binascii.Error):
        pyotp.TOTP(secret).now()
    with pytest.raises(binascii.Error) as caught:
        hw.TOTP(secret).now()
    assert isinstance(caught.value, pyotp_hw.InvalidSecret)
    assert secret not in str(caught.value) and secret not in repr(caught.value)
