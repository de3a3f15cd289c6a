"""Decrypted seeds of hot credentials, held only inside key tables that are wiped on eviction.

Seeds are decrypted for a batch's cache misses, loaded straight into one new
:class:`~pyotp_hw.bulk.KeyTable` (a *segment*), and the decrypted buffers wiped. Later batches
address those keys by row (``rows=`` of the bulk calls) without decrypting again. Segments are
evicted least recently used first once the cache holds more than ``capacity`` keys or
``max_segments`` segments; an evicted segment is closed (its C memory wiped) as soon as no batch
is using it.

Entries are found by credential id but a hit must prove it belongs to the row just read: the
cached :class:`~pyotp_hw.verifier.records.Params` (user, parameters and sealed seed) must equal
the row's. Ids alone prove nothing: restoring a backup rewinds the id sequence, and someone with
write access can swap two rows' ids. A row that does not match is a miss: its own seed is
decrypted and replaces the stale entry.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Sequence

from ..bulk import KeyTable
from .records import Params
from .sealing import wipe

__all__ = ["KeyCache", "Segment", "Entry"]


class Segment:
    """One key table and the credential ids of its rows."""

    __slots__ = ("digest", "doomed", "ids", "live", "pins", "serial", "table")

    def __init__(self, table: KeyTable, digest: str, ids: Sequence[int], serial: int) -> None:
        self.table = table
        self.digest = digest
        self.ids = list(ids)
        self.live = len(ids)
        self.pins = 0
        self.doomed = False
        self.serial = serial

    def __repr__(self) -> str:
        return f"<Segment {self.serial} {self.digest} {self.live}/{len(self.ids)} live>"


Entry = tuple[Segment, int, Params]
"""A cached credential: its segment, its row there, and the identity of the row it came from."""


class KeyCache:
    """Thread-safe cache of key-table rows by credential id."""

    def __init__(self, capacity: int = 100_000, max_segments: int = 16) -> None:
        self.capacity = capacity
        self.max_segments = max_segments
        self._lock = threading.Lock()
        self._where: dict[int, Entry] = {}
        self._segments: OrderedDict[int, Segment] = OrderedDict()
        self._serial = itertools.count(1)

    def __len__(self) -> int:
        return len(self._where)

    @property
    def segments(self) -> int:
        """Number of live segments."""
        return len(self._segments)

    def lookup(self, keys: Sequence[Params]) -> tuple[list[Entry | None], list[Segment]]:
        """Entries cached for exactly these rows (None for misses, including an entry of the same
        id whose user, parameters or sealed seed differ) and the segments pinned for the caller."""
        pinned: dict[int, Segment] = {}
        with self._lock:
            where = self._where
            found: list[Entry | None] = []
            for key in keys:
                hit = where.get(key[0])
                if hit is not None and hit[2] != key:
                    hit = None
                found.append(hit)
            for hit in found:
                if hit is not None and hit[0].serial not in pinned:
                    seg = hit[0]
                    pinned[seg.serial] = seg
                    seg.pins += 1
                    self._segments.move_to_end(seg.serial)
        return found, list(pinned.values())

    def add(self, digest: str, params: Sequence[Params], secrets: list[bytearray]) -> Segment:
        """Build a pinned segment from decrypted seeds, wiping the buffers whatever happens."""
        try:
            table = KeyTable(secrets, digest=digest)
        finally:
            for buf in secrets:
                wipe(buf)
        with self._lock:
            seg = Segment(table, digest, [p.id for p in params], next(self._serial))
            seg.pins = 1
            for row, p in enumerate(params):
                old = self._where.get(p.id)
                if old is not None:
                    self._drop_row(old[0])
                self._where[p.id] = (seg, row, p)
            self._segments[seg.serial] = seg
            self._evict()
        return seg

    def release(self, segments: Sequence[Segment]) -> None:
        """Unpin segments returned by :meth:`lookup` or :meth:`add`."""
        with self._lock:
            for seg in segments:
                seg.pins -= 1
                if seg.pins == 0 and (seg.doomed or seg.live == 0):
                    self._close(seg)

    def forget(self, ids: Sequence[int]) -> None:
        """Drop credentials (removed or replaced) from the cache."""
        with self._lock:
            for cid in ids:
                old = self._where.pop(cid, None)
                if old is not None:
                    self._drop_row(old[0])

    def clear(self) -> None:
        """Drop everything; segments in use are closed when released."""
        with self._lock:
            self._where.clear()
            for seg in list(self._segments.values()):
                seg.live = 0
                self._retire(seg)

    # ------------------------------------------------------------------ internals (locked)

    def _drop_row(self, seg: Segment) -> None:
        seg.live -= 1
        if seg.live == 0:
            self._retire(seg)

    def _retire(self, seg: Segment) -> None:
        self._segments.pop(seg.serial, None)
        if seg.pins == 0:
            self._close(seg)
        else:
            seg.doomed = True

    @staticmethod
    def _close(seg: Segment) -> None:
        seg.doomed = True
        seg.table.close()

    def _evict(self) -> None:
        while len(self._where) > self.capacity or len(self._segments) > self.max_segments:
            victim = next(iter(self._segments.values()), None)
            if victim is None:
                return
            for cid in victim.ids:
                hit = self._where.get(cid)
                if hit is not None and hit[0] is victim:
                    del self._where[cid]
            victim.live = 0
            self._retire(victim)
