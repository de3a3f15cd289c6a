"""Key tables built from Python lists of keys: every layout the build takes, against hmac.

A list is loaded in parts of a few thousand keys (``_keytable._CHUNK``), each part as one block
of equal-length keys or with per-key offsets; an item that is not raw bytes sends the whole list
through decoding. These tests cross part boundaries with each of those cases.
"""

from __future__ import annotations

import base64
from array import array

import pytest

import pyotp_hw
from pyotp_hw import bulk
from pyotp_hw._native import _keytable

from . import oracle

CHUNK = _keytable._CHUNK
N = 2 * CHUNK + 37  # three parts, the last one partial


def _keys(n: int, size: int = 20) -> list[bytes]:
    return [bytes([(7 * i + j) % 251 + 1 for j in range(size)]) for i in range(n)]


def _check(table: bulk.KeyTable, keys: list[bytes], digest: str = "sha1") -> None:
    picks = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, len(keys) // 2, len(keys) - 1]
    got = bulk.hotp(table, 12345, rows=picks)
    assert list(got) == [int(oracle.hotp(keys[r], 12345, 6, digest)) for r in picks]


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_equal_length_keys_across_parts(digest: str) -> None:
    keys = _keys(N)
    with bulk.KeyTable(keys, digest=digest) as table:
        assert len(table) == N
        _check(table, keys, digest)


def test_keys_of_mixed_lengths_long_ones_hashed_first() -> None:
    # One odd length in the second part only: the first and third take the equal-length layout.
    keys = _keys(N)
    keys[CHUNK + 5] = bytes(range(1, 100))  # longer than the block: HMAC hashes it
    keys[CHUNK + 6] = b"k"
    with bulk.KeyTable(keys) as table:
        _check(table, keys)
        assert bulk.hotp(table, 3, rows=[CHUNK + 5, CHUNK + 6]).tolist() == [
            int(oracle.hotp(keys[CHUNK + 5], 3)), int(oracle.hotp(keys[CHUNK + 6], 3))]


def test_bytes_and_bytearrays_mixed() -> None:
    keys = _keys(N)
    given: list[bytes | bytearray] = [bytearray(k) if i % 3 == 0 else k for i, k in enumerate(keys)]
    with bulk.KeyTable(given) as table:
        _check(table, keys)


@pytest.mark.parametrize("where", [3, CHUNK + 3, 2 * CHUNK + 3])
def test_a_base32_secret_in_any_part_decodes_the_list(where: int) -> None:
    keys = _keys(N)
    given: list[str | bytes] = list(keys)
    given[where] = base64.b32encode(keys[where]).decode()
    with bulk.KeyTable(given) as table:
        _check(table, keys)
        assert bulk.hotp(table, 9, rows=[where])[0] == int(oracle.hotp(keys[where], 9))


class _Tagged(bytes):
    """A bytes subclass with an attribute dict: raw bytes underneath, decoded as bytes()."""


def test_bytes_subclasses_are_their_bytes() -> None:
    keys = _keys(N)
    given: list[bytes] = list(keys)
    given[CHUNK + 1] = _Tagged(keys[CHUNK + 1])
    with bulk.KeyTable(given) as table:
        _check(table, keys)


@pytest.mark.parametrize("where", [0, CHUNK - 1, CHUNK, 2 * CHUNK + 36])
def test_an_empty_key_is_named_by_its_index_in_the_whole_list(where: int) -> None:
    keys: list[bytes] = list(_keys(N))
    keys[where] = b""
    with pytest.raises(pyotp_hw.InvalidSecret, match=f"^secret {where}: secret is empty$"):
        bulk.KeyTable(keys)


def test_a_part_of_only_empty_keys_names_its_first() -> None:
    keys = _keys(CHUNK) + [b""] * CHUNK
    with pytest.raises(pyotp_hw.InvalidSecret, match=f"^secret {CHUNK}: secret is empty$"):
        bulk.KeyTable(keys)


@pytest.mark.parametrize("bad", [42, None, 1.5, ["list"]])
def test_a_non_secret_in_a_later_part_is_named(bad: object) -> None:
    keys: list[object] = list(_keys(N))
    keys[CHUNK + 2] = bad
    with pytest.raises(pyotp_hw.InvalidType, match=f"^secret {CHUNK + 2}: "):
        bulk.KeyTable(keys)  # type: ignore[arg-type]


def test_a_buffer_that_is_not_bytes_keeps_its_current_answer() -> None:
    keys: list[object] = list(_keys(10))
    keys[4] = array("I", [1, 2, 3, 4, 5])
    with pytest.raises(pyotp_hw.InvalidType, match=r"^secret 4: "):
        bulk.KeyTable(keys)  # type: ignore[arg-type]
    keys[4] = memoryview(_keys(10)[4])  # a memoryview is a secret: its bytes
    with bulk.KeyTable(keys) as table:  # type: ignore[arg-type]
        assert bulk.hotp(table, 1, rows=[4])[0] == int(oracle.hotp(_keys(10)[4], 1))
