"""pyotp's ``contrib``: non-standard variants (Steam Guard)."""

from __future__ import annotations

from .steam import Steam

__all__ = ["Steam"]
