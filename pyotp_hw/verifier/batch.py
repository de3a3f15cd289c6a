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

# (position in the batch, user, code value, code length)
_Entry = tuple[int, str, int, int]


def _rounds(entries: list[_Entry]) -> list[list[_Entry]]:
    """The pairs in rounds of distinct users: a user's k-th pair goes to round k."""
    rounds: list[list[_Entry]] = []
    seen: dict[str, int] = {}
    for entry in entries:
        k = seen.get(entry[1], 0)
        seen[entry[1]] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(entry)
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
        entries: list[_Entry] = []
        add = entries.append
        users: list[str] = []
        add_user = users.append
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
            if len(code) not in lengths or not code.isascii() or not code.isdigit():
                append(malformed)
                continue
            append(None)
            add((i, user, int(code), len(code)))
            add_user(user)
        if not entries:
            return results  # type: ignore[return-value]  # all malformed: nothing to read
        # Distinct users (the usual batch) make one round; repeats are spread over rounds.
        for entries_of_round in [entries] if len(set(users)) == len(users) else _rounds(entries):
            self._round(entries_of_round, t, results)
        return results  # type: ignore[return-value]  # every None was filled by a round

    def _round(self, entries: list[_Entry], t: float, results: list[Result | None]) -> None:
        """Verify pairs of distinct users in one store round: read, the gate and the C core
        decide, commit (one transaction on the SQL stores)."""
        policy = self._policy
        # What the latest call of decide left: (todo, where, positions, steps, clock events).
        decided: list[tuple[list[matching.Candidate], list[int], Sequence[int],
                            list[int | None], list[Event]]] = []

        def decide(states: dict[str, State]) -> Decision:
            if decided:  # the store retries the round: decide afresh on what it read again
                decided.clear()
                for e in entries:
                    results[e[0]] = None
            clock: list[Event] = []
            todo, where, unknown = self._admit(entries, states, t, results, clock)
            attempts: list[Attempt] = []
            positions: Sequence[int] = ()
            steps: list[int | None] = []
            if todo:
                m = matching.evaluate(self._seeds, todo, t, policy)
                errors, steps, drifts, replays = m.error, m.step, m.drift, m.replay
                if errors.count(None) == len(errors):  # the usual batch: every code evaluated
                    attempts = [Attempt(c[0].id, c[0].user, s, d, r)
                                for c, s, d, r in zip(todo, steps, drifts, replays, strict=True)]
                    positions = range(len(todo))
                else:
                    attempts, positions = self._attempts(todo, where, m, results)
            decided.append((todo, where, positions, steps, clock))
            return Decision(attempts, unknown, clock)

        try:
            verdicts, events = self._store.verify_round([e[1] for e in entries], decide, t,
                                                        policy)
        except StoreError as exc:
            if not decided:
                log.warning("verification failed closed: cannot read the store: %s", exc)
                for e in entries:
                    results[e[0]] = REJECTED[Reason.STORE]
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
        for k, v in zip(positions, verdicts, strict=True):
            if v is accepted:
                step = steps[k]
                if step is not None and todo[k][0].kind != "totp":
                    step = from_stored_counter(step)
                results[where[k]] = _new_result(Result, (True, ok, step))
            else:
                results[where[k]] = REJECTED[VERDICT_REASON[v]]
        if events:
            self._hub.deliver(events)

    @staticmethod
    def _attempts(todo: list[matching.Candidate], where: list[int], m: matching.Matches,
                  results: list[Result | None]) -> tuple[list[Attempt], list[int]]:
        """The attempts of the evaluated codes and their indices in ``todo``; the codes that
        could not be evaluated get their refusal in ``results``."""
        attempts: list[Attempt] = []
        positions: list[int] = []
        for k, i in enumerate(where):
            error = m.error[k]
            if error is not None:
                results[i] = REJECTED[error]
                continue
            st = todo[k][0]
            attempts.append(Attempt(st.id, st.user, m.step[k], m.drift[k], m.replay[k]))
            positions.append(k)
        return attempts, positions

    def _admit(self, entries: list[_Entry], states: dict[str, State], t: float,
               results: list[Result | None], clock_events: list[Event]
               ) -> tuple[list[matching.Candidate], list[int], list[str]]:
        """The candidates the gate lets through, their positions, and the users without a
        credential whose attempts the round counts; refusals go to ``results`` (their ``clock``
        events to ``clock_events``) and users without a credential through the decoy."""
        todo: list[matching.Candidate] = []
        where: list[int] = []
        far: list[tuple[int, State, int, int]] = []
        unknown: list[tuple[str, int, int]] = []
        get = states.get
        screen = self._gate.screen
        clock = Reason.CLOCK
        for i, user, value, length in entries:
            st = get(user)
            if st is None:
                results[i] = REJECTED[Reason.NO_CREDENTIAL]
                unknown.append((user, value, length))
                continue
            refusal = screen(st, t)
            if refusal is None:
                todo.append((st, value, length))
                where.append(i)
            elif refusal is clock:
                far.append((i, st, value, length))
            else:
                results[i] = REJECTED[refusal]
        if far:
            refusals = self._gate.clock_refusals([st for _, st, _, _ in far], t,
                                                    clock_events)
            for (i, st, value, length), refusal in zip(far, refusals, strict=True):
                if refusal is None:
                    todo.append((st, value, length))
                    where.append(i)
                else:
                    results[i] = REJECTED[refusal]
        if unknown and self._policy.mask_unknown_users:
            self._decoy.run(unknown, t)
            return todo, where, [user for user, _, _ in unknown]
        return todo, where, []
