"""The verifier's facade: :class:`Verifier` ties the store, the policy and the parts together.

Every verification goes the same way, for one code or ten thousand (:mod:`.batch`): canonical
input first; then one store transaction on the SQL stores (``Store.verify_round``) that reads the
batch's credentials in one round trip, holds them while the :mod:`.gate` (lock, delay, clock: a
TOTP credential whose stored step lies further than ``policy.max_clock_jump`` from ``now`` is
refused unevaluated), a :mod:`.decoy` verification for users without a credential and the
:mod:`.matching` engine in the C core decide (every code of the window computed whatever
matches, over keys cached in key tables by :mod:`.seeds`; a cached key serves only the row it
was decrypted from), and commits atomically: every matched step consumed and every failure
counted, refusing a step another worker consumed first (if the transaction fails, every code of
the batch is rejected: fail closed).

:mod:`.enrollment` enrolls, confirms and replaces credentials, :mod:`.resync` resynchronises
them, :mod:`.events` hands recorded events to callbacks; administration (disable, remove, unlock,
stats) is small enough to live here.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Iterable
from dataclasses import replace as _replace
from typing import Any

from .._numbers import option, real_option
from ..errors import InvalidArgument, InvalidType
from ..kinds import Digest
from .batch import BatchVerifier
from .decoy import Decoy
from .enrollment import Enroller, Enrollment
from .errors import NotEnrolled
from .events import EventCallback, EventHub
from .gate import Gate
from .inputs import check_labels, check_state, check_user, seconds
from .keyprovider import KeyProvider, as_provider
from .keyring import DataKeyRing
from .policy import Policy
from .records import CredentialInfo, CredentialState, Event, EventKind, Kind, Result
from .rekey import RekeyReport, rekey
from .resync import Resync
from .seeds import SeedKeys
from .stores import Store, open_store

__all__ = ["Verifier"]

_MAX_PAUSE = 86_400.0  # rekey's pause between batches: at most a day

When = float | _dt.datetime | None
"""A time argument: seconds since the epoch, an aware datetime, or None for the clock."""


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
        self._sealer = DataKeyRing(store, provider)
        self._seeds = SeedKeys(self._sealer, cache_size)
        self._cache = self._seeds.cache
        self._hub = EventHub()
        self._gate = Gate(store, self.policy, self._hub, self._seeds)
        self._decoy = Decoy(self.policy)
        self._batch = BatchVerifier(store, self.policy, self._gate, self._seeds, self._decoy,
                                    self._hub)
        self._resync = Resync(store, self.policy, self._gate, self._seeds, self._hub)
        self._enroller = Enroller(store, self.policy, self._seeds, self._gate, self._hub,
                                  self._batch.verify)

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
        **policy_fields: Any,  # any value: Policy checks each one
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

    def close(self) -> None:
        """Wipe cached keys and close the store."""
        self._seeds.clear()
        self._decoy.close()
        self.store.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Verifier {self.store.url}>"

    @staticmethod
    def check_user(user: object) -> str:
        """``user`` as this verifier takes user ids (a str of 1 to 255 characters, without
        NUL); raises InvalidType or InvalidArgument (naming no value) otherwise."""
        return check_user(user)

    def _time(self, now: object) -> float:
        return seconds(now, self._clock)

    # ------------------------------------------------------------------ events

    def on_event(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` after each recorded event; returns a function that stops it.

        Callbacks run in the thread that caused the event, after the store committed it. An
        exception in a callback is logged and does not affect verification.
        """
        return self._hub.subscribe(callback)

    def events(self, user: str | None = None, *, after: int = 0, limit: int = 1000) -> list[Event]:
        """Stored events, oldest first (of one user, or of all); ``after`` is an event id."""
        if user is not None:
            check_user(user)
        return self.store.events(user, after, limit)

    # ------------------------------------------------------------------ verification

    def verify(self, user: str, code: str, now: When = None) -> Result:
        """Verify one code; see :meth:`verify_many`."""
        return self.verify_many([(user, code)], now)[0]

    def verify_many(self, items: Iterable[tuple[str, str]], now: When = None) -> list[Result]:
        """Verify a batch of ``(user, code)`` pairs; one :class:`Result` per pair, in order.

        The batch's state is read in one round trip, its codes computed in bulk in the C core,
        and every consumed step and failure committed in one transaction. A user appearing
        several times is handled as if the pairs came one after another.
        """
        return self._batch.verify(items, self._time(now))

    def resync(self, user: str, code1: str, code2: str, now: When = None) -> Result:
        """Resynchronise a drifted token from two consecutive codes.

        Both codes must match consecutive steps (or counters) within ``policy.resync_window`` of
        the expected one, above the last used step. On success the second code's step is
        consumed and the drift recorded; later TOTP verifications centre their window on it.
        Off (``Reason.RESYNC_OFF``) unless the policy sets ``resync_window``. A pair that does
        not match counts as a failure.
        """
        check_user(user)
        return self._resync.resync(user, code1, code2, self._time(now))

    # ------------------------------------------------------------------ enrollment

    def enroll(
        self,
        user: str,
        secret_or_uri: str | bytes,
        *,
        kind: Kind | None = None,
        digits: int | None = None,
        digest: Digest | None = None,
        interval: int | None = None,
        t0: int = 0,
        counter: int | None = None,
        issuer: str | None = None,
        name: str | None = None,
        replace: bool = False,
        current_code: str | None = None,
        reauthenticated: bool = False,
        now: When = None,
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
        self._enroller.enroll(
            user, secret_or_uri, self._time(now), kind=kind, digits=digits, digest=digest,
            interval=interval, t0=t0, counter=counter, issuer=issuer, name=name,
            replace=replace, current_code=current_code, reauthenticated=reauthenticated)

    def enroll_many(
        self,
        entries: Iterable[tuple[str, str | bytes]],
        *,
        replace: bool = False,
        reauthenticated: bool = False,
        now: When = None,
        kind: Kind | None = None,
        digits: int | None = None,
        digest: Digest | None = None,
        interval: int | None = None,
        t0: int = 0,
        counter: int | None = None,
        issuer: str | None = None,
        name: str | None = None,
    ) -> None:
        """:meth:`enroll` for many ``(user, secret_or_uri)`` pairs in one transaction.

        The parameters (kind, digits, digest, interval, t0, counter, issuer, name) apply to
        every entry. All or nothing: one user already enrolled (without ``replace``, or without
        ``reauthenticated`` where replacing needs proof) stores none.
        """
        t = self._time(now)
        rows = [self._enroller.active_row(
            user, secret, t, kind=kind, digits=digits, digest=digest, interval=interval, t0=t0,
            counter=counter, issuer=issuer, name=name) for user, secret in entries]
        self._enroller.enroll_many(rows, t, replace=replace, reauthenticated=reauthenticated)

    def begin_enrollment(
        self,
        user: str,
        *,
        issuer: str,
        name: str,
        digits: int | None = None,
        digest: Digest = "sha1",
        interval: int = 30,
        now: When = None,
    ) -> Enrollment:
        """Issue a new 160-bit TOTP secret for ``user``, pending until confirmed.

        Returns the :class:`Enrollment` with the ``otpauth://`` URI to show (as a QR code). The
        user's active credential, if any, keeps working until the new one is confirmed. A second
        call replaces an unconfirmed pending one. Records ``enrolled``.
        """
        check_user(user)
        check_labels(issuer, name)
        return self._enroller.begin(user, self._time(now), issuer=issuer, name=name,
                                    digits=digits, digest=digest, interval=interval)

    def pending_enrollment(self, user: str, now: When = None) -> Enrollment | None:
        """The user's pending enrollment (to show its QR code again), or None when there is
        none or it expired. The URI holds the secret: show it only to the user, never log it."""
        check_user(user)
        return self._enroller.pending(user, self._time(now))

    def confirm_enrollment(
        self,
        user: str,
        code: str,
        now: When = None,
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
        check_user(user)
        return self._enroller.confirm(user, code, self._time(now), current_code=current_code,
                                      reauthenticated=reauthenticated)

    # ------------------------------------------------------------------ administration

    def disable(self, user: str, now: When = None) -> bool:
        """Turn the user's second factor off: delete active and pending credentials.

        Records ``disabled``; returns False when there was nothing to disable.
        """
        check_user(user)
        t = self._time(now)
        events = [Event(EventKind.DISABLED, user, t)]
        ids = self.store.delete(user, ["active", "pending"], events)
        self._seeds.forget(ids)
        if ids:
            self._hub.deliver(events)
        return bool(ids)

    def remove(self, user: str, now: When = None) -> bool:
        """Forget the user: credentials and stored events (for account deletion).

        Callbacks still hear a ``removed`` event, which is not stored.
        """
        check_user(user)
        t = self._time(now)
        ids = self.store.delete(user, ["active", "pending"], [], forget=True)
        self._seeds.forget(ids)
        if ids:
            self._hub.deliver([Event(EventKind.REMOVED, user, t)])
        return bool(ids)

    def unlock(self, user: str, now: When = None) -> None:
        """Clear the user's lockout, delay and failure count (after verifying them elsewhere).

        Also forgets a stored TOTP step further than ``policy.max_clock_jump`` from ``now``, the
        way out of ``Reason.CLOCK`` once the clock is known to be right (a step that far from
        ``now`` guards no code of the window). Records ``unlocked``; raises
        :class:`NotEnrolled` when the user has no credential.
        """
        check_user(user)
        t = self._time(now)
        events = [Event(EventKind.UNLOCKED, user, t)]
        if not self.store.unlock(user, events, now=t, max_gap=self.policy.max_clock_jump):
            raise NotEnrolled(f"user {user!r} has no credential")
        self._hub.deliver(events)

    def rekey(self, *, batch: int = 500, pause: float = 0.0,
              progress: Callable[[RekeyReport], None] | None = None) -> RekeyReport:
        """Re-seal every credential under a new data key while verification goes on.

        The new key comes from this verifier's key provider with a new salt, so every verifier
        of the store derives it too. Resumes an unfinished rekey. See :mod:`.rekey`. ``batch``
        is 1 to 100000 rows per transaction, ``pause`` 0 to 86400 seconds between batches.
        """
        rows = option(batch, "batch", 1, 100_000, error=InvalidArgument)
        wait = real_option(pause, "pause", 0.0, _MAX_PAUSE, "a number of seconds")
        return rekey(self.store, self._sealer, batch=rows, pause=wait, progress=progress)

    def credential(self, user: str, state: CredentialState = "active") -> CredentialInfo | None:
        """What is stored for the user (everything but the seed), or None; ``state`` is
        ``"active"`` or ``"pending"``."""
        check_user(user)
        row = self.store.get(user, check_state(state))
        return None if row is None else CredentialInfo.of(row)

    def stats(self) -> dict[str, int]:
        """Counts over the store: credentials, active, pending, locked, accepted, rejected,
        replayed, lockouts."""
        return self.store.stats()
