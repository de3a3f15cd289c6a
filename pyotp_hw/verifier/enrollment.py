"""A pending enrollment as the site shows it to the user: the key URI and its QR code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["Enrollment"]


@dataclass(frozen=True)
class Enrollment:
    """What :meth:`Verifier.begin_enrollment` returns.

    ``uri`` is the ``otpauth://`` URI holding the new secret: show it (usually as a QR code) to
    the user once, over the authenticated session, and do not log it. The credential stays
    pending, and cannot be used to sign in, until :meth:`Verifier.confirm_enrollment` sees a code
    from the user's authenticator before ``expires_at`` (seconds since the epoch).
    """

    user: str
    uri: str = field(repr=False)
    expires_at: float

    def qr(self, *, compact: bool = True) -> str:
        """The URI as a QR code drawn with terminal block characters (the ``qr`` extra)."""
        from ..qr import render_terminal

        return render_terminal(self.uri, compact=compact)

    def write_qr(self, path: str | os.PathLike[str], *, scale: int = 8) -> None:
        """Write the QR code to ``path``: SVG when the name ends in ``.svg``, else PNG."""
        from ..qr import write_png, write_svg

        if os.fspath(path).lower().endswith(".svg"):
            write_svg(self.uri, path, scale=scale)
        else:
            write_png(self.uri, path, scale=scale)

    def png(self, *, scale: int = 8) -> bytes:
        """The QR code as PNG bytes (for a web page)."""
        from ..qr import png_bytes

        return png_bytes(self.uri, scale=scale)
