"""One batch of ``(user, code)`` pairs: one store round per batch, the C core in it.

1. each code is checked for canonical form (exact length, ASCII digits) before anything is
   looked up, so malformed input never reaches a cache, counter or rate limit;
2. a user appearing several times is handled in rounds, as if the pairs came one after another;
3. each round is one :meth:`Store.verify_round <pyotp_hw.verifier.stores.Store.verify_round>`:
   on the SQL stores one write transaction that reads the round's credentials in one round trip
   (sealed seeds included) and keeps them from other writers until it commits;
4. inside it, the round's ``decide`` passes the states through the
   :class:`~pyotp_hw.verifier.gate.Gate` (a user without a credential gets the
   :class:`~pyotp_hw.verifier.decoy.Decoy`) and the :mod:`~pyotp_hw.verifier.matching` engine
   compares the codes in the C core, writing nothing;
5. the same transaction consumes every matched step, counts every failure and every unknown
   user's attempt, and records the events, refusing a step another worker consumed first. If
   the transaction fails, every code it would have evaluated is rejected (fail closed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from operator import itemgetter

from ..errors import InvalidArgument, InvalidType
from . import matching
from .decoy import Decoy
from .errors import StoreError
from .events import EventHub
from .gate import Gate
from .inputs import MAX_USER_LEN, check_user, user_is_valid
from .policy import Policy
from .records import (
    REJECTED,
    VERDICT_REASON,
    Attempt,
    Attempts,
    Decision,
    Event,
    Reason,
    Result,
    State,
    Verdict,
    from_stored_counter,
)
from .seeds import SeedKeys
from .stores import Store

__all__ = ["BatchVerifier"]

log = logging.getLogger("pyotp_hw.verifier")

# Building the named tuple directly skips its Python-level __new__ on the hot path.
_new_result = tuple.__new__
_first = itemgetter(0)
_second = itemgetter(1)
_kind = itemgetter(2)

# A round's pairs as columns: positions in the batch, users, code values, code lengths. Columns
# (lists of ints and str) make no object per pair, which keeps the cyclic garbage collector,
# run by the count of live container objects, out of a batch's way.
_Cols = tuple[list[int], list[str], list[int], list[int]]


def _rounds(cols: _Cols) -> list[_Cols]:
    """The pairs in rounds of distinct users: a user's k-th pair goes to round k."""
    pos, users, values, lengths = cols
    rounds: list[_Cols] = []
    seen: dict[str, int] = {}
    for j, user in enumerate(users):
        k = seen.get(user, 0)
        seen[user] = k + 1
        if k == len(rounds):
            rounds.append(([], [], [], []))
        r = rounds[k]
        r[0].append(pos[j])
        r[1].append(user)
        r[2].append(values[j])
        r[3].append(lengths[j])
    return rounds


