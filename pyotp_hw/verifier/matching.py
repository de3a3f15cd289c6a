"""The matching engine: which step (or counter) each code of a batch matches, in the C core.

Input: one :data:`Candidate` per code (the credential's :class:`~pyotp_hw.verifier.records.State`,
the code's value and its length), one :data:`KeySlot` per code (a key table and the row holding
the credential's key; None where there is no key) and the time. Output: :class:`Matches`, the
matched step of each code in stored form (HOTP counters shifted, see
:func:`~pyotp_hw.verifier.records.to_stored_counter`), the drift, and for the codes that match
nothing whether they would have matched at or below the last used step (a replay).

It reads no store and decides nothing: the store's commit makes a match stick. Codes are grouped
by kind and parameters, one bulk call per group (:func:`pyotp_hw.bulk.verify_totp` /
:func:`~pyotp_hw.bulk.verify_hotp`), which computes every code of the window whatever matches;
every code that fails takes a second call of the same size to tell a replay from a wrong code,
so both cost the same. A round of a few codes (a sign-in at a time) skips key tables and the
cache: each seed is decrypted and checked in one C call that computes both windows
(:func:`match_each`).
"""

from __future__ import annotations

import hmac
import math
from array import array
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, cast

from .. import bulk
from .inputs import I64_MAX, U64_MAX
from .policy import Policy
from .records import Params, Reason, State, from_stored_counter, to_stored_counter

if TYPE_CHECKING:
    from .seeds import SeedKeys

__all__ = ["Candidate", "KeySlot", "Matches", "match", "match_each", "evaluate", "SMALL_ROUND"]

KeySlot = tuple[bulk.KeyTable, int]
"""Where a credential's key is: a key table and the row in it."""

Candidate = tuple[State, int, int]
"""One code to match: the credential's state, the code's value and its length in digits."""


# A State's kind, digest, digits, period and t0 (what codes of one bulk call share): each
# field's index and getter.
_PARAMS = [(i, itemgetter(i)) for i in range(2, 7)]


class Matches:
    """What the C core said about each code of a batch, as parallel lists.

    ``step``: the matched step or counter in stored form, None when none matched or the code
    could not be evaluated; ``drift``: steps (counters) between the match and the expected one;
    ``replay``: the code matched nothing new but matches at or below the last used step;
    ``error``: why the code was not evaluated (a length other than the credential's, no key, a
    time or counter out of range), else None.
    """

    __slots__ = ("drift", "error", "replay", "step")

    def __init__(self, n: int) -> None:
        self.step: list[int | None] = [None] * n
        self.drift = [0] * n
        self.replay = [False] * n
        self.error: list[Reason | None] = [None] * n


SMALL_ROUND = 4
"""Rounds of at most this many codes take :func:`match_each`: no key table, no cache."""


def evaluate(seeds: SeedKeys, states: Sequence[State], values: Sequence[int],
             lengths: Sequence[int], t: float, policy: Policy) -> Matches:
    """The matches of the codes ``values[k]`` (of ``lengths[k]`` digits) against the
    credentials ``states[k]``: :func:`match_each` on freshly decrypted seeds for a round of at
    most :data:`SMALL_ROUND` codes (a sign-in at a time), else :func:`match` over the cached key
    tables (decrypting the misses into the cache)."""
    if len(states) <= SMALL_ROUND:
        new = tuple.__new__  # State.params without a property call per code
        with seeds.opened([new(Params, st[:8]) for st in states]) as keys:
            return match_each(list(zip(states, values, lengths, strict=True)), keys, t, policy)
    with seeds.columns(states) as (tables, rows):
        return _match(states, values, lengths, tables, rows, t, policy)


def _checked_time(st: State, t_int: int, max_drift: int) -> int | None:
    """The time at which a TOTP code of ``st`` is looked for: ``t_int`` shifted by the stored
    drift (clamped to ``max_drift``), or None when that leaves the representable range."""
    if not (st.drift and max_drift):
        return t_int
    at = t_int + min(max(st.drift, -max_drift), max_drift) * st.period
    return at if st.t0 <= at <= I64_MAX else None


def _next_counter(st: State) -> int | None:
    """The HOTP counter expected next for ``st``, or None when the 64-bit range is used up."""
    nxt = 0 if st.last_step is None else from_stored_counter(st.last_step) + 1
    return nxt if nxt <= U64_MAX else None


