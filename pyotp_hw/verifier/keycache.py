"""Decrypted seeds of hot credentials, held only inside key tables that are wiped on eviction.

Seeds are decrypted for a batch's cache misses, loaded straight into one new
:class:`~pyotp_hw.bulk.KeyTable` (a *segment*), and the decrypted buffers wiped. Later batches
address those keys by row (``rows=`` of the bulk calls) without decrypting again. Segments are
evicted least recently used first once the cache holds more than ``capacity`` keys; an evicted
segment is closed (its C memory wiped) as soon as no batch is using it.

More than ``max_segments`` segments are *compacted*, not evicted: small batches make small
segments, and evicting those would keep only ``max_segments`` of them. (A round of at most
:data:`~pyotp_hw.verifier.matching.SMALL_ROUND` codes does not use the cache: decrypting its
seeds again costs less than a key table.) Compaction is size
tiered (LSM-style): a segment's tier is ``floor(log2(live rows))``; the lowest tier holding two
or more segments of one digest is merged, with every lower tier of that digest, into one new
segment by :meth:`~pyotp_hw.bulk.KeyTable.gather` (a C-side copy of the HMAC states of the live
rows; no key is decrypted or seen by Python again). Merging tier ``t`` makes a segment of at
least ``2 ** (t + 1)`` rows, so each copy raises a key's tier and a key is copied at most
about ``log2(capacity)`` times (17 at 100,000), barring forgotten rows. When no tier holds two
segments of one digest (several digests, or a ``max_segments`` below the tiers needed), the two
smallest segments of one digest are merged instead, which may copy more; segments of different
digests are never merged, and only when no two segments share a digest is one evicted. The
merged-away segments are retired: closed (wiped) at once, or when the last batch using them
releases them. The merge copies under the cache lock; if it fails (no memory for the new
table), the least recently used segment is evicted instead.

Entries are found by credential id but a hit must prove it belongs to the row just read: the
cached :class:`~pyotp_hw.verifier.records.Params` (user, parameters and sealed seed) must equal
the row's. Ids alone prove nothing: restoring a backup rewinds the id sequence, and someone with
write access can swap two rows' ids. A row that does not match is a miss: its own seed is
decrypted and replaces the stale entry. Merged rows keep the Params they were decrypted for.
"""

from __future__ import annotations

import itertools
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence

from ..bulk import KeyTable
from ..errors import OTPError
from .records import Params, State
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

    def lookup(self, keys: Sequence[Params | State]
               ) -> tuple[list[Entry | None], list[Segment]]:
        """Entries cached for exactly these rows (None for misses, including an entry of the same
        id whose user, parameters or sealed seed differ) and the segments pinned for the caller.
        A :class:`~.records.State` is looked up by its identity, its first eight fields."""
        pinned: dict[int, Segment] = {}
        with self._lock:
            get = self._where.get
            found: list[Entry | None] = [get(key[0]) for key in keys]
            last: Segment | None = None  # hits come in runs of one segment
            for j, hit in enumerate(found):
                if hit is None:
                    continue
                if hit[2] != keys[j][:8]:
                    found[j] = None
                elif hit[0] is not last:
                    seg = last = hit[0]
                    if seg.serial not in pinned:
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
        while len(self._where) > self.capacity and self._segments:
            self._evict_one()
        while len(self._segments) > self.max_segments:
            group = self._to_merge()
            try:
                if group:
                    self._merge(group)
                    continue
            except OTPError:
                pass  # nothing changed (no memory for the copy, say): evict as before instead
            self._evict_one()

    def _evict_one(self) -> None:
        victim = next(iter(self._segments.values()))
        for cid in victim.ids:
            hit = self._where.get(cid)
            if hit is not None and hit[0] is victim:
                del self._where[cid]
        victim.live = 0
        self._retire(victim)

    def _to_merge(self) -> list[Segment]:
        """The segments of one digest to merge next (see the module docstring), or none."""
        by_digest: dict[str, list[Segment]] = {}
        for seg in self._segments.values():
            by_digest.setdefault(seg.digest, []).append(seg)
        best: tuple[int, list[Segment]] | None = None
        pair: tuple[int, list[Segment]] | None = None
        for segs in by_digest.values():
            if len(segs) < 2:
                continue
            segs.sort(key=lambda s: s.live)
            tiers = [s.live.bit_length() - 1 for s in segs]
            for k in range(1, len(segs)):
                if tiers[k] == tiers[k - 1]:
                    top = tiers[k]
                    if best is None or top < best[0]:
                        best = (top, [s for s, t in zip(segs, tiers, strict=True) if t <= top])
                    break
            size = segs[0].live + segs[1].live
            if pair is None or size < pair[0]:
                pair = (size, segs[:2])
        if best is not None:
            return best[1]
        return [] if pair is None else pair[1]

    def _merge(self, group: list[Segment]) -> None:
        """Copy the live rows of ``group`` (one digest) into one new segment and retire them."""
        parts: list[tuple[KeyTable, array[int]]] = []
        moved: list[Params] = []
        for seg in group:
            rows = array("I")
            for row, cid in enumerate(seg.ids):
                hit = self._where.get(cid)
                if hit is not None and hit[0] is seg and hit[1] == row:
                    rows.append(row)
                    moved.append(hit[2])
            parts.append((seg.table, rows))
        table = KeyTable.gather([part for part in parts if part[1]])
        merged = Segment(table, group[0].digest, [p.id for p in moved], next(self._serial))
        for row, p in enumerate(moved):
            self._where[p.id] = (merged, row, p)
        # The merged segment takes the place of its most recently used part in the LRU order.
        members = {seg.serial for seg in group}
        order = list(self._segments)
        last = max(i for i, serial in enumerate(order) if serial in members)
        self._segments[merged.serial] = merged
        for serial in order[last + 1:]:
            self._segments.move_to_end(serial)
        for seg in group:
            seg.live = 0
            self._retire(seg)
