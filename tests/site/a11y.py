"""Accessibility basics checked on the page a selenium driver shows, in Python over the DOM:

- the document has a language and a title, and one h1;
- every visible form field has a label with text (``<label for>``) or an ``aria-label``;
  every image has alt text;
- the focus order: pressing Tab from the top visits every focusable element once, in the order
  of the document, and each shows a focus indicator (an outline) while focused;
- contrast: every element holding text has a WCAG 2 contrast ratio of at least 4.5:1 (3:1 for
  large text) between its computed colour and the first opaque background behind it.

WCAG's relative luminance and ratio are computed here from the computed styles (no axe-core:
npm is out of reach), so the oracle is the formula, not the site.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["check_page", "contrast_ratio", "luminance"]

_RGB = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")

# Every element with its own text: its colour, the first opaque background behind it, its size.
_TEXT_STYLES = """
const out = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const seen = new Set();
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (!node.textContent.trim()) continue;
  const el = node.parentElement;
  if (seen.has(el)) continue;
  seen.add(el);
  const st = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  if (st.visibility === 'hidden' || st.display === 'none' || box.width === 0
      || box.right < 0 || box.bottom < 0) continue;
  let bg = 'rgba(0, 0, 0, 0)';
  for (let a = el; a; a = a.parentElement) {
    const c = getComputedStyle(a).backgroundColor;
    if (!/rgba\\(.*,\\s*0\\)$/.test(c) && c !== 'transparent') { bg = c; break; }
  }
  out.push([el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''),
            node.textContent.trim().slice(0, 40), st.color, bg,
            parseFloat(st.fontSize), parseInt(st.fontWeight, 10)]);
}
return out;
"""

# The elements Tab should visit, in document order (tabindex not negative, rendered, enabled).
_FOCUSABLE = """
const sel = 'a[href], button, input, select, textarea, [tabindex]';
return Array.from(document.querySelectorAll(sel)).filter(e => {
  const st = getComputedStyle(e);
  return e.tabIndex >= 0 && !e.disabled && e.type !== 'hidden'
      && st.display !== 'none' && st.visibility !== 'hidden';
});
"""

_FIELDS = """
return Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => e.type !== 'hidden')
  .map(e => {
    const lab = e.id ? document.querySelector('label[for="' + e.id + '"]') : null;
    return [e.name || e.id, (lab ? lab.textContent.trim() : ''),
            e.getAttribute('aria-label') || ''];
  });
"""


def _rgb(text: str) -> tuple[float, float, float, float]:
    m = _RGB.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"cannot read the colour {text!r}")
    r, g, b, a = m.groups()
    return float(r), float(g), float(b), 1.0 if a is None else float(a)


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""
    def channel(c: float) -> float:
        s = c / 255.0
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _blend(fg: tuple[float, float, float, float], bg: tuple[float, float, float, float]
           ) -> tuple[float, float, float]:
    a = fg[3]
    return (fg[0] * a + bg[0] * (1 - a), fg[1] * a + bg[1] * (1 - a), fg[2] * a + bg[2] * (1 - a))


def _contrast_problems(driver: Any) -> list[str]:
    problems = []
    for where, text, color, background, size, weight in driver.execute_script(_TEXT_STYLES):
        bg = _rgb(background)
        if bg[3] == 0:
            bg = (255.0, 255.0, 255.0, 1.0)  # nothing painted: the canvas is white
        fg = _blend(_rgb(color), bg)
        large = size >= 24 or (size >= 18.66 and weight >= 700)
        need = 3.0 if large else 4.5
        ratio = contrast_ratio(fg, bg[:3])
        if ratio < need:
            problems.append(f"contrast {ratio:.2f} < {need} for {where} {text!r}")
    return problems


def _focus_problems(driver: Any) -> list[str]:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    expected = driver.execute_script(_FOCUSABLE)
    driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur();"
                          "document.body.focus();")
    visited = []
    problems = []
    for _ in range(len(expected)):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        el = driver.switch_to.active_element
        visited.append(el)
        outline = driver.execute_script(
            "const s = getComputedStyle(arguments[0]);"
            "return [s.outlineStyle, parseFloat(s.outlineWidth)];", el)
        if outline[0] == "none" or outline[1] <= 0:
            problems.append(f"no focus indicator on {el.tag_name} {el.text[:30]!r}")
    if [e.id for e in visited] != [e.id for e in expected]:  # selenium's element ids
        names = [f"{e.tag_name}:{(e.text or e.get_attribute('name') or '')[:20]}"
                 for e in visited]
        want = [f"{e.tag_name}:{(e.text or e.get_attribute('name') or '')[:20]}"
                for e in expected]
        problems.append(f"focus order {names} is not the document's {want}")
    return problems


def check_page(driver: Any) -> list[str]:
    """Every accessibility problem found on the current page (an empty list: none)."""
    problems = []
    if not driver.execute_script("return document.documentElement.lang"):
        problems.append("the html element has no lang")
    if not driver.title.strip():
        problems.append("the page has no title")
    h1 = driver.find_elements("css selector", "h1")
    if len(h1) != 1 or not h1[0].text.strip():
        problems.append(f"{len(h1)} h1 headings (one with text expected)")
    for name, label, aria in driver.execute_script(_FIELDS):
        if not label and not aria:
            problems.append(f"the field {name!r} has no label")
    for img in driver.find_elements("css selector", "img"):
        if not (img.get_attribute("alt") or "").strip():
            problems.append(f"an image without alt text: {img.get_attribute('src')}")
    problems += _contrast_problems(driver)
    problems += _focus_problems(driver)
    return problems
