"""Counts and lengths a Google Authenticator export claims are bounded before anything is built.

The hostile payloads are written with the protobuf package (the app's schema, from
test_migration_protobuf.py), not with the codec under test.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from pyotp_hw import migration as M

from .test_migration_protobuf import Payload, _to_uri

# A decode that refuses a hostile export must not build anything near its claims.
MEMORY_LIMIT = 4 * 1024 * 1024


def _export(*, batch_size: int, batch_index: int = 0, accounts: int = 1,
            secret: bytes = b"0123456789", name: str = "n") -> str:
    message = Payload()
    for _ in range(accounts):
        entry = message.otp_parameters.add()
        entry.secret = secret
        entry.name = name
        entry.type = 2
    message.version = 1
    message.batch_size = batch_size
    message.batch_index = batch_index
    message.batch_id = 7
    return str(_to_uri(message))


def _peak(call: object) -> tuple[BaseException, int, float]:
    assert callable(call)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
    except M.MigrationError as exc:
        error: BaseException = exc
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("the hostile export was accepted")
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, peak, elapsed


def test_a_huge_batch_count_is_refused_without_listing_every_missing_batch() -> None:
    text = _export(batch_size=2**31 - 1)
    assert len(text) < 120  # the 100-byte export of the report
    error, peak, elapsed = _peak(lambda: M.decode_all([text]))
    assert "batch" in str(error) and "at most" in str(error)
    assert peak < MEMORY_LIMIT and elapsed < 1.0
    assert len(str(error)) < 300


def test_many_missing_batches_are_summarised() -> None:
    # Within the bound, but most batches missing: the message stays one short line.
    error, _, _ = _peak(lambda: M.decode_all([_export(batch_size=M.MAX_BATCHES)]))
    message = str(error)
    assert f"of {M.MAX_BATCHES}" in message and "missing" in message
    assert len(message) < 300


@pytest.mark.parametrize("index", [-1, M.MAX_BATCHES, 2**31 - 1])
def test_batch_index_outside_the_count(index: int) -> None:
    with pytest.raises(M.MigrationError, match="batch index"):
        M.decode_all([_export(batch_size=3, batch_index=index)])


def test_too_many_accounts_in_one_batch() -> None:
    text = _export(batch_size=1, accounts=M.MAX_ACCOUNTS + 1)
    with pytest.raises(M.MigrationError, match=f"at most {M.MAX_ACCOUNTS}"):
        M.decode(text)


def test_too_many_accounts_across_batches() -> None:
    per = M.MAX_ACCOUNTS
    count = M.MAX_TOTAL_ACCOUNTS // per + 1
    uris = [_export(batch_size=count, batch_index=i, accounts=per) for i in range(count)]
    with pytest.raises(M.MigrationError, match=f"at most {M.MAX_TOTAL_ACCOUNTS}"):
        M.decode_all(uris)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"secret": b"k" * (M.MAX_SECRET_BYTES + 1)}, "secret"),
        ({"name": "n" * (M.MAX_TEXT_BYTES + 1)}, "name"),
    ],
)
def test_field_lengths_are_bounded(fields: dict[str, object], words: str) -> None:
    text = _export(batch_size=1, **fields)  # type: ignore[arg-type]
    with pytest.raises(M.MigrationError, match=words) as info:
        M.decode(text)
    assert "k" * 20 not in str(info.value)


def test_an_oversized_uri_is_refused_before_decoding() -> None:
    text = "otpauth-migration://offline?data=" + "A" * (M.MAX_URI_CHARS + 1)
    error, peak, _ = _peak(lambda: M.decode(text))
    assert "too long" in str(error)
    assert peak < MEMORY_LIMIT
