"""The verifier: canonical input, C-core matching, replay-safe consumption, throttling, events.

Every verification goes the same way, for one code or ten thousand:

1. each code is checked for canonical form (exact length, ASCII digits) before anything is
   looked up, so malformed input never reaches a cache, counter or rate limit;
2. the batch's credentials are read in one store round trip (sealed seeds included); a locked
   credential, one in its delay, or a TOTP one whose stored step lies further than
   ``policy.max_clock_jump`` from ``now``, is rejected without being evaluated; a user without
   a credential gets a decoy verification and a store write of the same order of work;
3. every code is compared in the C core (:func:`pyotp_hw.bulk.verify_totp` /
   :func:`~pyotp_hw.bulk.verify_hotp`), which computes every code of the window whatever matches,
   over keys cached in key tables (a cached key serves only the row it was decrypted from);
4. the store consumes every matched step and counts every failure in one atomic transaction,
   which refuses a step another worker consumed first. If that write fails, every code of the
   batch is rejected (fail closed).
"""

from __future__ import annotations

import datetime as _dt
import hmac
import logging
import math
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace as _replace
from typing import Any

from .. import bulk
from ..errors import InvalidArgument, InvalidSecret, InvalidType
from ..keys import decode_secret, random_secret
from .enrollment import Enrollment
from .errors import NotEnrolled, ReauthenticationRequired, StoreError, WrongKey
from .keycache import Entry, KeyCache, Segment
from .keyprovider import KeyProvider, as_provider
from .policy import Policy, canonical_code
from .records import (
    Attempt,
    Credential,
    CredentialInfo,
    Event,
    EventKind,
    Params,
    Reason,
    Result,
    State,
    Verdict,
    from_stored_counter,
    to_stored_counter,
)
from .sealing import Sealer, credential_aad
from .stores import Store, open_store

__all__ = ["Verifier"]

log = logging.getLogger("pyotp_hw.verifier")

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_U64_MAX = (1 << 64) - 1
_DIGESTS = ("sha1", "sha256", "sha512")
_MAX_USER_LEN = 255
_SALT_BYTES = 16

# Building the named tuple directly skips its Python-level __new__ on the hot path.
_new_result = tuple.__new__
# Rejections carry no per-call data, so one instance per reason serves every caller.
_REJECT = {reason: Result(False, reason) for reason in Reason}

_VERDICT_REASON = {
    Verdict.FAILED: Reason.INVALID,
    Verdict.REPLAY: Reason.REPLAY,
    Verdict.LOCKED: Reason.LOCKED,
    Verdict.THROTTLED: Reason.THROTTLED,
    Verdict.GONE: Reason.NO_CREDENTIAL,
}

EventCallback = Callable[[Event], None]


def _check_user(user: object) -> str:
    if not isinstance(user, str):
        raise InvalidType(f"user id must be a str, not {type(user).__name__}")
    if not user or len(user) > _MAX_USER_LEN or "\x00" in user:
        raise InvalidArgument(
            f"user id must be 1 to {_MAX_USER_LEN} characters without NUL"
        )
    if not _encodable(user):
        raise InvalidArgument(
            "user id must be valid Unicode text: it holds a lone surrogate (an undecodable "
            "byte), which no store can keep")
    return user


