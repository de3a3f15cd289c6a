"""The tables of the SQL stores, written once for both dialects (version 1 of the schema).

The ``CHECK`` constraints keep ``state`` and ``kind`` to the values of
:data:`~pyotp_hw.verifier.records.CredentialState` and :data:`~pyotp_hw.uri.Kind`.
"""

from __future__ import annotations

__all__ = ["schema_ddl"]


def schema_ddl(t: dict[str, str]) -> list[str]:
    """The statements that create the schema, given the dialect's column ``t``ypes by abstract
    name (``pk``, ``int64``, ``float``, ``bytes``)."""
    return [
        f"""CREATE TABLE otp_credentials (
                id {t['pk']},
                user_id TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('active', 'pending')),
                kind TEXT NOT NULL CHECK (kind IN ('totp', 'hotp')),
                digest TEXT NOT NULL,
                digits INTEGER NOT NULL,
                period {t['int64']} NOT NULL,
                t0 {t['int64']} NOT NULL,
                sealed {t['bytes']} NOT NULL,
                issuer TEXT,
                account TEXT,
                last_step {t['int64']},
                drift {t['int64']} NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                next_allowed_at {t['float']} NOT NULL DEFAULT 0,
                locked_at {t['float']},
                created_at {t['float']} NOT NULL,
                expires_at {t['float']},
                accepted {t['int64']} NOT NULL DEFAULT 0,
                rejected {t['int64']} NOT NULL DEFAULT 0,
                replayed {t['int64']} NOT NULL DEFAULT 0,
                UNIQUE (user_id, state)
            )""",
        f"""CREATE TABLE otp_events (
                id {t['pk']},
                user_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                at {t['float']} NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            )""",
        "CREATE INDEX otp_events_user ON otp_events (user_id, id)",
    ]
