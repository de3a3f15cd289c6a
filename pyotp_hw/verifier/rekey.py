"""Re-sealing every credential under a new data key while the verifier keeps serving.

:func:`rekey` starts a new key generation (see :mod:`.keyring`) before it touches any row, then
walks the credentials in id order, a batch per transaction: each seed still under an older key
is opened and sealed again under the new one, and written with a compare-and-set on the sealed
bytes, so a row that a verification, an enrollment or a removal changed meanwhile is left to
the next pass. Passes repeat until one finds nothing left to re-seal; then the generation is
marked done. Only the ``sealed`` column is written: consumed steps, counters and locks are
never touched, so verification (and its replay protection) goes on unchanged.

A crash at any point leaves each row sealed under the old key or the new one (one row is one
compare-and-set inside one transaction), every verifier still holds both keys, and running the
rekey again resumes the unfinished generation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..sealing import wipe
from .errors import WrongKey
from .keyring import DataKeyRing
from .records import Params
from .sealing import credential_aad
from .stores import Store

__all__ = ["RekeyReport", "rekey"]

log = logging.getLogger("pyotp_hw.verifier")


@dataclass
class RekeyReport:
    """What a rekey did."""

    generation: int
    resealed: int = 0
    already: int = 0
    unreadable: int = 0
    passes: int = 0


def _aad(row: Params) -> bytes:
    return credential_aad(row.user, row.kind, row.digest, row.digits, row.period, row.t0)


def _pass(store: Store, ring: DataKeyRing, report: RekeyReport, batch: int, pause: float,
          progress: Callable[[RekeyReport], None] | None) -> int:
    """One walk over the credentials; returns how many re-seals it attempted."""
    new = ring.sealer(report.generation)
    attempted = 0
    after = 0
    while rows := store.sealed_rows(after, batch):
        updates = []
        for row in rows:
            aad = _aad(row)
            try:
                wipe(new.open_into(row.sealed, aad))
                report.already += 1
                continue
            except WrongKey:
                pass
            try:
                opened = ring.open_into(row.sealed, aad)
            except WrongKey:
                report.unreadable += 1
                log.warning("credential %d opens under no data key: left as it is", row.id)
                continue
            try:
                updates.append((row.id, row.sealed, new.seal(opened, aad)))
            finally:
                wipe(opened)
        attempted += len(updates)
        report.resealed += store.reseal(updates)
        after = rows[-1].id
        if progress is not None:
            progress(report)
        if pause:
            time.sleep(pause)
    return attempted


def rekey(store: Store, ring: DataKeyRing, *, batch: int = 500, pause: float = 0.0,
          progress: Callable[[RekeyReport], None] | None = None) -> RekeyReport:
    """Re-seal every credential of ``store`` under a new generation of ``ring``'s key.

    ``batch`` rows go in each transaction, with ``pause`` seconds between batches (to leave the
    database to verification); ``progress`` is called after each batch.
    """
    report = RekeyReport(ring.add_generation())
    while True:
        report.passes += 1
        report.already = 0
        if _pass(store, ring, report, batch, pause, progress) == 0:
            break
    ring.finish(report.generation)
    return report
