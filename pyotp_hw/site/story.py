"""The site's story played in a real browser: headless Chromium driven by selenium (Debian's
``chromium`` and ``chromium-driver``; nothing is downloaded), and the person's hardware token
driven by the ``pyotp-hw`` command (``uri read-qr`` on a screenshot, ``token add``, ``token
code``) through a PC/SC rig. ``make demo`` and the end-to-end tests use these steps.

Each step does what a person does (fill labelled fields, press buttons by their words) and
returns what a person sees; checking it is the caller's job.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OTPError

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

__all__ = ["Browser", "Person", "Token", "StoryError", "CHROMIUM", "CHROMEDRIVER"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class StoryError(OTPError, RuntimeError):
    """A step could not be done (a missing field or button, a failed command)."""


class Browser:
    """Headless Chromium on ``base_url``; screenshots go to ``shots`` (a folder) when given."""

    def __init__(self, base_url: str, shots: Path | None = None, *,
                 width: int = 1000, height: int = 1100) -> None:
        from selenium import webdriver

        self.base_url = base_url.rstrip("/")
        self.shots = shots
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--force-device-scale-factor=1",
                     "--no-first-run", "--disable-extensions", "--disable-sync",
                     "--password-store=basic"):
            options.add_argument(flag)
        from selenium.common.exceptions import SessionNotCreatedException

        for attempt in range(3):  # Chromium can miss chromedriver's start-up deadline under load
            try:
                service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
                self.driver: WebDriver = webdriver.Chrome(options=options, service=service)
                break
            except SessionNotCreatedException:
                if attempt == 2:
                    raise
                time.sleep(1.0)
        self.driver.set_page_load_timeout(60)

    def close(self) -> None:
        """Quit the browser."""
        self.driver.quit()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ looking

    def go(self, path: str) -> None:
        """Open ``path`` of the site."""
        self.driver.get(self.base_url + path)
        self._wait_loaded(time.monotonic() + 30)

    @property
    def path(self) -> str:
        """The current page's path."""
        url: str = self.driver.current_url
        return url[len(self.base_url):] if url.startswith(self.base_url) else url

    def heading(self) -> str:
        """The page's h1."""
        return str(self._one("css selector", "h1").text)

    def notes(self) -> list[str]:
        """The messages on the page (confirmations and errors)."""
        return [e.text for e in self.driver.find_elements("css selector", ".info, .error")]

    def errors(self) -> list[str]:
        """The error messages on the page."""
        return [e.text for e in self.driver.find_elements("css selector", ".error")]

    def text(self) -> str:
        """The visible text of the page."""
        return str(self._one("css selector", "body").text)

    def shot(self, name: str) -> Path | None:
        """Save a screenshot as ``NAME.png`` in the shots folder (None without one)."""
        if self.shots is None:
            return None
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    # ------------------------------------------------------------------ doing

    def _one(self, by: str, what: str | None) -> WebElement:
        found = self.driver.find_elements(by, what)
        if not found:
            raise StoryError(f"{what!r} is not on the page {self.path}")
        return found[0]

    def fill(self, label: str, value: str) -> None:
        """Type ``value`` into the field whose label reads ``label``."""
        lab = self._one("xpath", f"//label[normalize-space()={_xpath_text(label)}]")
        field = self._one("id", lab.get_attribute("for"))
        field.clear()
        field.send_keys(value)

    def press(self, words: str) -> None:
        """Press the button reading ``words`` (and wait for the next page)."""
        button = self._one("xpath", f"//button[normalize-space()={_xpath_text(words)}]")
        old = self.driver.find_element("css selector", "html")
        button.click()
        self._wait_stale(old)

    def follow(self, words: str) -> None:
        """Follow the link reading ``words``."""
        link = self._one("xpath", f"//a[normalize-space()={_xpath_text(words)}]")
        old = self.driver.find_element("css selector", "html")
        link.click()
        self._wait_stale(old)

    def back(self) -> None:
        """The browser's back button."""
        self.driver.back()
        self._wait_loaded(time.monotonic() + 30)

    def _wait_stale(self, element: WebElement, timeout: float = 30.0) -> None:
        from selenium.common.exceptions import (
            StaleElementReferenceException,
            WebDriverException,
        )

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                element.tag_name  # noqa: B018 - raises once the page was replaced
            except StaleElementReferenceException:
                self._wait_loaded(end)
                return
            except WebDriverException as exc:
                # Chromium 156's driver sometimes reports a replaced page's node as an inspector
                # error instead of a stale element: the same fact in other words.
                if "does not belong to the document" not in str(exc):
                    raise
                self._wait_loaded(end)
                return
            time.sleep(0.05)
        raise StoryError(f"no new page after {timeout} s on {self.path}")


    def _wait_loaded(self, end: float) -> None:
        while self.driver.execute_script("return document.readyState") != "complete":
            if time.monotonic() > end:
                raise StoryError(f"the page {self.path} did not finish loading")
            time.sleep(0.05)


