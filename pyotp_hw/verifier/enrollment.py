"""Enrollment: credentials made active at once, pending ones confirmed by a code, replacements.

:class:`Enrollment` is what the site shows the user (the key URI and its QR code);
:class:`Enroller` does the work behind :meth:`Verifier.enroll`, :meth:`Verifier.enroll_many`,
:meth:`Verifier.begin_enrollment` and :meth:`Verifier.confirm_enrollment`.

Replacing a user's active credential needs proof unless ``policy.replace_needs_proof`` is off: a
code from it (verified and consumed like any code), or the site's word that it re-authenticated
the user just now (:class:`Proof`). Only the very credential a code was verified against may be
replaced, and a replacement keeps the old credential's failures, delay and lock.
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import InvalidArgument, InvalidSecret, InvalidType
from ..keys import decode_secret, random_secret
from ..kinds import Digest
from . import matching
from .errors import ReauthenticationRequired, StoreError
from .events import EventHub
from .gate import Gate
from .inputs import check_label, check_params, check_user
from .policy import Policy, canonical_code
from .records import (
    REJECTED,
    VERDICT_REASON,
    Attempt,
    Credential,
    CredentialState,
    Event,
    EventKind,
    Kind,
    Reason,
    Result,
    to_stored_counter,
)
from .seeds import SeedKeys
from .stores import Store

__all__ = ["Enrollment", "Enroller", "Proof"]

log = logging.getLogger("pyotp_hw.verifier")


@dataclass(frozen=True)
class Enrollment:
    """What :meth:`Verifier.begin_enrollment` returns.

    ``uri`` is the ``otpauth://`` URI holding the new secret: show it (usually as a QR code) to
    the user once, over the authenticated session, and do not log it. The credential stays
    pending, and cannot be used to sign in, until :meth:`Verifier.confirm_enrollment` sees a code
    from the user's authenticator before ``expires_at`` (seconds since the epoch).
    """

    user: str
    uri: str = field(repr=False)
    expires_at: float

    def qr(self, *, compact: bool = True) -> str:
        """The URI as a QR code drawn with terminal block characters (the ``qr`` extra)."""
        from ..qr import render_terminal

        return render_terminal(self.uri, compact=compact)

    def write_qr(self, path: str | os.PathLike[str], *, scale: int = 8) -> None:
        """Write the QR code to ``path``: SVG when the name ends in ``.svg``, else PNG."""
        from ..qr import write_png, write_svg

        if os.fspath(path).lower().endswith(".svg"):
            write_svg(self.uri, path, scale=scale)
        else:
            write_png(self.uri, path, scale=scale)

    def png(self, *, scale: int = 8) -> bytes:
        """The QR code as PNG bytes (for a web page)."""
        from ..qr import png_bytes

        return png_bytes(self.uri, scale=scale)


class Proof(enum.Enum):
    """What the caller offered to prove a replacement; the ``replaced`` event names it."""

    NONE = ""
    CURRENT_CODE = "current code"
    REAUTHENTICATED = "re-authenticated"

    @classmethod
    def of(cls, reauthenticated: object, current_code: object, replace: bool = True) -> Proof:
        """Check the proof arguments of a call."""
        if not isinstance(reauthenticated, bool):
            raise InvalidType("reauthenticated must be a bool")
        if current_code is not None and not isinstance(current_code, str):
            raise InvalidType(f"current_code must be a str, not {type(current_code).__name__}")
        if current_code is not None and not replace:
            raise InvalidArgument("current_code proves a replacement; give it with replace=True")
        if reauthenticated:
            return cls.REAUTHENTICATED
        return cls.CURRENT_CODE if current_code is not None else cls.NONE

    def detail(self, by: str) -> str:
        """The ``replaced`` event's detail: ``by`` and the proof, if any."""
        return by if self is Proof.NONE else f"{by} ({self.value})"


#: What a store asks before replacing an active credential (None: anything goes).
MayReplace = Callable[[Credential], bool] | None

