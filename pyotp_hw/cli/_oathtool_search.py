"""Finding an OTP among HOTP counters for ``pyotp-hw oathtool``'s validation mode.

oathtool validates by walking a window of counters (forwards for HOTP, both ways round the
current step for TOTP) and reports the first position that matches; these searches give the same
answers, with whole blocks of counters checked by the C core in one call.
"""

from __future__ import annotations

from array import array

__all__ = ["Matcher", "search_both_ways", "search_forward"]

_U64 = 1 << 64
_U32 = 1 << 32
_BLOCK = 1001  # counters per verification call (the C core's look-ahead limit + 1)
_BATCH_BLOCKS = 256  # blocks per batch of a long search


class Matcher:
    """Finds an OTP among counters (constant-time compares in the C core).

    Runs of whole blocks go to :func:`pyotp_hw.bulk.verify_hotp` in one call (multi-buffer
    kernels, threads); the rest, and counters at or above 2**63 that its int64 results cannot
    carry, to :meth:`pyotp_hw.HOTP.find`.
    """

    def __init__(self, secret: bytes, digest: str, otp: bytes) -> None:
        from .. import HOTP, bulk

        self.possible = 6 <= len(otp) <= 8 and all(48 <= c <= 57 for c in otp)
        self.code = int(otp) if self.possible else 0
        self.digits = min(max(len(otp), 6), 8)
        self.hotp = HOTP(secret, digits=self.digits, digest=digest)
        self.table = bulk.KeyTable([secret], digest=digest)

    def close(self) -> None:
        """Wipe the key table used for batches."""
        self.table.close()

    def lowest(self, first: int, count: int) -> int | None:
        """The lowest counter in ``first .. first+count-1`` (mod 2**64) with the OTP's code."""
        for lo, n in _split_at_wrap(first, count):
            blocks = n // _BLOCK
            if blocks > 1 and lo + blocks * _BLOCK < 1 << 63:
                hit = self._lowest_in_blocks(lo, blocks)
                if hit is not None:
                    return hit
                lo, n = lo + blocks * _BLOCK, n - blocks * _BLOCK
            done = 0
            while done < n:
                take = min(_BLOCK, n - done)
                hit = self.hotp.find(self.code, lo + done, take - 1)
                if hit is not None:
                    return hit
                done += take
        return None

    def _lowest_in_blocks(self, lo: int, blocks: int) -> int | None:
        from .. import bulk

        starts = array("Q", range(lo, lo + blocks * _BLOCK, _BLOCK))
        found = bulk.verify_hotp(self.table, self.code, starts, look_ahead=_BLOCK - 1,
                                 digits=self.digits)
        return next((int(hit) for hit in found if hit != -1), None)

    def highest(self, first: int, count: int) -> int | None:
        """The highest such counter in ``first .. first+count-1`` (mod 2**64)."""
        best = None
        pieces = _split_at_wrap(first, count)
        for lo, n in reversed(pieces):
            while n > 0:
                hit = self.lowest(lo, n)
                if hit is None:
                    break
                best = hit
                n -= hit - lo + 1
                lo = hit + 1
            if best is not None:
                return best
        return best


def _split_at_wrap(first: int, count: int) -> list[tuple[int, int]]:
    """``first .. first+count-1`` modulo 2**64 as at most two ascending runs."""
    first %= _U64
    if first + count <= _U64:
        return [(first, count)]
    head = _U64 - first
    return [(first, head), (0, count - head)]


def search_forward(secret: bytes, digest: str, otp: bytes, start: int,
                    window: int) -> int | None:
    """liboath's HOTP search: position of the first match in ``start .. start+window``."""
    if not 6 <= len(otp) <= 8:
        return None
    matcher = Matcher(secret, digest, otp)
    try:
        if not matcher.possible:
            return None
        # liboath counts positions in a 32-bit unsigned int: a window of 2**32 or more (a
        # negative one) revisits the same 2**32 counters; one cycle of them is searched here.
        span = min(window + 1, _U32)
        done = 0
        while done < span:
            take = min(span - done, _BLOCK * _BATCH_BLOCKS)
            hit = matcher.lowest(start + done, take)
            if hit is not None:
                return (hit - start) % _U64
            done += take
        return None
    finally:
        matcher.close()


def search_both_ways(secret: bytes, digest: str, otp: bytes, centre: int,
                      window: int) -> int | None:
    """liboath's TOTP search: the smallest distance d <= window with a match at centre +- d."""
    if not 6 <= len(otp) <= 8:
        return None
    matcher = Matcher(secret, digest, otp)
    try:
        if not matcher.possible:
            return None
        if matcher.lowest(centre, 1) is not None:
            return 0
        reach = min(window, _U32 - 1)
        near = 1
        # Distances near..far on both sides at a time: the first such ring with a match holds
        # the nearest one.
        while near <= reach:
            far = min(reach, near + _BLOCK * _BATCH_BLOCKS - 1)
            count = far - near + 1
            above = matcher.lowest(centre + near, count)
            below = matcher.highest(centre - far, count)
            hits = []
            if above is not None:
                hits.append((above - centre) % _U64)
            if below is not None:
                hits.append((centre - below) % _U64)
            if hits:
                return min(hits)
            near = far + 1
        return None
    finally:
        matcher.close()
