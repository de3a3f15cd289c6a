"""The gate every code passes before the C core sees it: the credential's lock, delay and clock.

One set of rules for :meth:`Verifier.verify_many`, :meth:`Verifier.resync` and
:meth:`Verifier.confirm_enrollment`:

- a locked credential, or one in its delay, is refused unevaluated (so the answer says nothing
  about the code);
- a TOTP credential whose stored step lies further than ``policy.max_clock_jump`` from ``now``
  is refused with ``Reason.CLOCK`` (and a ``clock`` event), unless ``now`` is ahead of it and
  another credential of the store was used within the bound of ``now``;
- for one user's row (:meth:`Gate.admit`): a store that cannot be read refuses (fail closed), a
  row past its expiry is deleted and refused, and a code of another length than the
  credential's is malformed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

from .errors import StoreError
from .events import EventHub
from .policy import Policy
from .records import Credential, CredentialState, Event, EventKind, Reason, State
from .seeds import SeedKeys
from .stores import Store

__all__ = ["Gate"]

log = logging.getLogger("pyotp_hw.verifier")


class Gate:
    """The pre-checks of one verifier (its store, policy, events and key cache)."""

    def __init__(self, store: Store, policy: Policy, hub: EventHub, seeds: SeedKeys) -> None:
        self._store = store
        self._policy = policy
        self._hub = hub
        self._seeds = seeds
        self._bound = policy.max_clock_jump

    def screen(self, st: State, t: float) -> Reason | None:
        """LOCKED, THROTTLED or CLOCK for a state refused at ``t``, else None.

        CLOCK here is provisional: :meth:`clock_refusals` tells which of those states are
        refused after all (it may have to read the store).
        """
        if st.locked_at is not None:
            return Reason.LOCKED
        if st.next_allowed_at > t:
            return Reason.THROTTLED
        bound = self._bound
        if bound and st.last_step is not None and st.kind == "totp" and abs(
                t - (st.t0 + float(st.last_step) * st.period)) > bound:
            return Reason.CLOCK
        return None

    def screen_all(self, states: Sequence[State | None], t: float
                   ) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
        """:meth:`screen` for a batch in one pass, without a call per state: the indices of the
        states let through, of those refused LOCKED, THROTTLED and (provisionally) CLOCK, and of
        the missing ones (None)."""
        through: list[int] = []
        locked: list[int] = []
        throttled: list[int] = []
        far: list[int] = []
        missing: list[int] = []
        bound = self._bound
        for k, st in enumerate(states):
            if st is None:
                missing.append(k)
            elif st.locked_at is not None:
                locked.append(k)
            elif st.next_allowed_at > t:
                throttled.append(k)
            elif bound and (last := st.last_step) is not None and st.kind == "totp" and abs(
                    t - (st.t0 + float(last) * st.period)) > bound:
                far.append(k)
            else:
                through.append(k)
        return through, locked, throttled, far, missing

    def clock_refusals(self, far: Sequence[State], t: float, record: list[Event] | None = None
                       ) -> list[Reason | None]:
        """For TOTP states whose stored step lies more than ``max_clock_jump`` from ``t``:
        ``Reason.CLOCK`` (recording a ``clock`` event), or None to evaluate the code after all.

        With ``record`` the ``clock`` events are appended to it instead, for the caller to store
        and deliver (a verification round stores them in its own transaction).

        Behind the stored step, ``t`` is always refused: every code there would be a replay, and
        only a clock that jumped (now or when the step was stored) gets there. Ahead of it, the
        user may simply not have signed in for a while: ``t`` is refused only when no active
        credential of the store was used within the bound of ``t`` either.
        """
        bound = self._bound
        latest: float | None = None
        asked = False
        out: list[Reason | None] = []
        events: list[Event] = []
        for st in far:
            assert st.last_step is not None  # only such states are passed in
            gap = t - (st.t0 + float(st.last_step) * st.period)
            if gap > 0:
                if not asked:
                    asked = True
                    try:
                        latest = self._store.latest_use()
                    except StoreError as exc:
                        log.warning("verification failed closed: cannot read the store: %s", exc)
                        return [Reason.STORE] * len(far)
                if latest is not None and t - latest <= bound:
                    out.append(None)
                    continue
                detail = f"now is {gap:.0f} s after the last used step"
            else:
                detail = f"now is {-gap:.0f} s before the last used step"
            out.append(Reason.CLOCK)
            events.append(Event(EventKind.CLOCK, st.user, t, detail))
        if events:
            log.warning("refused %d verification(s) at a time far from the last use (%s); "
                        "check the server clock", len(events), events[0].detail)
            if record is not None:
                record.extend(events)
                return out
            try:
                self._store.add_events(events)
            except StoreError as exc:
                log.warning("could not record clock events: %s", exc)
            self._hub.deliver(events)
        return out

    def admit(self, user: str, state: CredentialState, t: float, length: int, *,
              missing: Reason, action: Literal["resync", "confirmation"]) -> Credential | Reason:
        """The user's credential in ``state`` if a code of ``length`` digits may be evaluated
        against it at ``t``, else the reason to refuse (``missing`` when there is none).

        ``action`` names the operation in the log line of a store that cannot be read.
        """
        try:
            row = self._store.get(user, state)
        except StoreError as exc:
            log.warning("%s failed closed: %s", action, exc)
            return Reason.STORE
        if row is None:
            return missing
        if row.expires_at is not None and row.expires_at <= t:
            try:
                self._store.delete(user, [state], [])
            except StoreError as exc:
                log.warning("could not delete an expired enrollment: %s", exc)
            self._seeds.forget([row.id])
            return Reason.EXPIRED
        st = row.state_now
        refusal = self.screen(st, t)
        if refusal is Reason.CLOCK:
            refusal = self.clock_refusals([st], t)[0]
        if refusal is not None:
            return refusal
        if row.digits != length:
            return Reason.MALFORMED
        return row