class BatchVerifier:
    """Verifies batches for one verifier (its store, policy, gate, keys, decoy and events)."""

    def __init__(self, store: Store, policy: Policy, gate: Gate, seeds: SeedKeys, decoy: Decoy,
                 hub: EventHub) -> None:
        self._store = store
        self._policy = policy
        self._gate = gate
        self._seeds = seeds
        self._decoy = decoy
        self._hub = hub

    def verify(self, items: Iterable[tuple[str, str]], t: float) -> list[Result]:
        """One :class:`Result` per pair, in order (see :meth:`Verifier.verify_many`)."""
        lengths = self._policy._lengths
        malformed = REJECTED[Reason.MALFORMED]
        results: list[Result | None] = []
        append = results.append
        cols: _Cols = ([], [], [], [])
        add_pos, add_user, add_value, add_length = (cols[0].append, cols[1].append,
                                                    cols[2].append, cols[3].append)
        for i, item in enumerate(items):
            try:
                user, code = item
            except (TypeError, ValueError):
                raise InvalidArgument(f"item {i} is not a (user, code) pair") from None
            # The usual user id (short ASCII text) is checked inline; others the long way.
            if (type(user) is not str or not 0 < len(user) <= MAX_USER_LEN or "\x00" in user
                    or not user.isascii()) and not user_is_valid(user):
                check_user(user)
            if type(code) is not str:
                raise InvalidType(f"code must be a str, not {type(code).__name__}")
            # Canonical form before anything is looked up (see policy.canonical_code).
            n = len(code)
            if n not in lengths or not code.isascii() or not code.isdigit():
                append(malformed)
                continue
            append(None)
            add_pos(i)
            add_user(user)
            add_value(int(code))
            add_length(n)
        users = cols[1]
        if not users:
            return results  # type: ignore[return-value]  # all malformed: nothing to read
        # Distinct users (the usual batch) make one round; repeats are spread over rounds.
        for round_cols in [cols] if len(set(users)) == len(users) else _rounds(cols):
            self._round(round_cols, t, results)
        return results  # type: ignore[return-value]  # every None was filled by a round

    def _round(self, cols: _Cols, t: float, results: list[Result | None]) -> None:
        """Verify pairs of distinct users in one store round: read, the gate and the C core
        decide, commit (one transaction on the SQL stores)."""
        policy = self._policy
        # What the latest call of decide left: (todo, where, positions, steps, clock events).
        decided: list[tuple[list[State], list[int], Sequence[int], list[int | None],
                            list[Event]]] = []

        def decide(states: dict[str, State]) -> Decision:
            if decided:  # the store retries the round: decide afresh on what it read again
                decided.clear()
                for i in cols[0]:
                    results[i] = None
            clock: list[Event] = []
            todo, values, lengths, where, unknown = self._admit(cols, states, t, results, clock)
            attempts: Sequence[Attempt] = ()
            positions: Sequence[int] = ()
            steps: list[int | None] = []
            if todo:
                m = matching.evaluate(self._seeds, todo, values, lengths, t, policy)
                steps = m.step
                if m.error.count(None) == len(todo):  # the usual batch: every code evaluated
                    attempts = Attempts(list(map(_first, todo)), list(map(_second, todo)),
                                        steps, m.drift, m.replay)
                    positions = range(len(todo))
                else:
                    attempts, positions = self._attempts(todo, where, m, results)
            decided.append((todo, where, positions, steps, clock))
            return Decision(attempts, unknown, clock)

        try:
            verdicts, events = self._store.verify_round(cols[1], decide, t, policy)
        except StoreError as exc:
            if not decided:
                log.warning("verification failed closed: cannot read the store: %s", exc)
                for i in cols[0]:
                    results[i] = REJECTED[Reason.STORE]
                return
            _, where, positions, _, clock = decided[0]
            log.warning("verification failed closed: cannot write the store: %s", exc)
            for k in positions:
                results[where[k]] = REJECTED[Reason.STORE]
            if clock:
                self._hub.deliver(clock)
            return
        todo, where, positions, steps, clock = decided[0]
        if clock:
            self._hub.deliver(clock)
        accepted = Verdict.ACCEPTED
        ok = Reason.OK
        # One accepted Result per step: they are immutable, so the users of a step share it.
        made: dict[int | None, Result] = {}
        if (verdicts.count(accepted) == len(todo) and
                list(map(_kind, todo)).count("totp") == len(todo)):
            # The usual batch: every TOTP code accepted (no HOTP counter to convert back).
            for step in set(steps):
                made[step] = _new_result(Result, (True, ok, step))
            for i, shared in zip(where, map(made.__getitem__, steps), strict=True):
                results[i] = shared
            if events:
                self._hub.deliver(events)
            return
        for k, v in zip(positions, verdicts, strict=True):
            if v is accepted:
                step = steps[k]
                if step is not None and todo[k].kind != "totp":
                    step = from_stored_counter(step)
                r = made.get(step)
                if r is None:
                    r = made[step] = _new_result(Result, (True, ok, step))
                results[where[k]] = r
            else:
                results[where[k]] = REJECTED[VERDICT_REASON[v]]
        if events:
            self._hub.deliver(events)

    @staticmethod
    def _attempts(todo: list[State], where: list[int], m: matching.Matches,
                  results: list[Result | None]) -> tuple[Attempts, list[int]]:
        """The attempts of the evaluated codes and their indices in ``todo``; the codes that
        could not be evaluated get their refusal in ``results``."""
        keep: list[int] = []
        for k, error in enumerate(m.error):
            if error is None:
                keep.append(k)
            else:
                results[where[k]] = REJECTED[error]
        return Attempts([todo[k].id for k in keep], [todo[k].user for k in keep],
                        [m.step[k] for k in keep], [m.drift[k] for k in keep],
                        [m.replay[k] for k in keep]), keep

    def _admit(self, cols: _Cols, states: dict[str, State], t: float,
               results: list[Result | None], clock_events: list[Event]
               ) -> tuple[list[State], list[int], list[int], list[int], list[str]]:
        """The states the gate lets through with their codes' values, lengths and positions,
        and the users without a credential whose attempts the round counts; refusals go to
        ``results`` (their ``clock`` events to ``clock_events``) and users without a
        credential through the decoy."""
        pos, users, values, lengths = cols
        found = list(map(states.get, users))
        through, locked, throttled, far, missing = self._gate.screen_all(found, t)
        for k in locked:
            results[pos[k]] = REJECTED[Reason.LOCKED]
        for k in throttled:
            results[pos[k]] = REJECTED[Reason.THROTTLED]
        if far:
            refusals = self._gate.clock_refusals(
                [found[k] for k in far], t, clock_events)  # type: ignore[misc]  # not None
            for k, refusal in zip(far, refusals, strict=True):
                if refusal is None:
                    through.append(k)
                else:
                    results[pos[k]] = REJECTED[refusal]
        unknown: list[str] = []
        if missing:
            for k in missing:
                results[pos[k]] = REJECTED[Reason.NO_CREDENTIAL]
            if self._policy.mask_unknown_users:
                self._decoy.run([(users[k], values[k], lengths[k]) for k in missing], t)
                unknown = [users[k] for k in missing]
        if len(through) == len(found):  # every state let through, in order
            return found, values, lengths, pos, unknown  # type: ignore[return-value]
        return ([found[k] for k in through], [values[k] for k in through],  # type: ignore[misc]
                [lengths[k] for k in through], [pos[k] for k in through], unknown)
