"""pyotp's ``HOTP``: counter-based codes (RFC 4226) from the C core."""

from __future__ import annotations

from typing import Any

from .._types import Digest
from . import _engine, utils
from .otp import OTP

__all__ = ["HOTP"]


class HOTP(OTP):
    """HMAC-based one-time passwords over a counter that starts at ``initial_count``."""

    def __init__(
        self,
        s: str | bytes,
        *,
        digits: int = 6,
        digest: Digest | None = None,
        name: str | None = None,
        issuer: str | None = None,
        initial_count: int = 0,
    ) -> None:
        """Take a base32 secret ``s``; ``digits`` from 6 to 10; ``digest`` defaults to SHA-1."""
        digest = _engine.default_digest(digest)
        self.initial_count = initial_count
        super().__init__(s=s, digits=digits, digest=digest, name=name, issuer=issuer)

    def at(self, count: int) -> str:
        """The code for counter ``initial_count + count``."""
        return self.generate_otp(_engine.counter_sum(self.initial_count, count, "count"))

    def verify(self, otp: object, counter: int) -> bool:
        """True when ``otp`` is the code for ``initial_count + counter``.

        A malformed code (wrong length, letters, spaces, None) is simply False; full-width
        digits are accepted, as pyotp accepts them. The comparison is constant-time.
        """
        target = _engine.counter_sum(self.initial_count, counter, "counter")
        return self._counters_match(otp, target, 0) is not None

    def provisioning_uri(
        self,
        *,
        name: str | None = None,
        initial_count: int | None = None,
        issuer_name: str | None = None,
        **kwargs: Any,  # extra URI parameters: build_uri refuses a non-str one, typed
    ) -> str:
        """An ``otpauth://hotp/...`` URI for authenticator apps (it contains the secret).

        ``name``, ``issuer_name`` and ``initial_count`` default to the object's own; extra
        keyword arguments (``image=...``) become query parameters.
        """
        utils.refuse_clashes(kwargs, ("secret", "issuer", "algorithm", "digits"))
        return utils.build_uri(
            self.secret,
            name=name if name else self.name,
            initial_count=initial_count if initial_count is not None else self.initial_count,
            issuer=issuer_name if issuer_name else self.issuer,
            algorithm=_engine.digest_name(self.digest),
            digits=self.digits,
            **kwargs,
        )
