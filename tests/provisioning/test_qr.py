"""QR codes: PNG and terminal drawings scan back (zxing-cpp reads them), SVG is well formed."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from pyotp_hw import qr
from pyotp_hw.errors import InvalidArgument, MissingExtra
from pyotp_hw.migration import encode
from pyotp_hw.uri import OtpAuthURI, build

from ._images import image_of

URIS = [
    "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
    build("hotp", b"\x01" * 20, account="Jürgen Müller", issuer="Bank & Co. 中文", counter=9,
          digits=8, digest="sha512"),
    build("totp", b"\xff" * 64, account="x" * 60, issuer="y" * 60, image="https://e.x/" + "i" * 80,
          extra=[("codeDisplay", '{"pinned":false,"tags":["a","b"]}')]),
    encode([OtpAuthURI(kind="totp", secret=bytes([i]) * 20, account=f"user{i}", issuer="Corp")
            for i in range(10)])[0],
]
# Test ids by kind, not by text: the migration URI carries a random batch id, and pytest-xdist
# refuses workers whose collected ids differ.
URI_IDS = ["totp", "hotp-unicode", "totp-long-fields", "migration"]


@pytest.mark.parametrize("text", URIS, ids=URI_IDS)
def test_png_round_trip(text: str, tmp_path: Path) -> None:
    path = tmp_path / "code.png"
    qr.write_png(text, path)
    assert qr.read_image(path) == [text]
    path.write_bytes(qr.png_bytes(text, scale=3))
    assert qr.read_image(path) == [text]


@pytest.mark.parametrize("text", URIS, ids=URI_IDS)
@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("invert", [False, True])
def test_terminal_drawing_scans(text: str, compact: bool, invert: bool, tmp_path: Path) -> None:
    drawing = qr.render_terminal(text, compact=compact, invert=invert)
    lines = drawing.splitlines()
    assert len({len(line) for line in lines}) == 1
    modules = qr.terminal_modules(drawing, compact=compact, invert=invert)
    # The quiet zone: four light modules on every side.
    assert not any(modules[0]) and not any(modules[3]) and not any(modules[-1])
    assert not any(row[0] or row[3] or row[-1] or row[-4] for row in modules)
    path = tmp_path / "terminal.png"
    image_of(modules).save(path)
    assert qr.read_image(path) == [text]


def test_terminal_drawing_uses_half_blocks_and_assumes_a_dark_terminal() -> None:
    drawing = qr.render_terminal("hello")
    assert set(drawing) <= {"\u2580", "\u2584", "\u2588", " ", "\n"}
    # The quiet zone is light, so with the default (dark terminal) it is drawn with ink.
    assert drawing.splitlines()[0] == "\u2588" * len(drawing.splitlines()[0])
    assert qr.render_terminal("hello", invert=True).splitlines()[0].strip() == ""


def test_svg_is_well_formed(tmp_path: Path) -> None:
    path = tmp_path / "code.svg"
    qr.write_svg(URIS[0], path, scale=5)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    width = int(float(root.attrib["width"]))
    # A version-4 code is 33 modules; with the quiet zone 41, times the scale.
    assert width % 5 == 0 and width // 5 >= 21 + 8
    assert any(el.tag.endswith("path") for el in root.iter())


def test_reads_a_code_inside_a_larger_screenshot(tmp_path: Path) -> None:
    code = tmp_path / "code.png"
    qr.write_png(URIS[0], code, scale=4)
    page = Image.new("RGB", (900, 700), (240, 240, 250))
    draw = ImageDraw.Draw(page)
    draw.text((20, 20), "Scan this code with your authenticator app", fill=(0, 0, 0))
    draw.rectangle([600, 50, 850, 120], fill=(30, 90, 200))
    with Image.open(code) as img:
        page.paste(img.convert("RGB"), (180, 150))
    shot = tmp_path / "shot.jpg"
    page.save(shot, quality=85)
    assert qr.read_image(shot) == [URIS[0]]


def test_transparent_background_reads(tmp_path: Path) -> None:
    modules = qr.terminal_modules(qr.render_terminal(URIS[0]))
    scale = 5
    img = Image.new("RGBA", (len(modules[0]) * scale, len(modules) * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1],
                               fill=(0, 0, 0, 255))
    path = tmp_path / "transparent.png"
    img.save(path)
    assert qr.read_image(path) == [URIS[0]]


def test_two_codes_in_one_image(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    qr.write_png(URIS[0], a, scale=4)
    qr.write_png(URIS[1], b, scale=4)
    with Image.open(a) as ia, Image.open(b) as ib:
        page = Image.new("L", (ia.width + ib.width + 40, max(ia.height, ib.height)), 255)
        page.paste(ia.convert("L"), (0, 0))
        page.paste(ib.convert("L"), (ia.width + 40, 0))
    both = tmp_path / "both.png"
    page.save(both)
    assert sorted(qr.read_image(both)) == sorted(URIS[:2])


def test_no_code_gives_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (255, 255, 255)).save(path)
    assert qr.read_image(path) == []


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(qr.QRImageError, match="not found"):
        qr.read_image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image")
    with pytest.raises(qr.QRImageError, match="cannot read image"):
        qr.read_image(junk)
    assert issubclass(qr.QRImageError, InvalidArgument)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="too long"):
        qr.render_terminal("x" * 8000)
    with pytest.raises(InvalidArgument, match="non-empty"):
        qr.render_terminal("")
    with pytest.raises(InvalidArgument, match="scale"):
        qr.write_png("x", tmp_path / "x.png", scale=0)


def test_missing_extras_name_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)
    with pytest.raises(MissingExtra, match=r"pyotp-hw\[qr\]"):
        qr.render_terminal("x")
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    with pytest.raises(MissingExtra, match="zxingcpp"):
        qr.read_image(tmp_path / "x.png")