#: Verifies ``(user, code)`` pairs at a time, as :meth:`Verifier.verify_many` does.
VerifyBatch = Callable[[Iterable[tuple[str, str]], float], list[Result]]


@dataclass(frozen=True)
class _Secret:
    """An ``enroll`` call's seed and parameters, checked."""

    secret: bytes = field(repr=False)
    kind: Kind
    digits: int
    digest: str
    interval: int
    t0: int
    counter: int
    issuer: str | None
    name: str | None


class Enroller:
    """Enrollment for one verifier (its store, policy, keys, gate and events)."""

    def __init__(self, store: Store, policy: Policy, seeds: SeedKeys, gate: Gate,
                 hub: EventHub, verify: VerifyBatch) -> None:
        self._store = store
        self._policy = policy
        self._seeds = seeds
        self._gate = gate
        self._hub = hub
        self._verify = verify

    # ------------------------------------------------------------------ active at once

    def enroll(self, user: str, secret_or_uri: str | bytes, t: float, *, kind: Kind | None,
               digits: int | None, digest: Digest | None, interval: int | None, t0: int,
               counter: int | None, issuer: str | None, name: str | None, replace: bool,
               current_code: str | None, reauthenticated: bool) -> None:
        """See :meth:`Verifier.enroll`."""
        row = self.active_row(user, secret_or_uri, t, kind=kind, digits=digits, digest=digest,
                              interval=interval, t0=t0, counter=counter, issuer=issuer,
                              name=name)
        proof = Proof.of(reauthenticated, current_code, replace)
        proven: Credential | None = None
        if current_code is not None and not reauthenticated and self._policy.replace_needs_proof:
            proven, result = self._prove_current(user, current_code, t)
            if result is not None and not result.ok:
                raise ReauthenticationRequired(
                    f"the current code was not accepted ({result.reason}); user {user!r}'s "
                    "credential was not replaced")
        self.put_active([row], t, replace, self._may_replace(reauthenticated, proven), proof)

    def enroll_many(self, rows: list[Credential], t: float, *, replace: bool,
                    reauthenticated: bool) -> None:
        """See :meth:`Verifier.enroll_many`; ``rows`` come from :meth:`active_row`."""
        proof = Proof.of(reauthenticated, None, replace)
        self.put_active(rows, t, replace, self._may_replace(reauthenticated, None), proof)

    def put_active(self, rows: list[Credential], t: float, replace: bool,
                   may_replace: MayReplace, proof: Proof) -> None:
        """Store ``rows`` as active in one transaction; deliver ``enrolled`` / ``replaced``."""
        events = [Event(EventKind.ENROLLED, r.user, t, r.kind) for r in rows]
        replaced: list[Event] = []

        def on_replace(old: Credential) -> Event:
            event = Event(EventKind.REPLACED, old.user, t, proof.detail("by enroll"))
            replaced.append(event)
            return event

        olds = self._store.put_active(rows, replace=replace, events=events,
                                      on_replace=on_replace, may_replace=may_replace)
        self._seeds.forget([o.id for o in olds])
        self._hub.deliver(events + replaced)

    def active_row(self, user: str, secret_or_uri: str | bytes, t: float, *,
                   kind: Kind | None = None, digits: int | None = None,
                   digest: Digest | None = None, interval: int | None = None, t0: int = 0,
                   counter: int | None = None, issuer: str | None = None,
                   name: str | None = None) -> Credential:
        """The sealed, active row an ``enroll`` call describes (checked, not stored)."""
        check_user(user)
        s = self._secret(secret_or_uri, kind, digits, digest, interval, t0, counter, issuer,
                         name)
        if len(s.secret) < self._policy.min_secret_bytes:
            raise InvalidSecret(
                f"secret has {8 * len(s.secret)} bits; this verifier requires at least "
                f"{8 * self._policy.min_secret_bytes} (RFC 4226 R6)"
            )
        totp = s.kind == "totp"
        return self._seal_row(
            user, s.secret, state="active", kind=s.kind, digest=s.digest, digits=s.digits,
            period=s.interval if totp else 0, t0=s.t0 if totp else 0,
            counter=0 if totp else s.counter, issuer=s.issuer, account=s.name, now=t,
            expires_at=None,
        )

    def _secret(self, secret_or_uri: str | bytes, kind: Kind | None, digits: int | None,
                digest: str | None, interval: int | None, t0: int, counter: int | None,
                issuer: str | None, name: str | None) -> _Secret:
        """The seed and parameters from a URI or from a secret and arguments, defaults filled."""
        if isinstance(secret_or_uri, str) and secret_or_uri.strip().lower().startswith(
                "otpauth"):
            if any(v is not None for v in (kind, digits, digest, interval, counter)) or t0:
                raise InvalidArgument(
                    "give the credential's parameters either in the URI or as arguments, not both"
                )
            from ..uri import parse

            entry = parse(secret_or_uri)
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
        checked = check_params(self._policy, kind, digest, digits, interval, t0, counter)
        issuer = check_label("issuer", issuer)
        name = check_label("name", name)
        return _Secret(secret, checked, digits, digest, interval, t0, counter, issuer, name)

    def _seal_row(self, user: str, secret: bytes, *, state: CredentialState, kind: Kind,
                  digest: str, digits: int, period: int, t0: int, counter: int,
                  issuer: str | None, account: str | None, now: float,
                  expires_at: float | None) -> Credential:
        last = None
        if kind == "hotp" and counter > 0:
            last = to_stored_counter(counter - 1)
        return Credential(
            id=0, user=user, state=state, kind=kind, digest=digest, digits=digits, period=period,
            t0=t0, sealed=self._seeds.seal(secret, user, kind, digest, digits, period, t0),
            issuer=issuer, account=account, last_step=last, drift=0, failures=0,
            next_allowed_at=0.0, locked_at=None, created_at=now, expires_at=expires_at,
        )

    # ------------------------------------------------------------------ proof for replacing

    def _may_replace(self, reauthenticated: bool, proven: Credential | None) -> MayReplace:
        """What the store asks before replacing an active credential (None: anything goes).

        Only the very credential a current code was verified against may be replaced: its
        identity (user, parameters, sealed seed) must be the one found in the transaction.
        """
        if reauthenticated or not self._policy.replace_needs_proof:
            return None
        if proven is None:
            return lambda old: False
        identity = proven.params
        return lambda old: old.params == identity

    def _prove_current(self, user: str, code: str, t: float
                       ) -> tuple[Credential | None, Result | None]:
        """(the active credential, the verification of ``code`` against it); (None, None)
        when the user has none."""
        check_user(user)
        row = self._store.get(user, "active")
        if row is None:
            return None, None
        return row, self._verify([(user, code)], t)[0]

    # ------------------------------------------------------------------ pending, then confirmed

    def begin(self, user: str, t: float, *, issuer: str, name: str, digits: int | None,
              digest: Digest, interval: int) -> Enrollment:
        """See :meth:`Verifier.begin_enrollment` (``user``, ``issuer`` and ``name`` checked)."""
        digits = self._policy.digits[0] if digits is None else digits
        check_params(self._policy, "totp", digest, digits, interval, 0, 0)
        secret = random_secret(20)
        from ..uri import build

        uri = build("totp", secret, account=name, issuer=issuer, digest=digest, digits=digits,
                    period=interval)
        expires = t + self._policy.enrollment_ttl
        row = self._seal_row(
            user, secret, state="pending", kind="totp", digest=digest, digits=digits,
            period=interval, t0=0, counter=0, issuer=issuer, account=name, now=t,
            expires_at=expires,
        )
        del secret
        events = [Event(EventKind.ENROLLED, user, t, "pending")]
        self._store.put_pending(row, events=events)
        self._hub.deliver(events)
        return Enrollment(user, uri, expires)

    def pending(self, user: str, t: float) -> Enrollment | None:
        """The user's unexpired pending enrollment, its URI rebuilt from the sealed seed (so
        that any process sharing the store can show its QR code again), or None."""
        row = self._store.get(user, "pending")
        if row is None or (row.expires_at is not None and row.expires_at <= t):
            return None
        from ..uri import build
        from .sealing import credential_aad

        aad = credential_aad(row.user, row.kind, row.digest, row.digits, row.period, row.t0)
        secret = self._seeds.sealer.open_into(row.sealed, aad)
        try:
            uri = build("totp", bytes(secret), account=row.account or user, issuer=row.issuer,
                        digest=row.digest, digits=row.digits, period=row.period)
        finally:
            secret[:] = bytes(len(secret))
        return Enrollment(user, uri, row.expires_at if row.expires_at is not None else t)

    def confirm(self, user: str, code: str, t: float, *, current_code: str | None,
                reauthenticated: bool) -> Result:
        """See :meth:`Verifier.confirm_enrollment` (``user`` checked)."""
        proof = Proof.of(reauthenticated, current_code)
        value = canonical_code(code, self._policy)
        if value is None:
            return REJECTED[Reason.MALFORMED]
        row = self._gate.admit(user, "pending", t, len(code), missing=Reason.NO_PENDING,
                               action="confirmation")
        if isinstance(row, Reason):
            return REJECTED[row]
        matches = matching.evaluate(self._seeds, [row.state_now], [value], [len(code)], t,
                                    self._policy)
        error, step, drift = matches.error[0], matches.step[0], matches.drift[0]
        if error is not None:
            return REJECTED[error]
        if step is None:
            return self._count_failure(row, matches.replay[0], t)
        proven, refusal = self._replacement_proof(user, current_code, reauthenticated, t)
        if refusal is not None:
            return REJECTED[refusal]
        events = [Event(EventKind.CONFIRMED, user, t)]
        replaced = [Event(EventKind.REPLACED, user, t, proof.detail("by confirmed enrollment"))]
        try:
            done, old = self._store.promote(row.id, step, drift, t, events, replaced,
                                            self._may_replace(reauthenticated, proven))
        except StoreError as exc:
            log.warning("confirmation failed closed: %s", exc)
            return REJECTED[Reason.STORE]
        if not done:
            # An active credential this proof was not for (it appeared or changed meanwhile).
            return REJECTED[Reason.NO_PENDING if old is None else Reason.NEEDS_PROOF]
        if old is not None:
            self._seeds.forget([old.id])
            events += replaced
        self._hub.deliver(events)
        return Result(True, Reason.OK, step)

    def _count_failure(self, row: Credential, replay: bool, t: float) -> Result:
        """Count a code that does not confirm the pending ``row`` as its failure."""
        try:
            verdicts, events = self._store.commit(
                [Attempt(row.id, row.user, None, 0, replay)], t, self._policy)
        except StoreError as exc:
            log.warning("confirmation failed closed: %s", exc)
            return REJECTED[Reason.STORE]
        self._hub.deliver(events)
        return REJECTED[VERDICT_REASON[verdicts[0]]]

    def _replacement_proof(self, user: str, current_code: str | None, reauthenticated: bool,
                           t: float) -> tuple[Credential | None, Reason | None]:
        """(the active credential ``current_code`` was verified against, or None; the reason
        a confirmation may not replace the user's active credential, or None)."""
        if not self._policy.replace_needs_proof or reauthenticated:
            return None, None
        try:
            active = self._store.get(user, "active")
        except StoreError as exc:
            log.warning("confirmation failed closed: %s", exc)
            return None, Reason.STORE
        if active is None:
            return None, None
        if current_code is None:
            return None, Reason.NEEDS_PROOF
        proven, checked = self._prove_current(user, current_code, t)
        if checked is not None and not checked.ok:
            return proven, (Reason.STORE if checked.reason is Reason.STORE
                            else Reason.CURRENT_REJECTED)
        return proven, None
