"""The random source of secret generation: the operating system's CSPRNG, as in pyotp."""

from __future__ import annotations

from secrets import SystemRandom

__all__ = ["random"]

#: A :class:`secrets.SystemRandom`; ``random_base32`` and ``random_hex`` draw from it.
random = SystemRandom()
