"""Draw QR module rows as an image, so that a terminal drawing can be scanned by zxing-cpp."""

from __future__ import annotations

from PIL import Image, ImageDraw


def image_of(modules: list[list[bool]], scale: int = 6) -> Image.Image:
    """Black-on-white image of module rows (True is dark), ``scale`` pixels per module."""
    img = Image.new("L", (len(modules[0]) * scale, len(modules) * scale), 255)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1],
                               fill=0)
    return img
