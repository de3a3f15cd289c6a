"""Re-sealing in the SQL stores: a mixin with the two statements ``Verifier.rekey`` needs.

Kept apart from :mod:`.sql` so the schema and commit logic stay as they are: it reads the
credentials table in id order, and writes only the ``sealed`` column, with a compare-and-set
(``AND sealed = old``) so that a row replaced or re-enrolled meanwhile is never overwritten.
"""

# Statements are assembled from fixed fragments (placeholders); values are bound parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence

from ..records import Params
from .sql_dialect import SQLDialect

__all__ = ["ResealMixin"]


class ResealMixin(SQLDialect):
    """``sealed_rows`` and ``reseal`` over the SQL store's transactions and placeholders."""

    def sealed_rows(self, after: int, limit: int) -> list[Params]:
        """Up to ``limit`` credentials with ``id > after``, by id (one SELECT)."""
        p = self._p
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT id, user_id, kind, digest, digits, period, t0, sealed FROM "
                f"otp_credentials WHERE id > {p('int')} ORDER BY id LIMIT {p('int')}",
                [after, limit])
            rows = cur.fetchall()
        return [Params(int(r[0]), str(r[1]), r[2], str(r[3]), int(r[4]), int(r[5]), int(r[6]),
                       bytes(r[7])) for r in rows]

    def reseal(self, updates: Sequence[tuple[int, bytes, bytes]]) -> int:
        """Compare-and-set of each row's sealed seed, all in one transaction."""
        if not updates:
            return 0
        p = self._p
        sql = (f"UPDATE otp_credentials SET sealed = {p('bytes')} WHERE id = {p('int')} "
               f"AND sealed = {p('bytes')} RETURNING id")
        changed = 0
        with self._tx() as cur:
            for cid, old, new in updates:
                cur.execute(sql, [new, cid, old])
                changed += len(cur.fetchall())
        return changed
