"""The batch API: input forms, broadcasting, outputs, threads, key tables, and bad input."""

from __future__ import annotations

import gc
from array import array

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyotp_hw
from pyotp_hw import bulk

from . import oracle

KEY = b"12345678901234567890"
RFC_CODES = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489]


@pytest.mark.parametrize(
    "counters",
    [
        list(range(10)),
        tuple(range(10)),
        range(10),
        array("Q", range(10)),
        array("q", range(10)),
        array("I", range(10)),
        array("H", range(10)),
        np.arange(10, dtype=np.uint64),
        np.arange(10, dtype=np.int64),
        np.arange(10, dtype=np.int32),
        memoryview(array("Q", range(10))),
    ],
    ids=lambda c: type(c).__name__ + getattr(c, "typecode", str(getattr(c, "dtype", ""))),
)
def test_counter_input_forms(counters: object) -> None:
    assert list(bulk.hotp(KEY, counters)) == RFC_CODES


def test_zero_copy_numpy_out_and_keytable() -> None:
    out = np.zeros(10, dtype=np.uint32)
    with bulk.KeyTable([KEY]) as table:
        result = bulk.hotp(table, np.arange(10, dtype=np.uint64), out=out)
    assert result is out
    assert out.tolist() == RFC_CODES


def test_out_too_small_or_wrong_type() -> None:
    with pytest.raises(pyotp_hw.InvalidArgument, match="out holds 3 items"):
        bulk.hotp(KEY, range(10), out=np.zeros(3, dtype=np.uint32))
    with pytest.raises(pyotp_hw.InvalidArgument, match="uint32"):
        bulk.hotp(KEY, range(10), out=np.zeros(10, dtype=np.int64))
    with pytest.raises(pyotp_hw.InvalidArgument, match="writable"):
        bulk.hotp(KEY, range(10), out=b"\0" * 40)


def test_strided_numpy_input_is_copied_not_misread() -> None:
    counters = np.arange(20, dtype=np.uint64)[::2]
    assert list(bulk.hotp(KEY, counters)) == [int(oracle.hotp(KEY, c)) for c in range(0, 20, 2)]


def test_times_as_floats_datetimes_and_numpy() -> None:
    import datetime as dt

    keys = [KEY] * 3
    moments = [59.9, dt.datetime.fromtimestamp(59, dt.timezone.utc), 59]
    assert list(bulk.totp(keys, moments, digits=8)) == [94287082] * 3
    assert list(bulk.totp(keys, np.array([59, 59, 59], dtype=np.int64), digits=8)) == [94287082] * 3
    assert list(bulk.totp(keys, np.array([59.5, 59.0, 59.99]), digits=8)) == [94287082] * 3


def test_naive_datetime_is_refused() -> None:
    import datetime as dt

    with pytest.raises(pyotp_hw.InvalidArgument, match="naive"):
        bulk.totp([KEY], dt.datetime(2020, 1, 1))
    with pytest.raises(pyotp_hw.InvalidArgument, match="naive"):
        pyotp_hw.TOTP(KEY).at(dt.datetime(2020, 1, 1))


def test_length_mismatch_names_the_arguments() -> None:
    with pytest.raises(pyotp_hw.InvalidArgument, match="differ in length"):
        bulk.hotp([KEY, KEY, KEY], [1, 2])
    with pytest.raises(pyotp_hw.InvalidArgument, match="differ in length"):
        bulk.verify_totp([KEY, KEY], [1, 2, 3], 59)


def test_negative_and_oversized_values() -> None:
    with pytest.raises(pyotp_hw.InvalidArgument, match=r"counters\[1\]"):
        bulk.hotp(KEY, [1, -1])
    with pytest.raises(pyotp_hw.InvalidArgument, match=r"counters\[1\] is negative"):
        bulk.hotp(KEY, np.array([1, -1], dtype=np.int64))
    with pytest.raises(pyotp_hw.InvalidArgument):
        bulk.hotp(KEY, 1 << 64)
    with pytest.raises(pyotp_hw.InvalidArgument, match="before t0"):
        bulk.totp([KEY], [10], t0=20)
    with pytest.raises(pyotp_hw.InvalidArgument, match=r"item 1"):
        bulk.totp([KEY, KEY], [30, 10], t0=20)
    with pytest.raises(pyotp_hw.InvalidArgument, match=r"codes\[0\]"):
        bulk.verify_totp([KEY], [-5], 59)