def match_each(items: Sequence[Candidate], keys: Sequence[bytearray | None], t: float,
               policy: Policy) -> Matches:
    """:func:`match` for a few codes, one C call per code against its raw key
    (:func:`pyotp_hw.bulk.verify_totp_key` / :func:`~pyotp_hw.bulk.verify_hotp_key`).

    The same windows, floors, drift and replay rules as :func:`match`, and the same C drivers,
    so a match, a replay and a wrong code cost the same here too; a test checks that both give
    the same answers.
    """
    out = Matches(len(items))
    t_int = math.floor(t)
    window = (policy.past, policy.future)
    max_drift, look = policy.max_drift, policy.look_ahead
    for j, key in enumerate(keys):
        st, value, length = items[j]
        if key is None:
            out.error[j] = Reason.UNREADABLE
            continue
        if st.digits != length:
            out.error[j] = Reason.MALFORMED
            continue
        if st.kind == "totp":
            period, t0 = st.period, st.t0
            if t_int < t0:
                out.error[j] = Reason.OUT_OF_RANGE
                continue
            at = _checked_time(st, t_int, max_drift)
            if at is None:
                out.error[j] = Reason.OUT_OF_RANGE
                continue
            step, seen = bulk.verify_totp_key(
                key, value, at, interval=period, t0=t0, window=window, digits=st.digits,
                digest=st.digest, last_step=-1 if st.last_step is None else st.last_step)
            if step >= 0:
                out.step[j] = step
                out.drift[j] = step - (t_int - t0) // period
            else:
                out.replay[j] = seen >= 0
            continue
        nxt = _next_counter(st)
        if nxt is None:
            out.error[j] = Reason.OUT_OF_RANGE
            continue
        if nxt + look > I64_MAX:
            with bulk.KeyTable([key], digest=st.digest) as table:
                _match_hotp_high((table, 0), nxt, value, st.digits, out, j, look)
            continue
        # Replays: the look-ahead's width just below the next counter, as in _verify_hotp.
        found, old = bulk.verify_hotp_key(key, value, nxt, look_ahead=look, digits=st.digits,
                                          digest=st.digest, replay_from=max(0, nxt - 1 - look))
        if found is not None:
            out.step[j] = to_stored_counter(found)
            out.drift[j] = found - nxt
        else:
            out.replay[j] = old is not None and old < nxt
    return out


def match(items: Sequence[Candidate], slots: Sequence[KeySlot | None], t: float,
          policy: Policy) -> Matches:
    """Match each candidate against its credential's key: one bulk call per group of codes
    sharing kind and parameters, whichever key tables their keys sit in.

    TOTP codes match within ``policy.past`` / ``policy.future`` steps of ``t`` (shifted by the
    credential's drift, bounded by ``policy.max_drift``) and above the last used step; HOTP
    codes the next counter or up to ``policy.look_ahead`` beyond it.
    """
    return _match([c[0] for c in items], [c[1] for c in items], [c[2] for c in items],
                  [None if s is None else s[0] for s in slots],
                  [0 if s is None else s[1] for s in slots], t, policy)


def _match(states: Sequence[State], values: Sequence[int], lengths: Sequence[int],
           tables: Sequence[bulk.KeyTable | None], rows: Sequence[int], t: float,
           policy: Policy) -> Matches:
    """:func:`match` over columns: the key of ``states[k]`` is row ``rows[k]`` of
    ``tables[k]`` (None: no key)."""
    out = Matches(len(states))
    if states and None not in tables:
        # The usual batch: one kind and set of parameters, every key at hand, every code of
        # the credentials' length; found by C-level passes, without a Python loop per code.
        # One field at a time: a tuple of them per code would be a container object per
        # code, which the garbage collector counts.
        first, n = states[0], len(states)
        if lengths.count(first.digits) == n and all(
                list(map(field, states)).count(first[i]) == n for i, field in _PARAMS):
            members = list(range(n))
            keys = cast("list[bulk.KeyTable]", list(tables))
            if first.kind == "totp":
                _match_totp(members, keys, list(rows), states, values, out, t, policy)
            else:
                _match_hotp(members, keys, list(rows), states, values, out, policy)
            return out
    # Group by (kind, digest, digits, period, t0), the fields 2 to 6 of a State.
    groups: dict[tuple[object, ...], tuple[list[int], list[bulk.KeyTable], list[int]]] = {}
    error = out.error
    for j, st in enumerate(states):
        table = tables[j]
        if table is None:
            error[j] = Reason.UNREADABLE
            continue
        if st.digits != lengths[j]:
            error[j] = Reason.MALFORMED
            continue
        key: tuple[object, ...] = st[2:7]
        group = groups.get(key)
        if group is None:
            group = groups[key] = ([], [], [])
        group[0].append(j)
        group[1].append(table)
        group[2].append(rows[j])
    for key, (members, in_tables, in_rows) in groups.items():
        if key[0] == "totp":
            _match_totp(members, in_tables, in_rows, states, values, out, t, policy)
        else:
            _match_hotp(members, in_tables, in_rows, states, values, out, policy)
    return out


