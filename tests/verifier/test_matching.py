"""The matching engine on its own: key tables from pyotp_hw.bulk, no store, no sealing.

Every case runs on both engines: :func:`match` over key tables (rounds of more than
``SMALL_ROUND`` codes) and :func:`match_each` over raw keys (a few codes at a time).

Expected codes come from Python's hmac (tests/oracle.py through helpers), never from pyotp_hw.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyotp_hw import bulk
from pyotp_hw.verifier import Policy, Reason
from pyotp_hw.verifier.matching import Candidate, KeySlot, Matches, match, match_each
from pyotp_hw.verifier.records import State, from_stored_counter, to_stored_counter

from .conftest import T
from .helpers import hotp, step_of, totp, wrong_code

U64_MAX = (1 << 64) - 1


def _state(n: int, *, kind: str = "totp", digest: str = "sha1", digits: int = 6,
           period: int = 30, t0: int = 0, last_step: int | None = None,
           drift: int = 0) -> State:
    return State(n, f"u{n}", kind, digest, digits, period, t0, b"", last_step, drift, 0.0, None)


@pytest.fixture
def tables() -> Iterator[list[bulk.KeyTable]]:
    made: list[bulk.KeyTable] = []
    yield made
    for table in made:
        table.close()


# The secrets each test table was built from, so that match_each can be given the raw keys.
_SECRETS: dict[int, list[bytes]] = {}


def _table(tables: list[bulk.KeyTable], secrets: list[bytes], digest: str = "sha1"
           ) -> bulk.KeyTable:
    table = bulk.KeyTable(secrets, digest=digest)
    tables.append(table)
    _SECRETS[id(table)] = secrets
    return table


Engine = Callable[[Sequence[Candidate], Sequence[KeySlot | None], float, Policy], Matches]


def _each(items: Sequence[Candidate], slots: Sequence[KeySlot | None], t: float,
          policy: Policy) -> Matches:
    keys = [None if slot is None else bytearray(_SECRETS[id(slot[0])][slot[1]])
            for slot in slots]
    return match_each(items, keys, t, policy)


@pytest.fixture(params=["tables", "each"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return match if request.param == "tables" else _each


def test_totp_codes_match_their_step_inside_the_window_only(tables, engine: Engine) -> None:
    secrets = [os.urandom(20) for _ in range(7)]
    table = _table(tables, secrets)
    offsets = range(-3, 4)
    items = [(_state(j), int(totp(s, T, step_offset=k)), 6)
             for j, (s, k) in enumerate(zip(secrets, offsets, strict=True))]
    slots: list[KeySlot | None] = [(table, j) for j in range(len(secrets))]
    m = engine(items, slots, T, Policy(past=1, future=2))
    for j, k in enumerate(offsets):
        inside = -1 <= k <= 2
        assert m.step[j] == (step_of(T) + k if inside else None), k
        assert m.drift[j] == (k if inside else 0)
        assert m.error[j] is None and m.replay[j] is False


def test_parameters_and_key_tables_mix_in_one_batch(tables, engine: Engine) -> None:
    # Digests, lengths, periods and t0 differ per code; the keys sit in several tables, one of
    # them shared by two credentials of different parameters.
    cases = [("sha1", 6, 30, 0), ("sha256", 8, 60, 0), ("sha512", 7, 30, 1_000),
             ("sha1", 8, 45, 17), ("sha1", 6, 30, 0)]
    secrets = [os.urandom(32) for _ in cases]
    shared = _table(tables, [secrets[0], secrets[3]])
    slots: list[KeySlot | None] = []
    items = []
    for j, (digest, digits, period, t0) in enumerate(cases):
        if j in (0, 3):
            slots.append((shared, 0 if j == 0 else 1))
        else:
            slots.append((_table(tables, [secrets[j]], digest), 0))
        code = totp(secrets[j], T, step_offset=1, digits=digits, digest=digest, period=period,
                    t0=t0)
        items.append((_state(j, digest=digest, digits=digits, period=period, t0=t0),
                      int(code), digits))
    m = engine(items, slots, T, Policy(digits=(6, 7, 8)))
    for j, (_, _, period, t0) in enumerate(cases):
        assert m.step[j] == step_of(T, period, t0) + 1 and m.drift[j] == 1, cases[j]


def test_a_used_step_is_a_replay_and_a_wrong_code_is_not(tables, engine: Engine) -> None:
    secret = os.urandom(20)
    table = _table(tables, [secret])
    now = step_of(T)
    items = [
        (_state(0, last_step=now), int(totp(secret, T)), 6),
        (_state(1, last_step=now), int(totp(secret, T, step_offset=-1)), 6),
        (_state(2, last_step=now), int(totp(secret, T, step_offset=1)), 6),
        (_state(3, last_step=now), int(wrong_code(secret, T)), 6),
    ]
    m = engine(items, [(table, 0)] * 4, T, Policy())
    assert m.step == [None, None, now + 1, None]
    assert m.replay == [True, True, False, False]


def test_stored_drift_moves_the_window(tables, engine: Engine) -> None:
    secret = os.urandom(20)
    table = _table(tables, [secret])
    policy = Policy(resync_window=5)
    items = [(_state(0, drift=2), int(totp(secret, T, step_offset=3)), 6),
             (_state(1, drift=2), int(totp(secret, T, step_offset=-1)), 6),
             # A drift beyond the policy's bound is clamped to it.
             (_state(2, drift=50), int(totp(secret, T, step_offset=6)), 6)]
    m = engine(items, [(table, 0)] * 3, T, policy)
    assert m.step == [step_of(T) + 3, None, step_of(T) + 6]
    assert m.drift[0] == 3 and m.drift[2] == 6


def test_hotp_looks_ahead_and_tells_replays(tables, engine: Engine) -> None:
    secret = os.urandom(20)
    table = _table(tables, [secret])
    used = 41  # the last accepted counter; 42 is expected next
    last = to_stored_counter(used)
    items = [(_state(j, kind="hotp", period=0, last_step=last), int(hotp(secret, c)), 6)
             for j, c in enumerate([42, 45, 46, 41, 39])]
    m = engine(items, [(table, 0)] * len(items), T, Policy(look_ahead=3))
    assert [None if s is None else from_stored_counter(s) for s in m.step] == [
        42, 45, None, None, None]
    assert m.drift[:2] == [0, 3]
    assert m.replay == [False, False, False, True, True]


def test_hotp_counters_at_the_top_of_the_64_bit_range(tables, engine: Engine) -> None:
    secret = os.urandom(20)
    table = _table(tables, [secret])
    last = to_stored_counter(U64_MAX - 3)  # next expected: 2**64 - 2
    items = [(_state(0, kind="hotp", period=0, last_step=last), int(hotp(secret, U64_MAX)), 6),
             (_state(1, kind="hotp", period=0, last_step=last),
              int(hotp(secret, U64_MAX - 3)), 6),
             (_state(2, kind="hotp", period=0, last_step=to_stored_counter(U64_MAX)),
              int(hotp(secret, U64_MAX)), 6)]
    m = engine(items, [(table, 0)] * 3, T, Policy(look_ahead=3))
    assert m.step[0] is not None and from_stored_counter(m.step[0]) == U64_MAX
    assert m.drift[0] == 2
    assert (m.step[1], m.replay[1]) == (None, True)
    assert (m.step[2], m.error[2]) == (None, Reason.OUT_OF_RANGE)  # no counter left


def test_codes_that_cannot_be_evaluated_say_why(tables, engine: Engine) -> None:
    secret = os.urandom(20)
    table = _table(tables, [secret])
    items = [(_state(0), int(totp(secret, T)), 6),
             (_state(1, digits=8), int(totp(secret, T)), 6),
             (_state(2, t0=T + 100), int(totp(secret, T)), 6)]
    m = engine(items, [None, (table, 0), (table, 0)], T, Policy())
    assert m.error == [Reason.UNREADABLE, Reason.MALFORMED, Reason.OUT_OF_RANGE]
    assert m.step == [None, None, None]


def test_one_c_call_per_group_whatever_the_tables(tables, monkeypatch) -> None:
    secrets = [os.urandom(20) for _ in range(12)]
    slots: list[KeySlot | None] = [(_table(tables, [s]), 0) for s in secrets[:4]]
    big = _table(tables, secrets[4:])
    slots += [(big, r) for r in range(8)]
    calls: list[int] = []
    real = bulk.verify_totp

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "verify_totp", counting)
    items = [(_state(j), int(totp(s, T)), 6) for j, s in enumerate(secrets)]
    m = match(items, slots, T, Policy())
    assert m.step == [step_of(T)] * 12
    assert calls == [12]
    # A failing code takes the second call of the same window, as a replay would.
    calls.clear()
    items[5] = (items[5][0], int(wrong_code(secrets[5], T)), 6)
    assert match(items, slots, T, Policy()).step[5] is None
    assert calls == [12, 1]


_KINDS = st.sampled_from(["totp", "hotp"])
_DIGESTS = st.sampled_from(["sha1", "sha256", "sha512"])


@st.composite
def _round(draw: st.DrawFn) -> tuple[list[bytes], list[Candidate], Policy]:
    policy = Policy(past=draw(st.integers(0, 3)), future=draw(st.integers(0, 3)),
                    look_ahead=draw(st.integers(0, 5)), resync_window=draw(st.integers(0, 4)),
                    digits=(6, 7, 8))
    secrets: list[bytes] = []
    items: list[Candidate] = []
    for j in range(draw(st.integers(1, 6))):
        secret = draw(st.binary(min_size=1, max_size=70))
        kind, digest = draw(_KINDS), draw(_DIGESTS)
        digits = draw(st.sampled_from([6, 7, 8]))
        length = digits if draw(st.integers(0, 9)) else 6 + (digits - 5) % 3
        if kind == "totp":
            period = draw(st.sampled_from([1, 30, 60, 97]))
            t0 = draw(st.sampled_from([0, 17, T - 5, T + 50]))
            now = step_of(T, period, t0) if T >= t0 else 0
            last = draw(st.none() | st.integers(now - 5, now + 3).filter(lambda s: s >= 0))
            drift = draw(st.integers(-6, 6))
            offset = draw(st.integers(-5, 5))
            code = (int(totp(secret, T, step_offset=offset, digits=digits, digest=digest,
                             period=period, t0=t0)) if T >= t0 and now + offset >= 0
                    else draw(st.integers(0, 10**digits - 1)))
            state = _state(j, digest=digest, digits=digits, period=period, t0=t0,
                           last_step=last, drift=drift)
        else:
            used = draw(st.none() | st.sampled_from([0, 5, 1000, (1 << 62), U64_MAX - 4,
                                                     U64_MAX]))
            nxt = 0 if used is None else min(used + 1, U64_MAX)
            counter = draw(st.integers(max(0, nxt - 7), min(U64_MAX, nxt + 7)))
            code = int(hotp(secret, counter, digits=digits, digest=digest))
            state = _state(j, kind="hotp", digest=digest, digits=digits, period=0,
                           last_step=None if used is None else to_stored_counter(used))
        if not draw(st.integers(0, 4)):
            code = draw(st.integers(0, 10**digits - 1))
        secrets.append(secret)
        items.append((state, code, length))
    return secrets, items, policy


@settings(max_examples=300, deadline=None)
@given(_round(), st.booleans())
def test_both_engines_give_the_same_answers(case: tuple[list[bytes], list[Candidate], Policy],
                                            unreadable: bool) -> None:
    secrets, items, policy = case
    tables = [bulk.KeyTable([s], digest=item[0].digest)
              for s, item in zip(secrets, items, strict=True)]
    try:
        slots: list[KeySlot | None] = [(table, 0) for table in tables]
        keys: list[bytearray | None] = [bytearray(s) for s in secrets]
        if unreadable:
            slots[0] = keys[0] = None
        by_tables = match(items, slots, T, policy)
        one_by_one = match_each(items, keys, T, policy)
    finally:
        for table in tables:
            table.close()
    for name in ("step", "drift", "replay", "error"):
        assert getattr(one_by_one, name) == getattr(by_tables, name), name
