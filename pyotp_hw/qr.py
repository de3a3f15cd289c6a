"""QR codes for provisioning: draw a URI in the terminal, as PNG or SVG, and read one from an image.

Drawing uses segno (pure Python); reading uses zxing-cpp's ``zxingcpp`` module with Pillow to load
the image. All three come with the ``qr`` extra and are imported only when a function needs them.
"""

from __future__ import annotations

import io
import os
from types import ModuleType
from typing import TYPE_CHECKING

from ._numbers import option
from .errors import InvalidArgument, MissingExtra
from .secret_files import OutputFileError, check_output, write_secret_file

if TYPE_CHECKING:  # segno is an optional extra, imported when a code is drawn
    from segno import QRCode

__all__ = [
    "QUIET_ZONE",
    "QRImageError",
    "OutputFileError",
    "check_output",
    "render_terminal",
    "terminal_modules",
    "write_png",
    "write_svg",
    "png_bytes",
    "svg_bytes",
    "read_image",
]

#: Light modules around the symbol, as the QR specification asks for.
QUIET_ZONE = 4
_UPPER, _LOWER, _FULL = "\u2580", "\u2584", "\u2588"


class QRImageError(InvalidArgument):
    """An image file cannot be opened or decoded."""


def _segno() -> ModuleType:
    try:
        import segno
    except ImportError:
        raise MissingExtra("QR code rendering", "qr", "segno") from None
    return segno


def _make(text: str) -> QRCode:
    if not isinstance(text, str) or not text:
        raise InvalidArgument("QR code text must be a non-empty str")
    segno = _segno()
    try:
        # Medium error correction, like the codes sites show; always a full QR, never Micro QR.
        code: QRCode = segno.make_qr(text, error="m", boost_error=False)
    except segno.DataOverflowError:
        raise InvalidArgument(
            f"text is too long for a QR code ({len(text.encode('utf-8'))} bytes)"
        ) from None
    return code


def _check_scale(scale: int) -> int:
    return option(scale, "scale (pixels per module)", 1, 100)


def _matrix(text: str) -> list[list[bool]]:
    """Rows of modules including the quiet zone; True is a dark module."""
    code = _make(text)
    return [[bool(v) for v in row] for row in code.matrix_iter(scale=1, border=QUIET_ZONE)]


def render_terminal(text: str, *, compact: bool = True, invert: bool = False) -> str:
    """Return ``text`` as a QR code drawn with Unicode block characters, quiet zone included.

    The drawing assumes light text on a dark terminal: light modules are drawn with ink
    (block characters) and dark modules are left blank. ``invert=True`` draws the dark modules
    instead, for light terminals. ``compact`` packs two module rows into one text line with half
    blocks; otherwise each module is two full blocks wide. Every line has the same width.
    """
    rows = _matrix(text)
    ink = [[dark == invert for dark in row] for row in rows]
    lines: list[str] = []
    if compact:
        width = len(ink[0])
        quiet = [not invert] * width  # the row below the last one belongs to the quiet zone
        for y in range(0, len(ink), 2):
            upper = ink[y]
            lower = ink[y + 1] if y + 1 < len(ink) else quiet
            chars = []
            for u, low in zip(upper, lower, strict=True):
                chars.append(_FULL if u and low else _UPPER if u else _LOWER if low else " ")
            lines.append("".join(chars))
    else:
        for row in ink:
            lines.append("".join(_FULL * 2 if cell else "  " for cell in row))
    return "\n".join(lines) + "\n"


def terminal_modules(drawing: str, *, compact: bool = True, invert: bool = False) -> list[
    list[bool]
]:
    """Read a :func:`render_terminal` drawing back into module rows (True is dark).

    Used to check that what the terminal shows is the code that was meant; for a compact
    drawing the result may have one extra light row at the bottom (part of the quiet zone).
    """
    rows: list[list[bool]] = []
    for line in drawing.splitlines():
        if compact:
            upper: list[bool] = []
            lower: list[bool] = []
            for ch in line:
                if ch not in (_FULL, _UPPER, _LOWER, " "):
                    raise InvalidArgument(f"unexpected character U+{ord(ch):04X} in a drawing")
                upper.append(ch in (_FULL, _UPPER))
                lower.append(ch in (_FULL, _LOWER))
            rows.append(upper)
            rows.append(lower)
        else:
            if len(line) % 2:
                raise InvalidArgument("a full-width drawing has an even number of columns")
            rows.append([line[i] == _FULL for i in range(0, len(line), 2)])
    # Ink is light unless inverted; report dark modules.
    return [[cell == invert for cell in row] for row in rows]