class _BatchKeys:
    """The key table and rows for one bulk call over keys of one or more key tables.

    With one table, it is used as it is. With several, their rows are gathered into a table for
    this call only (a copy of their HMAC states), wiped when the block ends, so the call count
    does not depend on which cached tables a batch touches.
    """

    def __init__(self, tables: Sequence[bulk.KeyTable], rows: Sequence[int]) -> None:
        self._tables = tables
        self._rows = rows
        self._merged: bulk.KeyTable | None = None

    def __enter__(self) -> tuple[bulk.KeyTable, array[int]]:
        first = self._tables[0]
        if self._tables.count(first) == len(self._tables):  # identity first: one C pass
            return first, array("I", self._rows)
        parts: list[tuple[bulk.KeyTable, array[int]]] = []
        for table, row in zip(self._tables, self._rows, strict=True):
            if parts and parts[-1][0] is table:
                parts[-1][1].append(row)
            else:
                parts.append((table, array("I", [row])))
        self._merged = bulk.KeyTable.gather(parts)
        return self._merged, array("I", range(len(self._tables)))

    def __exit__(self, *exc: object) -> None:
        if self._merged is not None:
            self._merged.close()


def _match_totp(members: list[int], tables: list[bulk.KeyTable], rows: list[int],
                states: Sequence[State], values: Sequence[int], out: Matches, t: float,
                policy: Policy) -> None:
    """TOTP codes of one group; row ``rows[k]`` of ``tables[k]`` holds the key of
    ``states[members[k]]``."""
    max_drift = policy.max_drift
    first = states[members[0]]
    period, t0, digits = first.period, first.t0, first.digits
    t_int = math.floor(t)
    if t_int < t0:
        for j in members:
            out.error[j] = Reason.OUT_OF_RANGE
        return
    now_step = (t_int - t0) // period
    if not max_drift or not any(states[j].drift for j in members):
        # No drift to apply (resynchronisation off, the default): every code at t.
        codes = array("I", [values[j] for j in members])
        times = array("q", [t_int]) * len(members)
        last = array("q", [-1 if (s := states[j].last_step) is None else s for j in members])
        with _BatchKeys(tables, rows) as (table, at_rows):
            _verify_totp(table, at_rows, members, codes, times, last, now_step, period, t0,
                         digits, out, policy)
        return
    codes = array("I")
    times = array("q")
    last = array("q")
    keep_tables: list[bulk.KeyTable] = []
    keep_rows: list[int] = []
    keep: list[int] = []
    for k, j in enumerate(members):
        st = states[j]
        at = _checked_time(st, t_int, max_drift)
        if at is None:
            out.error[j] = Reason.OUT_OF_RANGE
            continue
        codes.append(values[j])
        times.append(at)
        last.append(-1 if st.last_step is None else st.last_step)
        keep_tables.append(tables[k])
        keep_rows.append(rows[k])
        keep.append(j)
    if not keep:
        return
    with _BatchKeys(keep_tables, keep_rows) as (table, at_rows):
        _verify_totp(table, at_rows, keep, codes, times, last, now_step, period, t0, digits,
                     out, policy)


