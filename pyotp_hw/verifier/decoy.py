"""The decoy: a user without a credential costs what a known user's wrong code costs.

With ``policy.mask_unknown_users`` (the default), codes of unknown users are run through the same
C work as a wrong code (over a decoy key: SHA-1, 30 s, the code's length) and counted in the
store write of the verification round (``Decision.unknown``, see ``Store.verify_round``), as a
wrong code's failure is, so response times do not tell who is enrolled. A few codes at a time
take the path of a small round (:func:`~pyotp_hw.verifier.matching.match_each`): a sealed decoy
seed is opened and checked against its raw key; more take the two bulk calls of a batch. The
answer stays ``Reason.NO_CREDENTIAL`` whatever happens here.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Sequence

from .. import bulk
from ..keys import random_secret
from .matching import SMALL_ROUND
from .policy import Policy
from .sealing import Sealer, wipe

__all__ = ["Decoy"]

# The associated data of the decoy seed: as long as a real credential's (user and parameters).
_AAD = b"pyotp-hw/verifier/1\x00decoy-user\x00totp\x00sha1\x006\x0030\x000"


class Decoy:
    """The decoy key (made on first use, wiped by :meth:`close`) and the decoy work."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._keys: bulk.KeyTable | None = None
        self._sealed: tuple[Sealer, bytes] | None = None
        self._lock = threading.Lock()

    def run(self, unknown: Sequence[tuple[str, int, int]], t: float) -> None:
        """Spend on each ``(user, code value, code length)`` the C work of a wrong code (the
        caller counts them in its store write)."""
        t_int = math.floor(t)
        if t_int >= 0 and len(unknown) <= SMALL_ROUND:
            sealer, sealed = self._sealed_seed()
            window = (self._policy.past, self._policy.future)
            for _, value, length in unknown:
                key = sealer.open_into(sealed, _AAD)
                try:
                    bulk.verify_totp_key(key, value, t_int, window=window, digits=length)
                finally:
                    wipe(key)
        elif t_int >= 0:
            table = self._table()
            window = (self._policy.past, self._policy.future)
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

    def _table(self) -> bulk.KeyTable:
        with self._lock:
            if self._keys is None:
                self._keys = bulk.KeyTable([random_secret(20)], digest="sha1")
            return self._keys

    def _sealed_seed(self) -> tuple[Sealer, bytes]:
        with self._lock:
            if self._sealed is None:
                sealer = Sealer(random_secret(32))
                self._sealed = (sealer, sealer.seal(random_secret(20), _AAD))
            return self._sealed

    def close(self) -> None:
        """Wipe the decoy key."""
        with self._lock:
            self._sealed = None
            if self._keys is not None:
                self._keys.close()
                self._keys = None
