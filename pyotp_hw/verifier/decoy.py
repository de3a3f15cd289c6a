"""The decoy: a user without a credential costs what a known user's wrong code costs.

With ``policy.mask_unknown_users`` (the default), codes of unknown users are run through the same
two C calls as a wrong code (over a decoy key: SHA-1, 30 s, the code's length) and counted in the
store write of the verification round (``Decision.unknown``, see ``Store.verify_round``), as a
wrong code's failure is, so response times do not tell who is enrolled. The answer stays
``Reason.NO_CREDENTIAL`` whatever happens here.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Sequence

from .. import bulk
from ..keys import random_secret
from .policy import Policy

__all__ = ["Decoy"]


class Decoy:
    """The decoy key (made on first use, wiped by :meth:`close`) and the decoy work."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._keys: bulk.KeyTable | None = None
        self._lock = threading.Lock()

    def run(self, unknown: Sequence[tuple[str, int, int]], t: float) -> None:
        """Spend on each ``(user, code value, code length)`` the C work of a wrong code (the
        caller counts them in its store write)."""
        t_int = math.floor(t)
        if t_int >= 0:
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

    def close(self) -> None:
        """Wipe the decoy key."""
        with self._lock:
            if self._keys is not None:
                self._keys.close()
                self._keys = None