def _verify_totp(table: bulk.KeyTable, rows: array[int], keep: list[int], codes: array[int],
                 times: array[int], last: array[int], now_step: int, period: int, t0: int,
                 digits: int, out: Matches, policy: Policy) -> None:
    window = (policy.past, policy.future)
    steps = bulk.verify_totp(
        table, codes, times, interval=period, t0=t0, window=window, digits=digits,
        last_steps=last, rows=rows,
    )
    unmatched: list[int] = []
    out_step, out_drift = out.step, out.drift
    for k, j in enumerate(keep):
        s = steps[k]
        if s >= 0:
            out_step[j] = s
            out_drift[j] = s - now_step
        else:
            unmatched.append(k)
    if not unmatched:
        return
    # Tell a replay from a wrong code: the same window without the used-step floor. Every
    # failure takes this second call, so wrong codes and replays cost the same.
    again = bulk.verify_totp(
        table, array("I", [codes[k] for k in unmatched]),
        array("q", [times[k] for k in unmatched]), interval=period, t0=t0, window=window,
        digits=digits, rows=array("I", [rows[k] for k in unmatched]),
    )
    for k, s in zip(unmatched, again, strict=True):
        out.replay[keep[k]] = s >= 0


def _match_hotp(members: list[int], tables: list[bulk.KeyTable], rows: list[int],
                states: Sequence[State], values: Sequence[int], out: Matches,
                policy: Policy) -> None:
    """HOTP codes of one group; row ``rows[k]`` of ``tables[k]`` holds the key of
    ``states[members[k]]``."""
    digits = states[members[0]].digits
    look = policy.look_ahead
    counters = array("Q")
    codes = array("I")
    keep_tables: list[bulk.KeyTable] = []
    keep_rows: list[int] = []
    keep: list[int] = []
    for k, j in enumerate(members):
        st, value = states[j], values[j]
        nxt = _next_counter(st)
        if nxt is None:
            out.error[j] = Reason.OUT_OF_RANGE
            continue
        if nxt + look > I64_MAX:
            _match_hotp_high((tables[k], rows[k]), nxt, value, digits, out, j, look)
            continue
        counters.append(nxt)
        codes.append(value)
        keep_tables.append(tables[k])
        keep_rows.append(rows[k])
        keep.append(j)
    if not keep:
        return
    with _BatchKeys(keep_tables, keep_rows) as (table, at_rows):
        _verify_hotp(table, at_rows, keep, codes, counters, digits, out, look)


def _verify_hotp(table: bulk.KeyTable, rows: array[int], keep: list[int], codes: array[int],
                 counters: array[int], digits: int, out: Matches, look: int) -> None:
    found = bulk.verify_hotp(table, codes, counters, look_ahead=look, digits=digits, rows=rows)
    unmatched: list[int] = []
    for k, j in enumerate(keep):
        c = found[k]
        if c >= 0:
            out.step[j] = to_stored_counter(c)
            out.drift[j] = c - counters[k]
        else:
            unmatched.append(k)
    if not unmatched:
        return
    # Replays: the look-ahead's width just below the next counter. Nothing at or above the
    # next counter can match here, since the first call found nothing there.
    starts = array("Q", [max(0, counters[k] - 1 - look) for k in unmatched])
    again = bulk.verify_hotp(
        table, array("I", [codes[k] for k in unmatched]), starts, look_ahead=look,
        digits=digits, rows=array("I", [rows[k] for k in unmatched]),
    )
    for k, c in zip(unmatched, again, strict=True):
        out.replay[keep[k]] = 0 <= c < counters[k]


def _match_hotp_high(slot: KeySlot, nxt: int, value: int, digits: int, out: Matches, j: int,
                     look: int) -> None:
    """HOTP counters at the top of the 64-bit range, beyond the int64 results of the bulk
    verifier: codes computed by the C core, compared without an early exit."""
    table, row = slot
    top = min(U64_MAX, nxt + look)
    low = max(0, nxt - 1 - look)
    counters = array("Q", range(low, top + 1))
    codes = bulk.hotp(table, counters, digits=digits, rows=array("I", [row]) * len(counters))
    want = value.to_bytes(4, "big")
    hit_new: int | None = None
    hit_old = False
    for c, code in zip(counters, codes, strict=True):
        same = hmac.compare_digest(code.to_bytes(4, "big"), want)
        if same and c >= nxt and hit_new is None:
            hit_new = c
        hit_old |= same and c < nxt
    if hit_new is not None:
        out.step[j] = to_stored_counter(hit_new)
        out.drift[j] = hit_new - nxt
    else:
        out.replay[j] = hit_old