def _encodable(text: str) -> bool:
    """True when ``text`` encodes as UTF-8 (no lone surrogates), as every store needs."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Matches:
    """What the C core said about each code of a batch, as parallel lists."""

    __slots__ = ("drift", "error", "kind", "replay", "step")

    def __init__(self, n: int) -> None:
        self.step: list[int | None] = [None] * n  # stored form
        self.drift = [0] * n
        self.replay = [False] * n
        self.error: list[Reason | None] = [None] * n
        self.kind = ["totp"] * n


class _BatchKeys:
    """The key table and rows for one bulk call over credentials of one or more segments.

    With one segment, its cached table is used as it is. With several, their rows are gathered
    into a table for this batch only, wiped when the block ends.
    """

    def __init__(self, entries: Sequence[tuple[Segment, int]]) -> None:
        self._entries = entries
        self._merged: bulk.KeyTable | None = None

    def __enter__(self) -> tuple[bulk.KeyTable, array[int]]:
        first = self._entries[0][0]
        if all(seg is first for seg, _ in self._entries):
            return first.table, array("I", [row for _, row in self._entries])
        parts: list[tuple[bulk.KeyTable, array[int]]] = []
        for seg, row in self._entries:
            if parts and parts[-1][0] is seg.table:
                parts[-1][1].append(row)
            else:
                parts.append((seg.table, array("I", [row])))
        self._merged = bulk.KeyTable.gather(parts)
        return self._merged, array("I", range(len(self._entries)))

    def __exit__(self, *exc: object) -> None:
        if self._merged is not None:
            self._merged.close()


def _public_step(kind: str, step: int | None) -> int | None:
    """A consumed step as callers see it (HOTP counters are stored shifted)."""
    if step is None or kind == "totp":
        return step
    return from_stored_counter(step)


class Verifier:
    """Server-side OTP verification over a store; see :meth:`open`.

    A verifier is safe to share between threads; several processes or machines may open the
    same SQLite file or PostgreSQL database at once.
    """

    def __init__(
        self,
        store: Store,
        key: bytes | KeyProvider,
        *,
        policy: Policy | None = None,
        cache_size: int = 100_000,
        clock: Callable[[], float] = time.time,
        create: bool = True,
    ) -> None:
        """Use an already constructed store (see :meth:`open` for URLs and ``create``)."""
        self.policy = policy if policy is not None else Policy()
        if not isinstance(self.policy, Policy):
            raise InvalidType("policy must be a pyotp_hw.verifier.Policy")
        self.store = store
        self._clock = clock
        provider = as_provider(key)
        store.migrate(create=create)
        import secrets as _secrets

        salt = bytes.fromhex(store.init_meta({"salt": _secrets.token_hex(_SALT_BYTES)})["salt"])
        self._sealer = Sealer(provider.data_key(salt))
        check = store.init_meta({"key_check": self._sealer.key_check().hex()})["key_check"]
        self._sealer.verify_key_check(bytes.fromhex(check))
        self._cache = KeyCache(capacity=cache_size)
        self._callbacks: list[EventCallback] = []
        self._callbacks_lock = threading.Lock()
        self._decoy_keys: bulk.KeyTable | None = None
        self._decoy_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        key: bytes | KeyProvider,
        window: int | tuple[int, int] | None = None,
        policy: Policy | None = None,
        cache_size: int = 100_000,
        clock: Callable[[], float] = time.time,
        create: bool = True,
        **policy_fields: Any,
    ) -> Verifier:
        """Open (creating or upgrading the schema of) the store at ``url``.

        ``url``: ``"memory:"``, ``"sqlite:///path.db"`` or ``"postgresql://user@host:port/db"``.
        ``key``: the 32-byte data key, or a key provider (:class:`PassphraseKey`,
        :class:`KeyFile`, :class:`EnvKey`, ...); a wrong key raises :class:`WrongKey`.
        ``window``: TOTP steps accepted each way (an int, or a ``(past, future)`` pair); other
        :class:`Policy` fields may be given as keywords (``lockout_after=5``, ...).
        ``create``: false opens existing stores only (a missing SQLite file, or a database
        without the verifier's tables, raises :class:`StoreNotFound` and creates nothing),
        which keeps a mistyped URL from starting an empty store.
        """
        base = policy if policy is not None else Policy()
        if window is not None:
            if isinstance(window, tuple):
                policy_fields.setdefault("past", window[0])
                policy_fields.setdefault("future", window[1])
            else:
                policy_fields.setdefault("past", window)
                policy_fields.setdefault("future", window)
        try:
            effective = _replace(base, **policy_fields) if policy_fields else base
        except TypeError as exc:
            raise InvalidArgument(f"unknown policy setting: {exc}") from None
        store = open_store(url, create=create)
        try:
            return cls(store, key, policy=effective, cache_size=cache_size, clock=clock,
                       create=create)
        except BaseException:
            store.close()
            raise

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Wipe cached keys and close the store."""
        self._cache.clear()
        with self._decoy_lock:
            if self._decoy_keys is not None:
                self._decoy_keys.close()
                self._decoy_keys = None
        self.store.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Verifier {self.store.url}>"

    # ------------------------------------------------------------------ events

    def on_event(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` after each recorded event; returns a function that stops it.

        Callbacks run in the thread that caused the event, after the store committed it. An
        exception in a callback is logged and does not affect verification.
        """
        with self._callbacks_lock:
            self._callbacks.append(callback)

        def cancel() -> None:
            with self._callbacks_lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return cancel

    def _deliver(self, events: Iterable[Event]) -> None:
        with self._callbacks_lock:
            callbacks = list(self._callbacks)
        for event in events:
            for cb in callbacks:
                try:
                    cb(event)
                except Exception:
                    log.exception("event callback failed for a %s event", event.kind.value)

    def events(self, user: str | None = None, *, after: int = 0, limit: int = 1000) -> list[Event]:
        """Stored events, oldest first (of one user, or of all); ``after`` is an event id."""
        if user is not None:
            _check_user(user)
        return self.store.events(user, after, limit)

    # ------------------------------------------------------------------ time

    def _now(self, now: object) -> float:
        if now is None:
            return float(self._clock())
        if isinstance(now, bool):
            raise InvalidType("now must be a number of seconds or an aware datetime, not bool")
        if isinstance(now, _dt.datetime):
            if now.tzinfo is None or now.utcoffset() is None:
                raise InvalidArgument("now is a naive datetime; give it a timezone")
            return now.timestamp()
        if isinstance(now, (int, float)):
            if not math.isfinite(now) or not _I64_MIN <= now <= _I64_MAX:
                raise InvalidArgument("now must be a finite time within 64-bit seconds")
            return now
        raise InvalidType(
            f"now must be a number of seconds or a datetime, not {type(now).__name__}"
        )

    # ------------------------------------------------------------------ verification

    def verify(self, user: str, code: str, now: float | _dt.datetime | None = None) -> Result:
        """Verify one code; see :meth:`verify_many`."""
        return self.verify_many([(user, code)], now)[0]

    def verify_many(
        self,
        items: Iterable[tuple[str, str]],
        now: float | _dt.datetime | None = None,
    ) -> list[Result]:
        """Verify a batch of ``(user, code)`` pairs; one :class:`Result` per pair, in order.

        The batch's state is read in one round trip, its codes computed in bulk in the C core,
        and every consumed step and failure committed in one transaction. A user appearing
        several times is handled as if the pairs came one after another.
        """
        t = self._now(now)
        lengths = self.policy._lengths
        malformed = _REJECT[Reason.MALFORMED]
        results: list[Result | None] = []
        rounds: list[list[tuple[int, str, int, int]]] = [[]]
        first = rounds[0]
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            try:
                user, code = item
            except (TypeError, ValueError):
                raise InvalidArgument(f"item {i} is not a (user, code) pair") from None
            if (type(user) is not str or not 0 < len(user) <= _MAX_USER_LEN or "\x00" in user
                    or not _encodable(user)):
                _check_user(user)
            if type(code) is not str:
                raise InvalidType(f"code must be a str, not {type(code).__name__}")
            # Canonical form before anything is looked up (see policy.canonical_code).
            if len(code) not in lengths or not code.isascii() or not code.isdigit():
                results.append(malformed)
                continue
            results.append(None)
            k = seen.get(user, 0)
            seen[user] = k + 1
            if k == 0:
                first.append((i, user, int(code), len(code)))
            else:
                while len(rounds) <= k:
                    rounds.append([])
                rounds[k].append((i, user, int(code), len(code)))
        for entries in rounds:
            if entries:
                self._verify_round(entries, t, results)
        return results  # type: ignore[return-value]

    def _verify_round(
        self, entries: list[tuple[int, str, int, int]], t: float, results: list[Result | None]
    ) -> None:
        try:
            states = self.store.load_states([e[1] for e in entries])
        except StoreError as exc:
            log.warning("verification failed closed: cannot read the store: %s", exc)
            for e in entries:
                results[e[0]] = _REJECT[Reason.STORE]
            return
        todo: list[tuple[State, int, int]] = []
        where: list[int] = []
        far: list[tuple[int, State, int, int]] = []
        unknown: list[tuple[str, int, int]] = []
        get = states.get
        bound = self.policy.max_clock_jump
        for i, user, value, length in entries:
            st = get(user)
            if st is None:
                results[i] = _REJECT[Reason.NO_CREDENTIAL]
                unknown.append((user, value, length))
            elif st.locked_at is not None:
                # Locked: not evaluated at all, so the answer says nothing about the code.
                results[i] = _REJECT[Reason.LOCKED]
            elif st.next_allowed_at > t:
                results[i] = _REJECT[Reason.THROTTLED]
            elif bound and st.last_step is not None and st.kind == "totp" and abs(
                    t - (st.t0 + float(st.last_step) * st.period)) > bound:
                far.append((i, st, value, length))
            else:
                todo.append((st, value, length))
                where.append(i)
        if far:
            refusals = self._clock_check([st for _, st, _, _ in far], t)
            for (i, st, value, length), refusal in zip(far, refusals, strict=True):
                if refusal is None:
                    todo.append((st, value, length))
                    where.append(i)
                else:
                    results[i] = _REJECT[refusal]
        if unknown and self.policy.mask_unknown_users:
            self._decoy(unknown, t)
        if not todo:
            return
        m = self._evaluate(todo, t)
        errors, steps, drifts, replays = m.error, m.step, m.drift, m.replay
        attempts: list[Attempt] = []
        positions: list[int] = []
        for k, i in enumerate(where):
            error = errors[k]
            if error is not None:
                results[i] = _REJECT[error]
                continue
            st = todo[k][0]
            attempts.append(Attempt(st.id, st.user, steps[k], drifts[k], replays[k]))
            positions.append(k)
        if not attempts:
            return
        try:
            verdicts, events = self.store.commit(attempts, t, self.policy)
        except StoreError as exc:
            log.warning("verification failed closed: cannot write the store: %s", exc)
            for k in positions:
                results[where[k]] = _REJECT[Reason.STORE]
            return
        accepted = Verdict.ACCEPTED
        ok = Reason.OK
        kinds = m.kind
        for k, v in zip(positions, verdicts, strict=True):
            if v is accepted:
                step = steps[k]
                if kinds[k] != "totp":
                    step = _public_step("hotp", step)
                results[where[k]] = _new_result(Result, (True, ok, step))
            else:
                results[where[k]] = _REJECT[_VERDICT_REASON[v]]
        if events:
            self._deliver(events)

    def _clock_check(self, far: Sequence[State], t: float) -> list[Reason | None]:
        """For TOTP credentials whose stored step lies more than ``max_clock_jump`` from ``t``:
        ``Reason.CLOCK`` (recording a ``clock`` event), or None to evaluate the code after all.

        Behind the stored step, ``t`` is always refused: every code there would be a replay, and
        only a clock that jumped (now or when the step was stored) gets there. Ahead of it, the
        user may simply not have signed in for a while: ``t`` is refused only when no active
        credential of the store was used within the bound of ``t`` either.
        """
        bound = self.policy.max_clock_jump
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
                        latest = self.store.latest_use()
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
            try:
                self.store.add_events(events)
            except StoreError as exc:
                log.warning("could not record clock events: %s", exc)
            self._deliver(events)
        return out

    def _decoy(self, unknown: Sequence[tuple[str, int, int]], t: float) -> None:
        """For users without a credential, the work a known user's wrong code costs: the same
        two C calls over a decoy key (the default parameters: SHA-1, 30 s, the code's length)
        and a store write. The answer stays ``Reason.NO_CREDENTIAL`` whatever happens here."""
        t_int = math.floor(t)
        if t_int >= 0:
            table = self._decoy_table()
            window = (self.policy.past, self.policy.future)
            by_length: dict[int, list[int]] = {}
            for _, value, length in unknown:
                by_length.setdefault(length, []).append(value)
            for length, values in by_length.items():
                n = len(values)
                codes, times, rows = array("I", values), array("q", [t_int]) * n, array(
                    "I", [0]) * n
                bulk.verify_totp(table, codes, times, interval=30, t0=0, window=window,
                                 digits=length, last_steps=array("q", [-1]) * n, rows=rows)
                bulk.verify_totp(table, codes, times, interval=30, t0=0, window=window,
                                 digits=length, rows=rows)
        try:
            self.store.count_unknown([user for user, _, _ in unknown])
        except StoreError as exc:
            log.warning("could not count attempts for unknown users: %s", exc)

    def _decoy_table(self) -> bulk.KeyTable:
        with self._decoy_lock:
            if self._decoy_keys is None:
                self._decoy_keys = bulk.KeyTable([random_secret(20)], digest="sha1")
            return self._decoy_keys

    # ------------------------------------------------------------------ matching in the C core

    def _evaluate(
        self,
        items: Sequence[tuple[State, int, int]],
        t: float,
    ) -> _Matches:
        """Match each ``(state, code, length)``: one bulk C call per kind and code parameters.

        Credentials whose keys sit in different cached segments are gathered into one key table
        for the batch (a copy of their HMAC states), so the call count does not depend on
        which segments the batch touches.
        """
        out = _Matches(len(items))
        pinned: list[Segment] = []
        try:
            located = self._locate([st.params for st, _, _ in items], out, pinned)
            groups: dict[tuple[Any, ...], list[int]] = {}
            for j, entry in enumerate(located):
                if entry is None:
                    continue
                seg, _, params = entry
                if params.digits != items[j][2]:
                    out.error[j] = Reason.MALFORMED
                    continue
                if params.kind == "totp":
                    key: tuple[Any, ...] = (seg.digest, "totp", params.digits, params.period,
                                            params.t0)
                else:
                    key = (seg.digest, "hotp", params.digits)
                groups.setdefault(key, []).append(j)
            for key, members in groups.items():
                if key[1] == "totp":
                    self._match_totp(members, located, items, out, t)
                else:
                    self._match_hotp(members, located, items, out)
        finally:
            self._cache.release(pinned)
        return out

    def _locate(
        self,
        keys: Sequence[Params],
        out: _Matches,
        pinned: list[Segment],
    ) -> list[Entry | None]:
        """Cache entries for the rows just read, decrypting (once) the seeds of the others.

        A cached key serves a row only when its user, parameters and sealed seed are the row's
        (see :class:`~pyotp_hw.verifier.keycache.KeyCache`); the row read carries its sealed
        seed, so a miss costs no further round trip.
        """
        found, pins = self._cache.lookup(keys)
        pinned.extend(pins)
        by_digest: dict[str, list[int]] = {}
        for j, hit in enumerate(found):
            if hit is None:
                by_digest.setdefault(keys[j].digest, []).append(j)
        for digest, idx in by_digest.items():
            opened: list[bytearray] = []
            params: list[Params] = []
            keep: list[int] = []
            for j in idx:
                row = keys[j]
                try:
                    opened.append(self._open_seed(row))
                except WrongKey:
                    log.warning("credential %d cannot be decrypted", row.id)
                    out.error[j] = Reason.UNREADABLE
                    continue
                params.append(row)
                keep.append(j)
            if not keep:
                continue
            seg = self._cache.add(digest, params, opened)
            pinned.append(seg)
            for r, j in enumerate(keep):
                found[j] = (seg, r, params[r])
        return found

    def _open_seed(self, row: Params) -> bytearray:
        aad = credential_aad(row.user, row.kind, row.digest, row.digits, row.period, row.t0)
        return self._sealer.open_into(row.sealed, aad)

    def _match_totp(
        self,
        members: list[int],
        located: list[Entry | None],
        items: Sequence[tuple[State, int, int]],
        out: _Matches,
        t: float,
    ) -> None:
        policy = self.policy
        max_drift = policy.max_drift
        _, _, params = located[members[0]]  # type: ignore[misc]
        period, t0, digits = params.period, params.t0, params.digits
        t_int = math.floor(t)
        if t_int < t0:
            for j in members:
                out.error[j] = Reason.OUT_OF_RANGE
            return
        now_step = (t_int - t0) // period
        codes = array("I")
        times = array("q")
        last = array("q")
        entries: list[tuple[Segment, int]] = []
        keep: list[int] = []
        for j in members:
            st, value, _ = items[j]
            at = t_int
            if st.drift and max_drift:
                at += min(max(st.drift, -max_drift), max_drift) * period
                if not t0 <= at <= _I64_MAX:
                    out.error[j] = Reason.OUT_OF_RANGE
                    continue
            codes.append(value)
            times.append(at)
            last.append(-1 if st.last_step is None else st.last_step)
            seg, row, _ = located[j]  # type: ignore[misc]
            entries.append((seg, row))
            keep.append(j)
        if not keep:
            return
        with _BatchKeys(entries) as (table, rows):
            self._match_totp_calls(table, rows, keep, codes, times, last, now_step, period, t0,
                                   digits, out)

    def _match_totp_calls(
        self, table: bulk.KeyTable, rows: array[int], keep: list[int], codes: array[int],
        times: array[int], last: array[int], now_step: int, period: int, t0: int, digits: int,
        out: _Matches,
    ) -> None:
        policy = self.policy
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

    def _match_hotp(
        self,
        members: list[int],
        located: list[Entry | None],
        items: Sequence[tuple[State, int, int]],
        out: _Matches,
    ) -> None:
        _, _, params = located[members[0]]  # type: ignore[misc]
        digits = params.digits
        look = self.policy.look_ahead
        counters = array("Q")
        codes = array("I")
        entries: list[tuple[Segment, int]] = []
        keep: list[int] = []
        for j in members:
            st, value, _ = items[j]
            out.kind[j] = "hotp"
            seg, row, _ = located[j]  # type: ignore[misc]
            nxt = 0 if st.last_step is None else from_stored_counter(st.last_step) + 1
            if nxt > _U64_MAX:
                out.error[j] = Reason.OUT_OF_RANGE
                continue
            if nxt + look > _I64_MAX:
                self._match_hotp_high(seg, row, nxt, value, digits, out, j)
                continue
            counters.append(nxt)
            codes.append(value)
            entries.append((seg, row))
            keep.append(j)
        if not keep:
            return
        with _BatchKeys(entries) as (table, rows):
            self._match_hotp_calls(table, rows, keep, codes, counters, digits, out)

    def _match_hotp_calls(
        self, table: bulk.KeyTable, rows: array[int], keep: list[int], codes: array[int],
        counters: array[int], digits: int, out: _Matches,
    ) -> None:
        look = self.policy.look_ahead
        found = bulk.verify_hotp(
            table, codes, counters, look_ahead=look, digits=digits, rows=rows
        )
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

    def _match_hotp_high(
        self, seg: Segment, row: int, nxt: int, value: int, digits: int, out: _Matches, j: int
    ) -> None:
        """HOTP counters at the top of the 64-bit range, beyond the int64 results of the bulk
        verifier: codes computed by the C core, compared without an early exit."""
        top = min(_U64_MAX, nxt + self.policy.look_ahead)
        low = max(0, nxt - 1 - self.policy.look_ahead)
        counters = array("Q", range(low, top + 1))
        codes = bulk.hotp(
            seg.table, counters, digits=digits, rows=array("I", [row]) * len(counters)
        )
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

    # ------------------------------------------------------------------ resync

    def resync(
        self, user: str, code1: str, code2: str, now: float | _dt.datetime | None = None
    ) -> Result:
        """Resynchronise a drifted token from two consecutive codes.

        Both codes must match consecutive steps (or counters) within ``policy.resync_window`` of
        the expected one, above the last used step. On success the second code's step is
        consumed and the drift recorded; later TOTP verifications centre their window on it.
        Off (``Reason.RESYNC_OFF``) unless the policy sets ``resync_window``. A pair that does
        not match counts as a failure.
        """
        _check_user(user)
        t = self._now(now)
        v1 = canonical_code(code1, self.policy)
        v2 = canonical_code(code2, self.policy)
        if v1 is None or v2 is None or len(code1) != len(code2):
            return _REJECT[Reason.MALFORMED]
        if self.policy.resync_window == 0:
            return _REJECT[Reason.RESYNC_OFF]
        try:
            row = self.store.get(user, "active")
        except StoreError as exc:
            log.warning("resync failed closed: %s", exc)
            return _REJECT[Reason.STORE]
        if row is None:
            return _REJECT[Reason.NO_CREDENTIAL]
        if row.locked_at is not None:
            return _REJECT[Reason.LOCKED]
        if row.next_allowed_at > t:
            return _REJECT[Reason.THROTTLED]
        bound = self.policy.max_clock_jump
        if bound and row.kind == "totp" and row.last_step is not None and abs(
                t - (row.t0 + float(row.last_step) * row.period)) > bound:
            refusal = self._clock_check([row.state_now], t)[0]
            if refusal is not None:
                return _REJECT[refusal]
        if row.digits != len(code1):
            return _REJECT[Reason.MALFORMED]
        pinned: list[Segment] = []
        m = _Matches(1)
        try:
            entry = self._locate([row.params], m, pinned)[0]
            if entry is None:
                return _REJECT[m.error[0] or Reason.UNREADABLE]
            found = self._resync_search(entry[0], entry[1], row, v1, v2, t)
        finally:
            self._cache.release(pinned)
        if found is None:
            return _REJECT[Reason.OUT_OF_RANGE]
        step, drift = found
        try:
            verdicts, events = self.store.commit(
                [Attempt(row.id, user, step, drift)], t, self.policy)
            accepted = verdicts[0] is Verdict.ACCEPTED
            if accepted:
                done = Event(EventKind.RESYNCED, user, t, f"drift {drift}")
                self.store.add_events([done])
                events.append(done)
        except StoreError as exc:
            log.warning("resync failed closed: %s", exc)
            return _REJECT[Reason.STORE]
        self._deliver(events)
        if accepted:
            return Result(True, Reason.OK, _public_step(row.kind, step))
        reason = _VERDICT_REASON[verdicts[0]]
        # A pair that turned out consumed by another worker is simply not a valid pair.
        return _REJECT[Reason.INVALID if reason is Reason.REPLAY else reason]

    def _resync_search(
        self, seg: Segment, row_index: int, row: Credential, v1: int, v2: int, t: float
    ) -> tuple[int | None, int] | None:
        """(stored step of the second code, drift), (None, 0) for no pair, None if out of range.

        Every candidate pair in the window is computed in one C call of fixed size.
        """
        radius = self.policy.resync_window
        if row.kind == "totp":
            t_int = math.floor(t)
            if t_int < row.t0:
                return None
            centre = (t_int - row.t0) // row.period
            # Both codes inside [centre - radius, centre + radius]: first codes up to one
            # step before the upper edge.
            low = max(0, centre - radius)
            high = centre + radius - 1
            if row.t0 + (high + 1) * row.period > _I64_MAX:
                return None
            floor = -1 if row.last_step is None else row.last_step
            n = high - low + 1
            steps = range(low, high + 1)
            times = array("q", [row.t0 + s * row.period for s in steps]
                          + [row.t0 + (s + 1) * row.period for s in steps])
            got = bulk.verify_totp(
                seg.table, array("I", [v1] * n + [v2] * n), times, interval=row.period,
                t0=row.t0, window=0, digits=row.digits,
                last_steps=array("q", [floor] * (2 * n)), rows=array("I", [row_index]) * (2 * n),
            )
            pair: int | None = None
            for k in range(n):
                if got[k] >= 0 and got[n + k] >= 0 and pair is None:
                    pair = got[n + k]
            return (None, 0) if pair is None else (pair, pair - centre)
        nxt = 0 if row.last_step is None else from_stored_counter(row.last_step) + 1
        if nxt + radius > _U64_MAX:
            return None
        # Both codes inside [nxt, nxt + radius].
        counters = array("Q", range(nxt, nxt + radius + 1))
        codes = bulk.hotp(seg.table, counters, digits=row.digits,
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

    # ------------------------------------------------------------------ enrollment

    def _seal_row(
        self,
        user: str,
        secret: bytes,
        *,
        state: str,
        kind: str,
        digest: str,
        digits: int,
        period: int,
        t0: int,
        counter: int,
        issuer: str | None,
        account: str | None,
        now: float,
        expires_at: float | None,
    ) -> Credential:
        aad = credential_aad(user, kind, digest, digits, period, t0)
        last = None
        if kind == "hotp" and counter > 0:
            last = to_stored_counter(counter - 1)
        return Credential(
            id=0, user=user, state=state, kind=kind, digest=digest, digits=digits, period=period,
            t0=t0, sealed=self._sealer.seal(secret, aad), issuer=issuer, account=account,
            last_step=last, drift=0, failures=0, next_allowed_at=0.0, locked_at=None,
            created_at=now, expires_at=expires_at,
        )

    def _check_params(self, kind: str, digest: str, digits: int, period: int, t0: int,
                      counter: int) -> None:
        if kind not in ("totp", "hotp"):
            raise InvalidArgument(f"kind must be 'totp' or 'hotp', not {kind!r}")
        if digest not in _DIGESTS:
            raise InvalidArgument(f"digest must be one of {', '.join(_DIGESTS)}, not {digest!r}")
        for name, value in (("digits", digits), ("interval", period), ("t0", t0),
                            ("counter", counter)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidType(f"{name} must be an int")
        if not self.policy.accepts_length(digits):
            raise InvalidArgument(
                f"this verifier accepts {', '.join(map(str, self.policy.digits))}-digit codes, "
                f"not {digits}"
            )
        if not 1 <= period <= _I64_MAX:
            raise InvalidArgument("interval must be at least 1 second")
        if not 0 <= t0 <= _I64_MAX:
            raise InvalidArgument("t0 must be between 0 and 2**63-1")
        if not 0 <= counter <= _U64_MAX:
            raise InvalidArgument("counter must be between 0 and 2**64-1")

    def enroll(
        self,
        user: str,
        secret_or_uri: str | bytes,
        *,
        kind: str | None = None,
        digits: int | None = None,
        digest: str | None = None,
        interval: int | None = None,
        t0: int = 0,
        counter: int | None = None,
        issuer: str | None = None,
        name: str | None = None,
        replace: bool = False,
        current_code: str | None = None,
        reauthenticated: bool = False,
        now: float | _dt.datetime | None = None,
    ) -> None:
        """Make a credential active at once (importing existing seeds; no confirmation).

        ``secret_or_uri`` is an ``otpauth://`` URI (which then carries every parameter), a
        base32 secret or raw bytes. Defaults: TOTP, 6 digits, SHA-1, 30 s. An existing active
        credential is kept, and :class:`AlreadyEnrolled` raised, unless ``replace`` is true.

        Replacing one needs proof (unless ``policy.replace_needs_proof`` is off): a code from it
        as ``current_code`` (verified and consumed like :meth:`verify`; a wrong one counts as
        its failure), or ``reauthenticated=True``, the site's word that it re-authenticated the
        user just now. Without it :class:`ReauthenticationRequired` is raised and nothing
        changes. The new credential keeps the old one's failures, delay and lock (see
        :meth:`unlock`). Records ``enrolled`` (and ``replaced``).
        """
        t = self._now(now)
        row = self._active_row(user, secret_or_uri, t, kind=kind, digits=digits, digest=digest,
                               interval=interval, t0=t0, counter=counter, issuer=issuer,
                               name=name)
        proven: Credential | None = None
        how = self._proof_kind(reauthenticated, current_code, replace)
        if current_code is not None and not reauthenticated and self.policy.replace_needs_proof:
            proven, result = self._prove_current(user, current_code, t)
            if result is not None and not result.ok:
                raise ReauthenticationRequired(
                    f"the current code was not accepted ({result.reason}); user {user!r}'s "
                    "credential was not replaced")
        self._put_active([row], t, replace, self._replace_check(reauthenticated, proven), how)

    def enroll_many(
        self,
        entries: Iterable[tuple[str, str | bytes]],
        *,
        replace: bool = False,
        reauthenticated: bool = False,
        now: float | _dt.datetime | None = None,
        **params: Any,
    ) -> None:
        """:meth:`enroll` for many ``(user, secret_or_uri)`` pairs in one transaction.

        ``params`` (kind, digits, digest, interval, t0, counter, issuer, name) apply to every
        entry. All or nothing: one user already enrolled (without ``replace``, or without
        ``reauthenticated`` where replacing needs proof) stores none.
        """
        t = self._now(now)
        rows = [self._active_row(user, secret, t, **params) for user, secret in entries]
        how = self._proof_kind(reauthenticated, None, replace)
        self._put_active(rows, t, replace, self._replace_check(reauthenticated, None), how)

    def _put_active(self, rows: list[Credential], t: float, replace: bool,
                    may_replace: Callable[[Credential], bool] | None, how: str) -> None:
        events = [Event(EventKind.ENROLLED, r.user, t, r.kind) for r in rows]
        replaced: list[Event] = []

        def on_replace(old: Credential) -> Event:
            event = Event(EventKind.REPLACED, old.user, t, f"by enroll{how}")
            replaced.append(event)
            return event

        olds = self.store.put_active(rows, replace=replace, events=events, on_replace=on_replace,
                                     may_replace=may_replace)
        self._cache.forget([o.id for o in olds])
        self._deliver(events + replaced)

    # ------------------------------------------------------------------ proof for replacing

    @staticmethod
    def _proof_kind(reauthenticated: object, current_code: object, replace: bool = True) -> str:
        """Check the proof arguments; the words the ``replaced`` event uses for them."""
        if not isinstance(reauthenticated, bool):
            raise InvalidType("reauthenticated must be a bool")
        if current_code is not None and not isinstance(current_code, str):
            raise InvalidType(f"current_code must be a str, not {type(current_code).__name__}")
        if current_code is not None and not replace:
            raise InvalidArgument("current_code proves a replacement; give it with replace=True")
        if reauthenticated:
            return " (re-authenticated)"
        return " (current code)" if current_code is not None else ""

    def _replace_check(
        self, reauthenticated: bool, proven: Credential | None
    ) -> Callable[[Credential], bool] | None:
        """What the store asks before replacing an active credential (None: anything goes).

        Only the very credential a current code was verified against may be replaced: its
        identity (user, parameters, sealed seed) must be the one found in the transaction.
        """
        if reauthenticated or not self.policy.replace_needs_proof:
            return None
        if proven is None:
            return lambda old: False
        identity = proven.params
        return lambda old: old.params == identity

    def _prove_current(
        self, user: str, code: str, t: float
    ) -> tuple[Credential | None, Result | None]:
        """(the active credential, the verification of ``code`` against it); (None, None)
        when the user has none."""
        _check_user(user)
        row = self.store.get(user, "active")
        if row is None:
            return None, None
        return row, self.verify(user, code, now=t)

    def _active_row(
        self,
        user: str,
        secret_or_uri: str | bytes,
        t: float,
        *,
        kind: str | None = None,
        digits: int | None = None,
        digest: str | None = None,
        interval: int | None = None,
        t0: int = 0,
        counter: int | None = None,
        issuer: str | None = None,
        name: str | None = None,
    ) -> Credential:
        _check_user(user)
        is_uri = isinstance(secret_or_uri, str) and secret_or_uri.strip().lower().startswith(
            "otpauth")
        if is_uri:
            if any(v is not None for v in (kind, digits, digest, interval, counter)) or t0:
                raise InvalidArgument(
                    "give the credential's parameters either in the URI or as arguments, not both"
                )
            from ..uri import parse

            entry = parse(secret_or_uri)  # type: ignore[arg-type]
            if entry.is_steam:
                raise InvalidArgument(
                    "Steam Guard codes are not digits; the verifier cannot use them"
                )
            secret = entry.secret
            kind, digits, digest = entry.kind, entry.digits, entry.digest
            interval = entry.period
            counter = entry.counter
            issuer = issuer if issuer is not None else entry.issuer
            name = name if name is not None else entry.account
        else:
            if not isinstance(secret_or_uri, (str, bytes, bytearray)):
                raise InvalidType("secret_or_uri must be a URI, a base32 str or bytes")
            secret = decode_secret(secret_or_uri)
        kind = kind or "totp"
        digits = 6 if digits is None else digits
        digest = digest or "sha1"
        interval = 30 if interval is None else interval
        counter = counter or 0
        self._check_params(kind, digest, digits, interval, t0, counter)
        if len(secret) < self.policy.min_secret_bytes:
            raise InvalidSecret(
                f"secret has {8 * len(secret)} bits; this verifier requires at least "
                f"{8 * self.policy.min_secret_bytes} (RFC 4226 R6)"
            )
        return self._seal_row(
            user, secret, state="active", kind=kind, digest=digest, digits=digits,
            period=interval if kind == "totp" else 0, t0=t0 if kind == "totp" else 0,
            counter=counter if kind == "hotp" else 0, issuer=issuer, account=name, now=t,
            expires_at=None,
        )

    def begin_enrollment(
        self,
        user: str,
        *,
        issuer: str,
        name: str,
        digits: int | None = None,
        digest: str = "sha1",
        interval: int = 30,
        now: float | _dt.datetime | None = None,
    ) -> Enrollment:
        """Issue a new 160-bit TOTP secret for ``user``, pending until confirmed.

        Returns the :class:`Enrollment` with the ``otpauth://`` URI to show (as a QR code). The
        user's active credential, if any, keeps working until the new one is confirmed. A second
        call replaces an unconfirmed pending one. Records ``enrolled``.
        """
        _check_user(user)
        for label, value in (("issuer", issuer), ("name", name)):
            if not isinstance(value, str) or not value:
                raise InvalidArgument(f"{label} must be a non-empty str")
        t = self._now(now)
        digits = self.policy.digits[0] if digits is None else digits
        self._check_params("totp", digest, digits, interval, 0, 0)
        secret = random_secret(20)
        from ..uri import build

        uri = build("totp", secret, account=name, issuer=issuer, digest=digest, digits=digits,
                    period=interval)
        expires = t + self.policy.enrollment_ttl
        row = self._seal_row(
            user, secret, state="pending", kind="totp", digest=digest, digits=digits,
            period=interval, t0=0, counter=0, issuer=issuer, account=name, now=t,
            expires_at=expires,
        )
        del secret
        events = [Event(EventKind.ENROLLED, user, t, "pending")]
        self.store.put_pending(row, events=events)
        self._deliver(events)
        return Enrollment(user, uri, expires)

    def confirm_enrollment(
        self,
        user: str,
        code: str,
        now: float | _dt.datetime | None = None,
        *,
        current_code: str | None = None,
        reauthenticated: bool = False,
    ) -> Result:
        """Activate the user's pending credential if ``code`` is valid for it.

        A wrong code counts as a failure of the pending credential (and leaves it pending); an
        expired enrollment is deleted and cannot be confirmed. On success the old active
        credential, if any, is replaced, which needs proof unless ``policy.replace_needs_proof``
        is off: a code from the old credential as ``current_code`` (verified and consumed like
        :meth:`verify`; ``Reason.CURRENT_REJECTED`` when it is not accepted, a locked one never
        is), or ``reauthenticated=True``, the site's word that it re-authenticated the user just
        now; without either the answer is ``Reason.NEEDS_PROOF`` and nothing changes. The new
        credential keeps the old one's failures, delay and lock (see :meth:`unlock`). Records
        ``confirmed`` (and ``replaced``).
        """
        _check_user(user)
        t = self._now(now)
        how = self._proof_kind(reauthenticated, current_code)
        value = canonical_code(code, self.policy)
        if value is None:
            return _REJECT[Reason.MALFORMED]
        try:
            row = self.store.get(user, "pending")
        except StoreError as exc:
            log.warning("confirmation failed closed: %s", exc)
            return _REJECT[Reason.STORE]
        if row is None:
            return _REJECT[Reason.NO_PENDING]
        if row.expires_at is not None and row.expires_at <= t:
            try:
                self.store.delete(user, ["pending"], [])
            except StoreError as exc:
                log.warning("could not delete an expired enrollment: %s", exc)
            self._cache.forget([row.id])
            return _REJECT[Reason.EXPIRED]
        if row.locked_at is not None:
            return _REJECT[Reason.LOCKED]
        if row.next_allowed_at > t:
            return _REJECT[Reason.THROTTLED]
        if row.digits != len(code):
            return _REJECT[Reason.MALFORMED]
        matches = self._evaluate([(row.state_now, value, len(code))], t)
        error, step, drift = matches.error[0], matches.step[0], matches.drift[0]
        if error is not None:
            return _REJECT[error]
        if step is None:
            try:
                verdicts, events = self.store.commit(
                    [Attempt(row.id, user, None, 0, matches.replay[0])], t, self.policy)
            except StoreError as exc:
                log.warning("confirmation failed closed: %s", exc)
                return _REJECT[Reason.STORE]
            self._deliver(events)
            return _REJECT[_VERDICT_REASON[verdicts[0]]]
        proven: Credential | None = None
        if self.policy.replace_needs_proof and not reauthenticated:
            try:
                active = self.store.get(user, "active")
            except StoreError as exc:
                log.warning("confirmation failed closed: %s", exc)
                return _REJECT[Reason.STORE]
            if active is not None:
                if current_code is None:
                    return _REJECT[Reason.NEEDS_PROOF]
                proven, checked = self._prove_current(user, current_code, t)
                if checked is not None and not checked.ok:
                    return _REJECT[Reason.STORE if checked.reason is Reason.STORE
                                   else Reason.CURRENT_REJECTED]
        events = [Event(EventKind.CONFIRMED, user, t)]
        replaced = [Event(EventKind.REPLACED, user, t, f"by confirmed enrollment{how}")]
        try:
            done, old = self.store.promote(row.id, step, drift, t, events, replaced,
                                           self._replace_check(reauthenticated, proven))
        except StoreError as exc:
            log.warning("confirmation failed closed: %s", exc)
            return _REJECT[Reason.STORE]
        if not done:
            # An active credential this proof was not for (it appeared or changed meanwhile).
            return _REJECT[Reason.NO_PENDING if old is None else Reason.NEEDS_PROOF]
        if old is not None:
            self._cache.forget([old.id])
            events += replaced
        self._deliver(events)
        return Result(True, Reason.OK, step)

    # ------------------------------------------------------------------ administration

    def disable(self, user: str, now: float | _dt.datetime | None = None) -> bool:
        """Turn the user's second factor off: delete active and pending credentials.

        Records ``disabled``; returns False when there was nothing to disable.
        """
        _check_user(user)
        t = self._now(now)
        events = [Event(EventKind.DISABLED, user, t)]
        ids = self.store.delete(user, ["active", "pending"], events)
        self._cache.forget(ids)
        if ids:
            self._deliver(events)
        return bool(ids)

    def remove(self, user: str, now: float | _dt.datetime | None = None) -> bool:
        """Forget the user: credentials and stored events (for account deletion).

        Callbacks still hear a ``removed`` event, which is not stored.
        """
        _check_user(user)
        t = self._now(now)
        ids = self.store.delete(user, ["active", "pending"], [], forget=True)
        self._cache.forget(ids)
        if ids:
            self._deliver([Event(EventKind.REMOVED, user, t)])
        return bool(ids)

    def unlock(self, user: str, now: float | _dt.datetime | None = None) -> None:
        """Clear the user's lockout, delay and failure count (after verifying them elsewhere).

        Also forgets a stored TOTP step further than ``policy.max_clock_jump`` from ``now``, the
        way out of ``Reason.CLOCK`` once the clock is known to be right (a step that far from
        ``now`` guards no code of the window). Records ``unlocked``; raises
        :class:`NotEnrolled` when the user has no credential.
        """
        _check_user(user)
        t = self._now(now)
        events = [Event(EventKind.UNLOCKED, user, t)]
        if not self.store.unlock(user, events, now=t, max_gap=self.policy.max_clock_jump):
            raise NotEnrolled(f"user {user!r} has no credential")
        self._deliver(events)

    def credential(self, user: str, state: str = "active") -> CredentialInfo | None:
        """What is stored for the user (everything but the seed), or None."""
        _check_user(user)
        if state not in ("active", "pending"):
            raise InvalidArgument("state must be 'active' or 'pending'")
        row = self.store.get(user, state)
        return None if row is None else CredentialInfo.of(row)

    def stats(self) -> dict[str, int]:
        """Counts over the store: credentials, active, pending, locked, accepted, rejected,
        replayed, lockouts."""
        return self.store.stats()

