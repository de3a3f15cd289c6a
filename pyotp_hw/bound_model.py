"""Operation counts of every hash kernel, per code, for the bound model (``pyotp_hw.bound``).

The counts come from running the HMAC computation of one HOTP code (two compressions from the
key's midstates) over symbolic words: a word is either a constant the compiler knows (the
padding, the zero message words, the round constants) or a value that varies per lane. Every
operation with a varying operand costs what the kernel's instruction set needs for it; operations
on constants cost nothing, as the compiler folds them. This mirrors the kernels' source (the
templates csrc/mb_sha*.h and the SHA-NI files), not their assembly; tests/test_bound.py checks the
counts against the instructions in the compiled module where objdump is available.

Per instruction set:
  avx512  rotate = 1 vprold, any 2- or 3-input boolean = 1 vpternlogd, add = 1 vpaddd
  avx2    rotate = 2 shifts + 1 OR; boolean functions as written (SHA-1 F1: 3 ops, F3: 4, ...)
Classes: ``alu`` (every vector operation, including shifts and rotates) and ``shift`` (the part
that needs the shift/rotate pipes), plus SHA-NI instructions by name for the shani kernels.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["KernelModel", "model_for", "sha1_counts", "sha2_counts"]

_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1

# A word: an int (known to the compiler) or None (varies per lane).
Word = int | None


class _Ops:
    """Counts the operations of one instruction set over symbolic words of ``bits`` bits."""

    def __init__(self, isa: str, bits: int) -> None:
        self.isa = isa
        self.mask = _M32 if bits == 32 else _M64
        self.bits = bits
        self.n: Counter[str] = Counter()

    def _alu(self, count: int, shift: int = 0) -> None:
        self.n["alu"] += count
        self.n["shift"] += shift

    def rot(self, x: Word, r: int) -> Word:
        """Rotate right by r."""
        if x is not None:
            return ((x >> r) | (x << (self.bits - r))) & self.mask
        if self.isa == "avx512":
            self._alu(1, 1)
        else:
            self._alu(3, 2)
        return None

    def shr(self, x: Word, r: int) -> Word:
        if x is not None:
            return x >> r
        self._alu(1, 1)
        return None

    def add(self, *xs: Word) -> Word:
        varying = sum(x is None for x in xs)
        const = sum(x for x in xs if x is not None) & self.mask
        if varying == 0:
            return const
        self._alu(varying - 1 + (const != 0))
        return None

    def xor(self, *xs: Word) -> Word:
        varying = sum(x is None for x in xs)
        const = 0
        for x in xs:
            if x is not None:
                const ^= x
        if varying == 0:
            return const
        inputs = varying + (const != 0)
        if self.isa == "avx512":
            self._alu(math.ceil((inputs - 1) / 2))  # one vpternlogd takes three inputs
        else:
            self._alu(inputs - 1)
        return None

    def boolf(self, ops_avx2: int, fn: Callable[[int, int, int], int], *xs: Word) -> Word:
        """A boolean function of three words: one vpternlogd, or ``ops_avx2`` AVX2 ops."""
        b, c, d = xs
        if b is not None and c is not None and d is not None:
            return fn(b, c, d) & self.mask
        self._alu(1 if self.isa == "avx512" else ops_avx2)
        return None


def _sha1_f(t: int, ops: _Ops, b: Word, c: Word, d: Word) -> Word:
    if t < 20:
        return ops.boolf(3, lambda x, y, z: z ^ (x & (y ^ z)), b, c, d)
    if 40 <= t < 60:
        return ops.boolf(4, lambda x, y, z: (x & y) | (z & (x | y)), b, c, d)
    return ops.boolf(2, lambda x, y, z: x ^ y ^ z, b, c, d)


_SHA1_K = (0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6)


def _sha1_compress(ops: _Ops, w: list[Word]) -> None:
    state: list[Word] = [None] * 5  # midstates vary per lane
    a, b, c, d, e = state
    w = list(w)
    for t in range(80):
        if t >= 16:
            x = ops.xor(w[(t - 3) % 16], w[(t - 8) % 16], w[(t - 14) % 16], w[t % 16])
            w[t % 16] = ops.rot(x, 31)
        wk = ops.add(w[t % 16], _SHA1_K[t // 20])
        e = ops.add(e, ops.rot(a, 27), _sha1_f(t, ops, b, c, d), wk)
        b = ops.rot(b, 2)
        a, b, c, d, e = e, a, b, c, d
    for _ in range(5):
        ops.add(None, None)  # feed-forward into the chaining state


def sha1_counts(isa: str, shared: bool = False) -> Counter[str]:
    """Vector operations of one HOTP-SHA1 code's two compressions, per lane group.

    ``shared``: the inner message is the same in every lane (one time step for the whole batch),
    so its schedule is computed once per call and only W + K is added per round.
    """
    ops = _Ops(isa, 32)
    counter: list[Word] = [0x0363B8B5, 0x7A5C3B11] if shared else [None, None]
    _sha1_compress(ops, counter + [0x80000000] + [0] * 12 + [576])
    _sha1_compress(ops, [None] * 5 + [0x80000000] + [0] * 9 + [672])
    return ops.n


def _sha2_compress(ops: _Ops, w: list[Word], bits: int) -> None:
    rounds = 64 if bits == 32 else 80
    big = (2, 13, 22, 6, 11, 25) if bits == 32 else (28, 34, 39, 14, 18, 41)
    small = (7, 18, 3, 17, 19, 10) if bits == 32 else (1, 8, 7, 19, 61, 6)
    st: list[Word] = [None] * 8
    w = list(w)
    for t in range(rounds):
        if t >= 16:
            x15, x2 = w[(t - 15) % 16], w[(t - 2) % 16]
            g0 = ops.xor(ops.rot(x15, small[0]), ops.rot(x15, small[1]), ops.shr(x15, small[2]))
            g1 = ops.xor(ops.rot(x2, small[3]), ops.rot(x2, small[4]), ops.shr(x2, small[5]))
            w[t % 16] = ops.add(w[t % 16], g1, w[(t - 7) % 16], g0)
        a, b, c, d, e, f, g, h = st
        s1 = ops.xor(ops.rot(e, big[3]), ops.rot(e, big[4]), ops.rot(e, big[5]))
        ch = ops.boolf(3, lambda x, y, z: z ^ (x & (y ^ z)), e, f, g)
        # The round constant is known: W + K is one add (or a constant when W is).
        t1 = ops.add(h, s1, ch, ops.add(w[t % 16], 0x428A2F98))
        s0 = ops.xor(ops.rot(a, big[0]), ops.rot(a, big[1]), ops.rot(a, big[2]))
        maj = ops.boolf(4, lambda x, y, z: (x & y) | (z & (x | y)), a, b, c)
        st = [ops.add(t1, s0, maj), a, b, c, ops.add(d, t1), e, f, g]
    for _ in range(8):
        ops.add(None, None)


def sha2_counts(isa: str, bits: int) -> Counter[str]:
    """Vector operations of one HOTP-SHA256 (bits=32) or SHA512 (64) code, per lane group."""
    ops = _Ops(isa, bits)
    top = 1 << (bits - 1)
    if bits == 32:
        inner = [None, None, top] + [0] * 12 + [(64 + 8) * 8]
        outer = [None] * 8 + [top] + [0] * 6 + [(64 + 32) * 8]
    else:
        inner = [None, top] + [0] * 13 + [(128 + 8) * 8]
        outer = [None] * 8 + [top] + [0] * 6 + [(128 + 64) * 8]
    _sha2_compress(ops, inner, bits)
    _sha2_compress(ops, outer, bits)
    return ops.n


# Dynamic truncation, the digit reduction's compare and the loads and stores of one group,
# counted from mb_common.h (mb_truncate32: 2 x 4 compares + 2 x 3 blends + 7 others): small
# next to the rounds, and included so that the bound is not flattering.
_TRUNCATE = Counter({"alu": 21, "shift": 6})


@dataclass(frozen=True)
class KernelModel:
    """What one code costs a kernel, in operations of its classes, and its dependency chain.

    ``per_code`` maps an operation class to its count per code (all lanes and streams shared
    out). ``chain`` is the longest dependency chain of one lane group's code as a list of
    (instruction-class, count) pairs (latencies multiply them); ``in_flight`` is how many codes
    that chain's length is shared by (lanes x independent groups or streams).
    """

    kernel: str
    per_code: dict[str, float]
    chain: tuple[tuple[str, int], ...]
    in_flight: int


def _vector_model(name: str, digest: str, isa: str, lanes: int, groups: int,
                  shared: bool) -> KernelModel:
    if digest == "sha1":
        counts = sha1_counts(isa, shared)
        # Per round the new A waits for a rotate and an add (the other terms are ready earlier).
        chain: tuple[tuple[str, int], ...] = (("rot", 2 * 80), ("add", 2 * 80))
    else:
        bits = 32 if digest == "sha256" else 64
        counts = sha2_counts(isa, bits)
        rounds = 64 if bits == 32 else 80
        # E of the next round: Sigma1's rotates and ternlog, then two adds (T1, then D + T1).
        chain = (("rot", 2 * rounds), ("logic", 2 * rounds), ("add", 4 * rounds))
    counts = counts + _TRUNCATE
    per_code = {k: v / lanes for k, v in counts.items()}
    return KernelModel(name, per_code, chain, lanes * groups)


def _shani_model(name: str, digest: str, streams: int, shared: bool) -> KernelModel:
    if digest == "sha1":
        # With a shared inner message only the outer block computes a schedule.
        msg = 16 if shared else 32
        per_code = {"sha1rnds4": 40.0, "sha1nexte": 40.0, "sha1msg1": msg, "sha1msg2": msg}
        return KernelModel(name, per_code, (("sha1rnds4", 40),), streams)
    else:
        per_block = {"sha256rnds2": 32, "sha256msg1": 12, "sha256msg2": 12}
        chain = (("sha256rnds2", 64),)
    return KernelModel(name, {k: 2.0 * v for k, v in per_block.items()}, chain, streams)


def _portable_model(name: str, digest: str) -> KernelModel:
    # One code at a time: the bound is the rounds' dependency chain in scalar instructions
    # (SHA-1: a rotate and an add per round; SHA-2: three or four dependent steps per round).
    rounds = {"sha1": 80, "sha256": 64, "sha512": 80}[digest]
    depth = 2 if digest == "sha1" else 4
    return KernelModel(name, {}, (("scalar", 2 * rounds * depth),), 1)


def model_for(name: str, lanes: int, shared: bool = False) -> KernelModel | None:
    """The model of a kernel by its name ("sha1-avx512", "sha1-avx512x2", ...).

    ``shared``: codes at one counter shared by the batch (TOTP verification at one time step),
    where the SHA-1 kernels compute the inner message schedule once.
    """
    digest, isa = name.split("-", 1)
    shared = shared and digest == "sha1"
    if isa == "portable":
        return _portable_model(name, digest)
    if isa == "shani":
        return _shani_model(name, digest, lanes, shared)
    match = re.fullmatch(r"(avx2|avx512)(?:x(\d+))?", isa)
    if match is None:
        return None
    groups = int(match.group(2) or 1)
    return _vector_model(name, digest, match.group(1), lanes // groups, groups, shared)
