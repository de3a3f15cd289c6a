"""The accessibility checker finds what it should: each defect planted in a page is reported,
and a clean page passes. The ratios are checked against WCAG's published examples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.site.a11y import check_page, contrast_ratio

pytest.importorskip("selenium")

from pyotp_hw.site.story import CHROMEDRIVER, CHROMIUM, Browser

GOOD = """<!DOCTYPE html><html lang="en"><head><title>t</title>
<style>:focus-visible { outline: 3px solid #c2410c; }</style></head><body>
<h1>Title</h1><form><label for="a">Name</label><input id="a" name="a">
<button type="submit">Go</button></form><a href="#x">Link</a></body></html>"""


def test_contrast_formula_matches_wcag() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (255, 255, 255)) == pytest.approx(1.0)
    # #767676 on white is the lightest grey that passes 4.5:1 (4.54).
    assert contrast_ratio((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver are not installed")
    b = Browser("file://")
    yield b  # type: ignore[misc]
    b.close()


def _load(browser: Browser, tmp: Path, html: str) -> list[str]:
    page = tmp / "page.html"
    page.write_text(html)
    browser.driver.get(page.as_uri())
    return check_page(browser.driver)


def test_clean_page_passes(browser: Browser, tmp_path: Path) -> None:
    assert _load(browser, tmp_path, GOOD) == []


@pytest.mark.parametrize(("change", "expected"), [
    (('<label for="a">Name</label>', ""), "has no label"),
    (('<h1>Title</h1>', '<h1 style="color:#aaaaaa">Title</h1>'), "contrast"),
    (("outline: 3px solid #c2410c;", "outline: none;"), "no focus indicator"),
    (('<a href="#x">Link</a>', '<a href="#x" tabindex="1">Link</a>'), "focus order"),
    (('lang="en"', ""), "no lang"),
    (("<h1>Title</h1>", ""), "h1"),
    (("<a href", '<img src="x.png"><a href'), "without alt"),
])
def test_each_defect_is_found(browser: Browser, tmp_path: Path, change: tuple[str, str],
                              expected: str) -> None:
    old, new = change
    assert old in GOOD
    problems = _load(browser, tmp_path, GOOD.replace(old, new))
    assert any(expected in p for p in problems), problems
