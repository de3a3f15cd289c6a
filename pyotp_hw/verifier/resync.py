"""Resynchronisation: find a drifted token from two consecutive codes and record its drift.

Both codes must match consecutive steps (or counters) within ``policy.resync_window`` of the
expected one, above the last used step; every candidate pair of the window is computed in one C
call of fixed size. On success the second code's step is consumed and the drift recorded.
"""

from __future__ import annotations

import hmac
import logging
import math
from array import array

from .. import bulk
from .errors import StoreError
from .events import EventHub
from .gate import Gate
from .inputs import I64_MAX, U64_MAX
from .policy import Policy, canonical_code
from .records import (
    REJECTED,
    VERDICT_REASON,
    Attempt,
    Credential,
    Event,
    EventKind,
    Reason,
    Result,
    Verdict,
    from_stored_counter,
    public_step,
    to_stored_counter,
)
from .seeds import SeedKeys
from .stores import Store

__all__ = ["Resync", "find_pair"]

log = logging.getLogger("pyotp_hw.verifier")


class Resync:
    """Resynchronises credentials of one verifier (see :meth:`Verifier.resync`)."""

    def __init__(self, store: Store, policy: Policy, gate: Gate, seeds: SeedKeys,
                 hub: EventHub) -> None:
        self._store = store
        self._policy = policy
        self._gate = gate
        self._seeds = seeds
        self._hub = hub

    def resync(self, user: str, code1: str, code2: str, t: float) -> Result:
        """Check the pair against the user's active credential and consume the second step."""
        v1 = canonical_code(code1, self._policy)
        v2 = canonical_code(code2, self._policy)
        if v1 is None or v2 is None or len(code1) != len(code2):
            return REJECTED[Reason.MALFORMED]
        radius = self._policy.resync_window
        if radius == 0:
            return REJECTED[Reason.RESYNC_OFF]
        row = self._gate.admit(user, "active", t, len(code1), missing=Reason.NO_CREDENTIAL,
                               action="resync")
        if isinstance(row, Reason):
            return REJECTED[row]
        with self._seeds.slots([row.params]) as slots:
            slot = slots[0]
            if slot is None:
                return REJECTED[Reason.UNREADABLE]
            found = find_pair(slot[0], slot[1], row, v1, v2, t, radius)
        if found is None:
            return REJECTED[Reason.OUT_OF_RANGE]
        step, drift = found
        try:
            verdicts, events = self._store.commit(
                [Attempt(row.id, user, step, drift)], t, self._policy)
            accepted = verdicts[0] is Verdict.ACCEPTED
            if accepted:
                done = Event(EventKind.RESYNCED, user, t, f"drift {drift}")
                self._store.add_events([done])
                events.append(done)
        except StoreError as exc:
            log.warning("resync failed closed: %s", exc)
            return REJECTED[Reason.STORE]
        self._hub.deliver(events)
        if accepted:
            return Result(True, Reason.OK, public_step(row.kind, step))
        reason = VERDICT_REASON[verdicts[0]]
        # A pair that turned out consumed by another worker is simply not a valid pair.
        return REJECTED[Reason.INVALID if reason is Reason.REPLAY else reason]


def find_pair(table: bulk.KeyTable, row_index: int, row: Credential, v1: int, v2: int,
              t: float, radius: int) -> tuple[int | None, int] | None:
    """(stored step of the second code, drift) of the first pair of consecutive steps (or
    counters) within ``radius`` of the expected one matching ``v1`` then ``v2``; (None, 0) when
    no pair matches; None when the window leaves the range of times or counters.

    ``table`` holds the credential's key at ``row_index``.
    """
    if row.kind == "totp":
        return _totp_pair(table, row_index, row, v1, v2, t, radius)
    nxt = 0 if row.last_step is None else from_stored_counter(row.last_step) + 1
    if nxt + radius > U64_MAX:
        return None
    # Both codes inside [nxt, nxt + radius].
    counters = array("Q", range(nxt, nxt + radius + 1))
    codes = bulk.hotp(table, counters, digits=row.digits,
                      rows=array("I", [row_index]) * len(counters))
    w1, w2 = v1.to_bytes(4, "big"), v2.to_bytes(4, "big")
    found: int | None = None
    for k in range(len(counters) - 1):
        a = hmac.compare_digest(codes[k].to_bytes(4, "big"), w1)
        b = hmac.compare_digest(codes[k + 1].to_bytes(4, "big"), w2)
        if a and b and found is None:
            found = counters[k + 1]
    if found is None:
        return (None, 0)
    return to_stored_counter(found), found - nxt


def _totp_pair(table: bulk.KeyTable, row_index: int, row: Credential, v1: int, v2: int,
               t: float, radius: int) -> tuple[int | None, int] | None:
    t_int = math.floor(t)
    if t_int < row.t0:
        return None
    centre = (t_int - row.t0) // row.period
    # Both codes inside [centre - radius, centre + radius]: first codes up to one step before
    # the upper edge.
    low = max(0, centre - radius)
    high = centre + radius - 1
    if row.t0 + (high + 1) * row.period > I64_MAX:
        return None
    floor = -1 if row.last_step is None else row.last_step
    n = high - low + 1
    steps = range(low, high + 1)
    times = array("q", [row.t0 + s * row.period for s in steps]
                  + [row.t0 + (s + 1) * row.period for s in steps])
    got = bulk.verify_totp(
        table, array("I", [v1] * n + [v2] * n), times, interval=row.period, t0=row.t0,
        window=0, digits=row.digits, last_steps=array("q", [floor] * (2 * n)),
        rows=array("I", [row_index]) * (2 * n),
    )
    pair: int | None = None
    for k in range(n):
        if got[k] >= 0 and got[n + k] >= 0 and pair is None:
            pair = got[n + k]
    return (None, 0) if pair is None else (pair, pair - centre)