def _xpath_text(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    parts = text.split("'")
    return "concat(" + ", \"'\", ".join(f"'{p}'" for p in parts) + ")"


class Token:
    """The person's authenticator: a token reached through PC/SC with environment ``env``
    (a rig's), used only through the ``pyotp-hw`` command, as a person would."""

    def __init__(self, env: Mapping[str, str], reader: str | None = None) -> None:
        self.env = dict(env)
        self.reader = reader

    def run(self, *args: str) -> str:
        """``pyotp-hw ARGS``'s output (StoryError when it fails)."""
        argv = [sys.executable, "-m", "pyotp_hw", *args]
        if args and args[0] == "token" and self.reader is not None:
            argv[5:5] = ["--reader", self.reader]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60,  # noqa: S603
                             env=self.env, check=False)
        if out.returncode != 0:
            raise StoryError(f"pyotp-hw {' '.join(args[:2])} failed: {out.stderr.strip()}")
        return out.stdout

    def read_qr(self, image: Path) -> str:
        """The otpauth URI in the QR code of a screenshot (``pyotp-hw uri read-qr``)."""
        uris = [line for line in self.run("uri", "read-qr", str(image)).splitlines()
                if line.startswith("otpauth://")]
        if len(uris) != 1:
            raise StoryError(f"{len(uris)} otpauth QR codes in {image}")
        return uris[0]

    def add(self, uri: str) -> str:
        """Store the account of ``uri`` (``pyotp-hw token add``); the code it prints."""
        out = self.run("token", "add", uri)
        for line in out.splitlines():
            if "code to confirm:" in line:
                return line.split("code to confirm:", 1)[1].split()[0]
        raise StoryError("token add printed no code")

    def code(self, name: str, at: int | None = None) -> str:
        """``pyotp-hw token code NAME`` (for ``--time at`` when given)."""
        extra = [] if at is None else ["--time", str(at)]
        return self.run("token", "code", name, *extra).strip()

    def rename(self, old: str, new: str) -> None:
        """``pyotp-hw token rename OLD NEW``."""
        self.run("token", "rename", old, new)


class Person:
    """A person with an account, using the site in ``browser``: each method is one step of the
    story, done through the pages' labels, links and buttons."""

    def __init__(self, browser: Browser, email: str, password: str) -> None:
        self.b = browser
        self.email = email
        self.password = password

    def sign_up(self) -> None:
        """Create the account (from the sign-up page)."""
        self.b.go("/signup")
        self.b.fill("Email address", self.email)
        self.b.fill("Password (at least 10 characters)", self.password)
        self.b.fill("The same password again", self.password)
        self.b.press("Create account")

    def sign_in(self, password: str | None = None) -> None:
        """Email and password on the sign-in page."""
        self.b.go("/signin")
        self.b.fill("Email address", self.email)
        self.b.fill("Password", self.password if password is None else password)
        self.b.press("Sign in")

    def enter_code(self, code: str, label: str = "Security code", button: str = "Verify") -> None:
        """Type a code into the form on the page and send it."""
        self.b.fill(label, code)
        self.b.press(button)

    def sign_out(self) -> None:
        """The header's Sign out button."""
        self.b.press("Sign out")

    def open_security(self) -> None:
        """Profile and Settings, then Password and Security."""
        self.b.go("/profile")
        self.b.follow("Password and Security")

    def reauthenticate(self) -> None:
        """Re-enter email and password on the confirmation page."""
        self.b.fill("Email address", self.email)
        self.b.fill("Password", self.password)
        self.b.press("Continue")

    def confirm(self, code: str) -> None:
        """The QR page's confirmation form."""
        self.enter_code(code, "Code from the app", "Confirm")

    def key_shown(self) -> str:
        """The key printed on the QR page, without its spaces."""
        return str(self.b._one("id", "key").text).replace(" ", "")