def write_png(text: str, path: str | os.PathLike[str], *, scale: int = 8,
              replace: bool = True) -> None:
    """Write ``text`` as a black-on-white PNG QR code, ``scale`` pixels per module.

    The file holds whatever ``text`` holds (an otpauth URI holds its secret): it is created with
    mode 0600, an existing file is replaced atomically (refused when ``replace`` is false) and a
    symbolic link is refused, not followed. A path that cannot be written raises
    :class:`OutputFileError` before any work is done.
    """
    check_output(path, replace=replace)
    write_secret_file(path, png_bytes(text, scale=scale), replace=replace)


def write_svg(text: str, path: str | os.PathLike[str], *, scale: int = 8,
              replace: bool = True) -> None:
    """Write ``text`` as an SVG QR code, ``scale`` user units per module (files as write_png)."""
    check_output(path, replace=replace)
    write_secret_file(path, svg_bytes(text, scale=scale), replace=replace)


def png_bytes(text: str, *, scale: int = 8) -> bytes:
    """Return ``text`` as the bytes of a PNG QR code (for web pages and e-mails)."""
    buffer = io.BytesIO()
    _make(text).save(buffer, kind="png", scale=_check_scale(scale), border=QUIET_ZONE)
    return buffer.getvalue()


def svg_bytes(text: str, *, scale: int = 8) -> bytes:
    """Return ``text`` as the bytes of an SVG QR code."""
    buffer = io.BytesIO()
    _make(text).save(buffer, kind="svg", scale=_check_scale(scale), border=QUIET_ZONE,
                     title="otpauth QR code")
    return buffer.getvalue()


def _reader() -> tuple[ModuleType, ModuleType]:
    try:
        import zxingcpp
    except ImportError:
        raise MissingExtra("reading QR codes", "qr", "zxingcpp") from None
    try:
        from PIL import Image
    except ImportError:
        raise MissingExtra("reading QR codes", "qr", "PIL") from None
    return zxingcpp, Image


def _is_svg(name: str) -> bool:
    """True when the file starts like an SVG document (XML with an svg element, or gzipped)."""
    try:
        with open(name, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False  # reported by the image loader
    if head[:2] == b"\x1f\x8b":
        return name.lower().endswith(".svgz")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text)


def read_image(path: str | os.PathLike[str]) -> list[str]:
    """Return the text of every QR code in an image file (PNG, JPEG, ...); [] when there is none.

    Screenshots with transparency are laid on white first, so a code drawn on a transparent
    page still reads.
    """
    zxingcpp, image_module = _reader()
    name = os.fspath(path)
    if _is_svg(name):
        raise QRImageError(
            f"{name} is an SVG drawing, and QR codes are read from raster images (PNG, JPEG, "
            f"...): convert it first, for example with  rsvg-convert -o code.png {name}  "
            "(Debian package librsvg2-bin), or take a screenshot of it"
        )
    try:
        with image_module.open(name) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                canvas = image_module.new("RGBA", rgba.size, (255, 255, 255, 255))
                canvas.alpha_composite(rgba)
                gray = canvas.convert("L")
            else:
                gray = img.convert("L")
    except FileNotFoundError:
        raise QRImageError(f"image file not found: {name}") from None
    except (OSError, ValueError, image_module.DecompressionBombError) as exc:
        raise QRImageError(f"cannot read image {name}: {type(exc).__name__}") from None
    formats = zxingcpp.BarcodeFormat.QRCode
    results = zxingcpp.read_barcodes(gray, formats=formats)
    return [str(r.text) for r in results if r.valid]
