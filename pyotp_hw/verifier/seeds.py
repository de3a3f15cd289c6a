"""Seeds between the store and the C core: sealed for storage, opened once into key tables.

A row read from the store carries its sealed seed. :meth:`SeedKeys.slots` finds each row's key in
the :class:`~pyotp_hw.verifier.keycache.KeyCache` (a hit must prove it belongs to the very row
read) and decrypts the misses, once, straight into a new cached key table. The caller gets a
:data:`~pyotp_hw.verifier.matching.KeySlot` (key table, row) per credential, valid inside the
``with`` block.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..bulk import KeyTable
from .errors import WrongKey
from .keycache import KeyCache, Segment
from .keyring import DataKeyRing
from .records import Kind, Params, State
from .sealing import Sealer, credential_aad, wipe

__all__ = ["SeedKeys"]

log = logging.getLogger("pyotp_hw.verifier")


class SeedKeys:
    """The data key's sealer and the cache of opened seeds."""

    def __init__(self, sealer: Sealer | DataKeyRing, capacity: int) -> None:
        self.sealer = sealer
        self.cache = KeyCache(capacity=capacity)

    def seal(self, secret: bytes, user: str, kind: Kind, digest: str, digits: int, period: int,
             t0: int) -> bytes:
        """The sealed form of ``secret``, bound to the user and parameters it is stored with."""
        aad = credential_aad(user, kind, digest, digits, period, t0)
        return self.sealer.seal(secret, aad)

    def _open(self, row: Params | State) -> bytearray:
        aad = credential_aad(row.user, row.kind, row.digest, row.digits, row.period, row.t0)
        return self.sealer.open_into(row.sealed, aad)

    @contextmanager
    def slots(self, rows: Sequence[Params]) -> Iterator[list[tuple[KeyTable, int] | None]]:
        """The key slot of each row (None where its seed cannot be decrypted, which is logged),
        usable until the block ends.

        A cached key serves a row only when its user, parameters and sealed seed are the row's
        (see :class:`~pyotp_hw.verifier.keycache.KeyCache`); the row read carries its sealed
        seed, so a miss costs no further round trip.
        """
        with self.columns(rows) as (tables, at):
            yield [None if table is None else (table, at[j]) for j, table in enumerate(tables)]

    @contextmanager
    def columns(self, rows: Sequence[Params | State]
                ) -> Iterator[tuple[list[KeyTable | None], list[int]]]:
        """:meth:`slots` as two lists, the key table of each row (None where its seed cannot
        be decrypted) and the row of its key there: no object per row. A
        :class:`~pyotp_hw.verifier.records.State` serves as well as its ``Params`` (its first
        eight fields)."""
        found, pinned = self.cache.lookup(rows)
        try:
            tables: list[KeyTable | None] = [None if hit is None else hit[0].table
                                             for hit in found]
            at = [0 if hit is None else hit[1] for hit in found]
            if None in found:
                by_digest: dict[str, list[int]] = {}
                for j, hit in enumerate(found):
                    if hit is None:
                        by_digest.setdefault(rows[j].digest, []).append(j)
                for digest, idx in by_digest.items():
                    pinned.extend(self._decrypt(digest, idx, rows, tables, at))
            yield tables, at
        finally:
            self.cache.release(pinned)

    @contextmanager
    def opened(self, rows: Sequence[Params]) -> Iterator[list[bytearray | None]]:
        """Each row's seed, decrypted (None where it cannot be, which is logged) and wiped when
        the block ends; the cache is neither read nor filled.

        For rounds of a few codes: a key table costs an allocation and a memory lock, and a
        cached row a bulk call's set-up, each far more than decrypting the seed again.
        """
        keys: list[bytearray | None] = [None] * len(rows)
        try:
            for j, seed in self._open_each(range(len(rows)), rows):
                keys[j] = seed
            yield keys
        finally:
            for buf in keys:
                if buf is not None:
                    wipe(buf)

    def _open_each(self, idx: Sequence[int], rows: Sequence[Params | State]
                   ) -> list[tuple[int, bytearray]]:
        """``(j, seed)`` for each ``j`` in ``idx`` whose seed opens; the others are logged."""
        opened: list[tuple[int, bytearray]] = []
        failed: list[int] = []
        try:
            for j in idx:
                try:
                    opened.append((j, self._open(rows[j])))
                except WrongKey:
                    failed.append(j)
            # A rekey may have added a key generation since: learn it (once per batch) and
            # retry. Retried even when this refresh added nothing: another thread may just
            # have added it.
            retry = bool(failed) and isinstance(self.sealer, DataKeyRing)
            if retry and isinstance(self.sealer, DataKeyRing):
                self.sealer.refresh(force=True)
            for j in failed:
                try:
                    if not retry:
                        raise WrongKey("a single data key")
                    opened.append((j, self._open(rows[j])))
                except WrongKey:
                    log.warning("credential %d cannot be decrypted", rows[j].id)
        except BaseException:
            for _, buf in opened:
                wipe(buf)
            raise
        return opened

    def _decrypt(self, digest: str, idx: list[int], rows: Sequence[Params | State],
                 tables: list[KeyTable | None], at: list[int]) -> list[Segment]:
        """Open the seeds of ``rows[j]`` for ``j`` in ``idx`` into one new cached segment."""
        opened = self._open_each(idx, rows)
        if not opened:
            return []
        new = tuple.__new__  # the cache keeps each row's identity as Params
        seg = self.cache.add(digest, [new(Params, rows[j][:8]) for j, _ in opened],
                             [buf for _, buf in opened])
        for r, (j, _) in enumerate(opened):
            tables[j] = seg.table
            at[j] = r
        return [seg]

    def forget(self, ids: Sequence[int]) -> None:
        """Drop removed or replaced credentials from the cache."""
        self.cache.forget(ids)

    def clear(self) -> None:
        """Wipe every cached key."""
        self.cache.clear()
