"""Plain records shared by the verifier and its stores: results, events, credential rows."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, overload

from ..uri import Kind

__all__ = [
    "Kind",
    "CredentialState",
    "Reason",
    "Result",
    "Event",
    "EventKind",
    "Credential",
    "Params",
    "State",
    "CredentialInfo",
    "Attempt",
    "Attempts",
    "Decision",
    "Verdict",
    "HOTP_BIAS",
    "to_stored_counter",
    "from_stored_counter",
    "public_step",
    "REJECTED",
    "VERDICT_REASON",
]

#: Where a credential stands: ``"active"`` (signs in) or ``"pending"`` (enrolled, unconfirmed).
#: (Credential kinds are :data:`pyotp_hw.uri.Kind`: ``"totp"`` or ``"hotp"``.) Both are the
#: values stores keep, which their schema checks.
CredentialState = Literal["active", "pending"]

# HOTP counters span 0 .. 2**64-1 but databases hold signed 64-bit integers, so counters are
# stored shifted down by 2**63; the order (and therefore "last_step < :s") is preserved.
HOTP_BIAS = 1 << 63


def to_stored_counter(counter: int) -> int:
    """The signed 64-bit value a store keeps for an HOTP counter."""
    return counter - HOTP_BIAS


def from_stored_counter(value: int) -> int:
    """The HOTP counter a stored signed 64-bit value stands for."""
    return value + HOTP_BIAS


def public_step(kind: Kind, step: int | None) -> int | None:
    """A consumed step as callers see it (HOTP counters are stored shifted)."""
    if step is None or kind == "totp":
        return step
    return from_stored_counter(step)


class Reason(str, enum.Enum):
    """Why a code was accepted or rejected. For logs; the person signing in sees only yes or no."""

    OK = "ok"
    MALFORMED = "malformed code"
    NO_CREDENTIAL = "no active credential"
    LOCKED = "credential locked"
    THROTTLED = "throttled"
    INVALID = "invalid code"
    REPLAY = "replayed code"
    STORE = "store unavailable"
    UNREADABLE = "credential cannot be decrypted"
    OUT_OF_RANGE = "time or counter out of range"
    NO_PENDING = "no pending enrollment"
    EXPIRED = "enrollment expired"
    RESYNC_OFF = "resynchronisation disabled"
    CLOCK = "time far from the credential's last use (server clock jump?)"
    NEEDS_PROOF = "replacing the active credential needs its current code or re-authentication"
    CURRENT_REJECTED = "the current credential's code was not accepted"

    def __str__(self) -> str:
        return self.value


class Result(NamedTuple):
    """The answer to one verification: ``ok`` and a reason meant for logs.

    ``step`` is the accepted TOTP time step or HOTP counter (None when rejected). Show the person
    signing in only accept or reject: the reason tells replays and lockouts apart, which is for
    the operator's eyes. A result is true exactly when ``ok`` is.
    """

    ok: bool
    reason: Reason
    step: int | None = None

    def __bool__(self) -> bool:
        return self.ok


#: One rejection per reason: they carry no per-call data, so one instance serves every caller.
REJECTED = {reason: Result(False, reason) for reason in Reason}


class EventKind(str, enum.Enum):
    """Kinds of recorded events."""

    ENROLLED = "enrolled"
    CONFIRMED = "confirmed"
    REPLACED = "replaced"
    DISABLED = "disabled"
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    REPLAY = "replay"
    RESYNCED = "resynced"
    REMOVED = "removed"
    CLOCK = "clock"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Event:
    """Something that changed a user's second factor, or that the user should hear about.

    ``at`` is seconds since the epoch; ``detail`` is short free text without secrets; ``id`` is
    the store's sequence number (None before the event is stored).
    """

    kind: EventKind
    user: str
    at: float
    detail: str = ""
    id: int | None = None


@dataclass(slots=True)
class Credential:
    """One stored credential row (the seed only in sealed form)."""

    id: int
    user: str
    state: CredentialState
    kind: Kind
    digest: str
    digits: int
    period: int
    t0: int
    sealed: bytes
    issuer: str | None
    account: str | None
    last_step: int | None  # TOTP step, or HOTP counter shifted by HOTP_BIAS; None: none used
    drift: int
    failures: int
    next_allowed_at: float
    locked_at: float | None
    created_at: float
    expires_at: float | None
    accepted: int = 0
    rejected: int = 0
    replayed: int = 0

    def __repr__(self) -> str:
        return f"<Credential {self.id} {self.user!r} {self.state} {self.kind}>"

    @property
    def params(self) -> Params:
        """What identifies this row's seed (see :class:`Params`)."""
        return Params(self.id, self.user, self.kind, self.digest, self.digits, self.period,
                      self.t0, self.sealed)

    @property
    def state_now(self) -> State:
        """What one verification reads of this row."""
        return State(self.id, self.user, self.kind, self.digest, self.digits, self.period,
                     self.t0, self.sealed, self.last_step, self.drift, self.next_allowed_at,
                     self.locked_at)


class Params(NamedTuple):
    """What identifies a credential's seed: the row's id, user, parameters and sealed seed.

    A decrypted key is cached with the whole of it, and a cached key serves a row only when the
    row just read has the same values: ids alone prove nothing (a restored backup hands them out
    again, someone with write access can swap them), while the sealed seed changes with every
    new seed (a fresh random nonce) and cannot be moved to another user or other parameters
    without failing to open.
    """

    id: int
    user: str
    kind: Kind
    digest: str
    digits: int
    period: int
    t0: int
    sealed: bytes