def test_bad_digits_digest_interval_window_threads() -> None:
    for bad in (5, 11, 0):
        with pytest.raises(pyotp_hw.InvalidArgument, match="digits"):
            bulk.hotp(KEY, 1, digits=bad)
    with pytest.raises(pyotp_hw.InvalidType):
        bulk.hotp(KEY, 1, digits="6")  # type: ignore[arg-type]
    with pytest.raises(pyotp_hw.InvalidArgument, match="md5"):
        bulk.hotp(KEY, 1, digest="md5")
    with pytest.raises(pyotp_hw.InvalidArgument, match="interval"):
        bulk.totp([KEY], 59, interval=0)
    with pytest.raises(pyotp_hw.InvalidArgument, match="window"):
        bulk.verify_totp([KEY], [1], 59, window=1001)
    with pytest.raises(pyotp_hw.InvalidType, match="window"):
        bulk.verify_totp([KEY], [1], 59, window=(1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(pyotp_hw.InvalidArgument, match="threads"):
        bulk.hotp(KEY, 1, threads=0)


def test_bad_secrets_name_their_index_not_their_value() -> None:
    with pytest.raises(pyotp_hw.InvalidSecret, match="secret 1") as info:
        bulk.KeyTable([KEY, "NOT*BASE32"])
    assert "NOT" not in str(info.value)
    with pytest.raises(pyotp_hw.InvalidSecret, match="secret 0: secret is empty"):
        bulk.hotp([b""], 1)
    with pytest.raises(pyotp_hw.InvalidType):
        bulk.KeyTable([KEY, 42])  # type: ignore[list-item]
    with pytest.raises(pyotp_hw.InvalidType):
        bulk.KeyTable(KEY)  # type: ignore[arg-type]


def test_rows_are_checked() -> None:
    with bulk.KeyTable([KEY, KEY]) as table:
        with pytest.raises(pyotp_hw.InvalidArgument, match="row"):
            bulk.hotp(table, [1, 2], rows=[0, 2])


def test_keytable_digest_conflict_and_select() -> None:
    keys = [bytes([i]) * 20 for i in range(1, 6)]
    with bulk.KeyTable(keys, digest="sha256") as table:
        assert table.digest == "sha256" and len(table) == 5
        with pytest.raises(pyotp_hw.InvalidArgument, match="differs"):
            bulk.hotp(table, 1, digest="sha1")
        with table.select([4, 0]) as picked:
            assert list(bulk.hotp(picked, 7)) == [
                int(oracle.hotp(keys[4], 7, 6, "sha256")),
                int(oracle.hotp(keys[0], 7, 6, "sha256")),
            ]
        assert "sha256" in repr(table) and "\\x01" not in repr(table)


def test_keytable_close_wipes_and_blocks_use() -> None:
    table = bulk.KeyTable([KEY])
    assert not table.closed
    table.close()
    table.close()  # idempotent
    assert table.closed
    with pytest.raises(pyotp_hw.InvalidArgument, match="closed"):
        bulk.hotp(table, 1)
    assert "closed" in repr(table)


def test_keytable_wipe_zeroes_the_key_memory() -> None:
    # The C memory of a table holds the key's HMAC states until wiped, then only zeros.
    # otp_keytable_free (what close() and garbage collection call) wipes the same way.
    from pyotp_hw import _native

    native = _native.NativeKeyTable(_native.digest_id("sha1"), [KEY])
    size = _native.ffi.new("size_t *")
    mem = _native.lib.otp_keytable_memory(native.ptr, size)
    view = bytes(_native.ffi.buffer(mem, size[0]))
    assert size[0] == 2 * 5 * 16 * 4 and any(view)
    _native.lib.otp_keytable_wipe(native.ptr)
    assert not any(bytes(_native.ffi.buffer(mem, size[0])))
    native.close()
    gc.collect()


@pytest.mark.parametrize("threads", [1, 2, 3, None])
def test_threads_give_identical_results(threads: int | None) -> None:
    n = 50_000
    keys = [i.to_bytes(20, "big") for i in range(257)]
    with bulk.KeyTable(keys) as table:
        rows = array("I", (i % 257 for i in range(n)))
        got = bulk.hotp(table, array("Q", range(n)), rows=rows, threads=threads)
        ref = bulk.hotp(table, array("Q", range(n)), rows=rows, threads=1)
        assert got == ref
        assert got[12345] == int(oracle.hotp(keys[12345 % 257], 12345))
        codes = array("I", got)
        codes[777] = (codes[777] + 1) % 1_000_000
        steps = bulk.verify_hotp(table, codes, array("Q", range(n)), rows=rows, threads=threads)
        assert steps[777] == -1 and steps[0] == 0 and steps[n - 1] == n - 1


def test_verify_hotp_int64_result_limit() -> None:
    with pytest.raises(pyotp_hw.InvalidArgument, match="2\\^63"):
        bulk.verify_hotp([KEY], [0], [(1 << 63) - 2], look_ahead=5)
    # The scalar API covers the whole range, up to 2^64 - 1.
    top = (1 << 64) - 1
    otp = pyotp_hw.HOTP(KEY)
    assert otp.verify(oracle.hotp(KEY, top), top - 3, look_ahead=5)
    assert otp.find(int(oracle.hotp(KEY, top)), top - 3, 5) == top


def test_window_never_wraps_at_zero() -> None:
    # At step 0 a window reaching back must not wrap to 2^64 - 1.
    top_code = int(oracle.hotp(KEY, (1 << 63) - 1))
    assert list(bulk.verify_totp([KEY], [top_code], 0, window=5)) == [-1]
    assert list(bulk.verify_totp([KEY], [int(oracle.hotp(KEY, 0))], 0, window=5)) == [0]


def test_lowest_matching_step_is_reported_and_last_steps_refuse_replay() -> None:
    t = 1_000_000 * 30
    code = int(oracle.hotp(KEY, 1_000_000))
    assert list(bulk.verify_totp([KEY], [code], t)) == [1_000_000]
    assert list(bulk.verify_totp([KEY], [code], t, last_steps=[1_000_000])) == [-1]
    assert list(bulk.verify_totp([KEY], [code], t, last_steps=[999_999])) == [1_000_000]
    earlier = int(oracle.hotp(KEY, 999_999))
    assert list(bulk.verify_totp([KEY], [earlier], t, last_steps=[1_000_000])) == [-1]


def test_implementations_lists_supported_kernels() -> None:
    names = bulk.implementations()
    assert {"sha1-portable", "sha256-portable", "sha512-portable"} <= set(names)
    assert bulk.kernel_name("sha1") in names


def test_gather_rows_of_several_tables_into_one() -> None:
    a_keys = [bytes([i]) * 20 for i in range(1, 5)]
    b_keys = [bytes([i]) * 20 for i in range(10, 13)]
    with bulk.KeyTable(a_keys) as a, bulk.KeyTable(b_keys) as b:
        with bulk.KeyTable.gather([(a, [3, 0]), (b, [2]), (a, [1])]) as merged:
            assert len(merged) == 4
            expected = [a_keys[3], a_keys[0], b_keys[2], a_keys[1]]
            assert list(bulk.hotp(merged, 99)) == [int(oracle.hotp(k, 99)) for k in expected]
        with bulk.KeyTable(b_keys, digest="sha256") as other:
            with pytest.raises(pyotp_hw.InvalidArgument, match="different digests"):
                bulk.KeyTable.gather([(a, [0]), (other, [0])])
        with pytest.raises(pyotp_hw.InvalidArgument, match="row"):
            bulk.KeyTable.gather([(a, [4])])
        with pytest.raises(pyotp_hw.InvalidArgument, match="at least one row"):
            bulk.KeyTable.gather([(a, [])])


def test_bytearray_secrets_are_not_copied_so_callers_can_wipe_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    secret = bytearray(KEY)

    def copying_decoder(value: object) -> bytes:
        raise AssertionError("a list of bytes and bytearrays was decoded (copied) one by one")

    # No immutable copy of the key is made on the way to the C table: the decoding path, which
    # makes one per key, is not taken.
    monkeypatch.setattr(bulk, "decode_secret", copying_decoder)
    with bulk.KeyTable([secret, b"x"]) as table:
        secret[:] = bytes(len(secret))  # the caller wipes its copy; the table keeps working
        assert list(bulk.hotp(table, range(3), rows=[0, 0, 0])) == RFC_CODES[:3]


# ---- one code against one raw key (the verifier's small rounds)

@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
@given(key=st.binary(min_size=1, max_size=200), offset=st.integers(-4, 4),
       last=st.integers(-1, 6), digits=st.integers(6, 10))
@settings(max_examples=60, deadline=None)
def test_verify_totp_key_against_hmac(digest: str, key: bytes, offset: int, last: int,
                                      digits: int) -> None:
    t, period = 1_000_000 + 7, 30
    now = t // period
    code = int(oracle.totp(key, t + offset * period, digits=digits, digest=digest))
    step, seen = bulk.verify_totp_key(bytearray(key), code, t, window=(2, 3), digits=digits,
                                      digest=digest, last_step=now + last - 3 if last >= 0
                                      else -1)
    # Which steps of the window [now - 2, now + 3] carry this code (collisions included).
    carrying = [s for s in range(now - 2, now + 4)
                if int(oracle.hotp(key, s, digits=digits, digest=digest)) == code]
    floor = now + last - 3 if last >= 0 else -1
    above = [s for s in carrying if s > floor]
    assert step == (above[0] if above else -1)
    assert seen == (carrying[0] if carrying else -1)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
@given(key=st.binary(min_size=1, max_size=200), counter=st.integers(0, 12),
       start=st.integers(0, 8), look=st.integers(0, 4))
@settings(max_examples=60, deadline=None)
def test_verify_hotp_key_against_hmac(digest: str, key: bytes, counter: int, start: int,
                                      look: int) -> None:
    code = int(oracle.hotp(key, counter, digest=digest))
    found, old = bulk.verify_hotp_key(key, code, start, look_ahead=look, digest=digest,
                                      replay_from=max(0, start - 1 - look))

    def lowest(lo: int) -> int | None:
        hits = [c for c in range(lo, lo + look + 1)
                if int(oracle.hotp(key, c, digest=digest)) == code]
        return hits[0] if hits else None

    assert found == lowest(start)
    assert old == lowest(max(0, start - 1 - look))


def test_one_key_checks_refuse_bad_arguments() -> None:
    key = b"12345678901234567890"
    with pytest.raises(pyotp_hw.InvalidSecret):
        bulk.verify_totp_key(b"", 123456, 0)
    with pytest.raises(pyotp_hw.InvalidSecret):
        bulk.verify_hotp_key(bytearray(), 123456, 0)
    with pytest.raises(pyotp_hw.InvalidType):
        bulk.verify_totp_key("GEZDGNBV", 123456, 0)  # type: ignore[arg-type]
    for bad in ({"window": (0, 1001)}, {"digits": 11}, {"interval": 0}, {"last_step": -2}):
        with pytest.raises(pyotp_hw.InvalidArgument):
            bulk.verify_totp_key(key, 123456, 59, **bad)  # type: ignore[arg-type]
    with pytest.raises(pyotp_hw.InvalidArgument):
        bulk.verify_hotp_key(key, 123456, 1 << 64)
    with pytest.raises(pyotp_hw.InvalidArgument):
        bulk.verify_hotp_key(key, 123456, 0, look_ahead=-1)
    with pytest.raises(pyotp_hw.OTPError):
        bulk.verify_totp_key(key, 123456, 10, t0=20)  # before t0: no step