class State(NamedTuple):
    """What one verification reads of a credential: its identity (the first eight fields, as in
    :class:`Params`) and the mutable part."""

    id: int
    user: str
    kind: Kind
    digest: str
    digits: int
    period: int
    t0: int
    sealed: bytes
    last_step: int | None
    drift: int
    next_allowed_at: float
    locked_at: float | None

    @property
    def params(self) -> Params:
        """The identity of this row's seed."""
        return tuple.__new__(Params, self[:8])


COLUMNS = (
    "id", "user_id", "state", "kind", "digest", "digits", "period", "t0", "sealed", "issuer",
    "account", "last_step", "drift", "failures", "next_allowed_at", "locked_at", "created_at",
    "expires_at", "accepted", "rejected", "replayed",
)


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """What an operator may see of a credential: everything but the seed."""

    user: str
    state: CredentialState
    kind: Kind
    digest: str
    digits: int
    period: int
    issuer: str | None
    account: str | None
    last_used: int | None  # last accepted TOTP step or HOTP counter
    drift: int
    failures: int
    locked: bool
    created_at: float
    expires_at: float | None
    accepted: int
    rejected: int
    replayed: int
    delayed_until: float | None = None  # codes are rejected unevaluated before this time

    @classmethod
    def of(cls, row: Credential) -> CredentialInfo:
        """The public view of a stored row."""
        last = row.last_step
        if last is not None and row.kind == "hotp":
            last = from_stored_counter(last)
        return cls(
            user=row.user, state=row.state, kind=row.kind, digest=row.digest, digits=row.digits,
            period=row.period, issuer=row.issuer, account=row.account, last_used=last,
            drift=row.drift, failures=row.failures, locked=row.locked_at is not None,
            created_at=row.created_at, expires_at=row.expires_at, accepted=row.accepted,
            rejected=row.rejected, replayed=row.replayed,
            delayed_until=row.next_allowed_at if row.next_allowed_at > 0 else None,
        )


class Verdict(enum.IntEnum):
    """What the store decided for one attempt when committing a batch."""

    ACCEPTED = 0  # the step was consumed
    FAILED = 1  # a wrong code, counted as a failure
    REPLAY = 2  # a used step (or one consumed by another worker first), counted as a failure
    LOCKED = 3  # the credential was locked before this attempt could count
    THROTTLED = 4  # the credential was in its delay before this attempt could count
    GONE = 5  # the credential was removed since its state was read


#: The rejection reason of each verdict but ACCEPTED.
VERDICT_REASON = {
    Verdict.FAILED: Reason.INVALID,
    Verdict.REPLAY: Reason.REPLAY,
    Verdict.LOCKED: Reason.LOCKED,
    Verdict.THROTTLED: Reason.THROTTLED,
    Verdict.GONE: Reason.NO_CREDENTIAL,
}


@dataclass(slots=True)
class Attempt:
    """One evaluated attempt handed to the store's commit.

    ``step`` (stored form) and ``drift`` are set for a match; ``replay`` marks a code that
    matched only at or below the last used step.
    """

    cred_id: int
    user: str
    step: int | None
    drift: int = 0
    replay: bool = False


class Attempts(Sequence[Attempt]):
    """A batch of attempts as parallel lists, one entry per attempt: what a verification round
    hands its store, without an object per attempt (an :class:`Attempt` is made only when one
    is asked for by index or iteration)."""

    __slots__ = ("drifts", "ids", "replays", "steps", "users")

    def __init__(self, ids: list[int], users: list[str], steps: list[int | None],
                 drifts: list[int], replays: list[bool]) -> None:
        self.ids = ids
        self.users = users
        self.steps = steps
        self.drifts = drifts
        self.replays = replays

    @classmethod
    def of(cls, attempts: Sequence[Attempt]) -> Attempts:
        """``attempts`` as columns (itself when it already is)."""
        if isinstance(attempts, Attempts):
            return attempts
        return cls([a.cred_id for a in attempts], [a.user for a in attempts],
                   [a.step for a in attempts], [a.drift for a in attempts],
                   [a.replay for a in attempts])

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> Attempt: ...

    @overload
    def __getitem__(self, i: slice) -> list[Attempt]: ...

    def __getitem__(self, i: int | slice) -> Attempt | list[Attempt]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self.ids)))]
        return Attempt(self.ids[i], self.users[i], self.steps[i], self.drifts[i],
                       self.replays[i])

    def __iter__(self) -> Iterator[Attempt]:
        return map(Attempt, self.ids, self.users, self.steps, self.drifts, self.replays)

    def __repr__(self) -> str:
        return f"<Attempts of {len(self.ids)}>"


class Decision(NamedTuple):
    """What a verification round decided from the states it read (see ``Store.verify_round``).

    ``attempts`` are committed as by ``Store.commit``; ``unknown`` names the users without a
    credential whose attempts are counted (the decoy's write, as by ``Store.count_unknown``);
    ``events`` are recorded with them (the gate's ``clock`` refusals).
    """

    attempts: Sequence[Attempt]
    unknown: Sequence[str] = ()
    events: Sequence[Event] = ()
