"""The site over plain HTTP (no browser): cookie flags, CSRF, double submits, the throttling
message and an unreachable service. Codes come from pyotp on the key the QR page shows as text
(an oracle independent of the site and the service)."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyotp
import pytest

from pyotp_hw.site.stack import Stack

EMAIL = "bob@example.com"
PASSWORD = "a long enough password"


class Web:
    """A cookie-keeping HTTP client that follows redirects, as a browser without JS does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.headers: dict[str, str] = {}
        self.url = ""

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.base + path, data=data))

    def _open(self, req: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(req, timeout=30) as r:
                self.headers = dict(r.headers)
                self.url = r.url
                return int(r.status), r.read().decode()
        except urllib.error.HTTPError as e:
            self.url = e.url
            return int(e.code), e.read().decode()

    def csrf(self, path: str) -> str:
        _, page = self.get(path)
        m = re.search(r'name="csrf" value="([^"]+)"', page)
        assert m, page
        return m.group(1)


@pytest.fixture
def site(tmp_path: Path) -> Stack:
    s = Stack(tmp_path)
    s.start()
    yield s  # type: ignore[misc]
    s.stop()


def key_of(page: str) -> str:
    """The key the QR page shows as text."""
    m = re.search(r'id="key">([A-Z2-7 ]+)<', page)
    assert m, page
    return m.group(1).replace(" ", "")


def sign_up(web: Web) -> None:
    csrf = web.csrf("/signup")
    status, _ = web.post("/signup", {"csrf": csrf, "email": EMAIL, "password": PASSWORD,
                                      "password2": PASSWORD})
    assert status == 200 and web.url.endswith("/profile")


def enable(web: Web) -> None:
    """Set Up, re-authenticate, confirm with pyotp's code, then send the confirmation again."""
    csrf = web.csrf("/settings/security")
    web.post("/settings/security/two-step/setup", {"csrf": csrf})
    status, page = web.post("/reauth", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
    assert web.url.endswith("/two-step/qr"), page
    totp = pyotp.TOTP(key_of(page))
    now = time.time()
    form = {"csrf": csrf, "code": totp.at(now)}
    status, page = web.post("/settings/security/two-step/confirm", form)
    assert web.url.endswith("/settings/security") and "2-step verification is on" in page
    # The same form again (a double click, or back and resend): nothing lost, nothing new.
    status, page = web.post("/settings/security/two-step/confirm", form)
    assert status == 200 and web.url.endswith("/settings/security")
    assert "2-step verification is on." in page and 'class="error"' not in page


def test_cookie_flags_and_csrf(site: Stack) -> None:
    web = Web(site.site_url)
    web.get("/signin")
    cookie = web.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "site_session=" in cookie
    # A form without its token does nothing.
    status, page = web.post("/signup", {"email": EMAIL, "password": PASSWORD,
                                         "password2": PASSWORD})
    assert status == 403 and "nothing was done" in page
    status, page = web.post("/signup", {"csrf": "forged", "email": EMAIL,
                                         "password": PASSWORD, "password2": PASSWORD})
    assert status == 403
    csrf = web.csrf("/signin")
    status, page = web.post("/signin", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
    assert status == 400 and "not right" in page  # no account was made


def test_double_submit_of_sign_up_keeps_the_account(site: Stack) -> None:
    web = Web(site.site_url)
    csrf = web.csrf("/signup")
    form = {"csrf": csrf, "email": EMAIL, "password": PASSWORD, "password2": PASSWORD}
    assert web.post("/signup", form)[0] == 200
    status, page = web.post("/signup", form)
    assert status == 400 and "exists" in page
    other = Web(site.site_url)
    csrf = other.csrf("/signin")
    other.post("/signin", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
    assert other.url.endswith("/profile")


def test_setup_twice_shows_the_same_key_and_codes_get_their_messages(site: Stack) -> None:
    web = Web(site.site_url)
    sign_up(web)
    csrf = web.csrf("/settings/security")
    web.post("/settings/security/two-step/setup", {"csrf": csrf})
    _, first = web.post("/reauth", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
    _, again = web.post("/settings/security/two-step/setup", {"csrf": csrf})  # double submit
    assert key_of(first) == key_of(again)
    totp = pyotp.TOTP(key_of(first))
    web.post("/settings/security/two-step/confirm", {"csrf": csrf, "code": totp.now()})
    assert "On: signing in asks for a code" in web.get("/settings/security")[1]

    web.post("/signout", {"csrf": csrf})
    csrf = web.csrf("/signin")
    web.post("/signin", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
    assert web.url.endswith("/signin/code")
    status, page = web.post("/signin/code", {"csrf": csrf, "code": "12 34"})
    assert status == 400 and "A code is 6 digits" in page
    good = totp.at(time.time() + 30)
    wrong = f"{(int(good) + 500_000) % 1_000_000:06d}"
    seen = []
    for _ in range(8):
        status, page = web.post("/signin/code", {"csrf": csrf, "code": wrong})
        assert status == 400
        seen.append("Too many wrong codes" in page)
        if seen[-1]:
            break
    assert seen[0] is False and seen[-1] is True, seen  # wrong first, then throttled
    # After the delay the right code still signs in (the failures did not lose the account).
    deadline = time.time() + 60
    while True:
        status, page = web.post("/signin/code", {"csrf": csrf,
                                                 "code": totp.at(time.time() + 30)})
        if web.url.endswith("/profile") or time.time() > deadline:
            break
        assert "Too many wrong codes" in page or "already used" in page
        time.sleep(1.0)
    assert web.url.endswith("/profile")


def test_double_submit_of_confirm_and_an_unreachable_service(site: Stack) -> None:
    web = Web(site.site_url)
    sign_up(web)
    enable(web)
    site.stop_service()
    csrf = web.csrf("/profile")
    web.post("/signout", {"csrf": csrf})
    csrf = web.csrf("/signin")
    status, page = web.post("/signin", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
    assert status == 503 and "cannot be reached" in page
    assert "Traceback" not in page
    # Nobody got in without the second step.
    status, page = web.get("/profile")
    assert web.url.endswith("/signin")


def test_a_stale_reauthentication_is_asked_again_and_the_change_is_kept(tmp_path: Path) -> None:
    with Stack(tmp_path, site_args=["--reauth-seconds", "10"]) as site:
        web = Web(site.site_url)
        sign_up(web)
        enable(web)
        csrf = web.csrf("/settings/security/two-step")
        time.sleep(11)
        _, page = web.post("/settings/security/two-step/setup", {"csrf": csrf})
        assert web.url.endswith("/reauth")  # the enabling's re-authentication has gone stale
        _, page = web.post("/reauth", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
        assert web.url.endswith("/two-step/qr") and "Change your authenticator" in page
        new = pyotp.TOTP(key_of(page))
        time.sleep(11)  # longer than the re-authentication counts
        _, page = web.post("/settings/security/two-step/confirm",
                           {"csrf": csrf, "code": new.now()})
        assert web.url.endswith("/reauth") and "enter your email address and password" in page
        _, page = web.post("/reauth", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
        assert web.url.endswith("/two-step/qr") and key_of(page) == new.secret  # the same one
        _, page = web.post("/settings/security/two-step/confirm",
                           {"csrf": csrf, "code": new.at(time.time() + 30)})
        assert "Your new authenticator is set up" in page
        # Someone else's password does not re-authenticate this session.
        other = Web(site.site_url)
        c2 = other.csrf("/signup")
        other.post("/signup", {"csrf": c2, "email": "eve@example.com",
                               "password": "eve's long password", "password2":
                               "eve's long password"})
        web.post("/settings/security/two-step/setup", {"csrf": csrf})
        status, page = web.post("/reauth", {"csrf": csrf, "email": "eve@example.com",
                                            "password": "eve's long password"})
        assert status == 400 and "not right" in page


def test_disable_with_a_current_code_and_its_double_submit(site: Stack) -> None:
    web = Web(site.site_url)
    sign_up(web)
    csrf = web.csrf("/settings/security")
    web.post("/settings/security/two-step/setup", {"csrf": csrf})
    _, page = web.post("/reauth", {"csrf": csrf, "email": EMAIL, "password": PASSWORD})
    totp = pyotp.TOTP(key_of(page))
    status, image = web.get("/settings/security/two-step/qr.svg")
    assert status == 200 and image.lstrip().startswith(("<?xml", "<svg"))
    assert web.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in web.headers["content-security-policy"]
    web.post("/settings/security/two-step/confirm", {"csrf": csrf, "code": totp.now()})
    assert web.get("/settings/security/two-step/qr.svg")[0] == 404  # nothing pending now
    assert Web(site.site_url).get("/settings/security/two-step/qr.svg")[0] == 404  # anonymous
    form = {"csrf": csrf, "method": "code", "code": totp.at(time.time() + 30)}
    _, page = web.post("/settings/security/two-step/disable", form)
    assert web.url.endswith("/settings/security")
    assert "2-step verification is off: signing in asks only for your password" in page
    _, page = web.post("/settings/security/two-step/disable", form)  # sent again
    assert web.url.endswith("/settings/security") and "2-step verification is off." in page
    assert 'class="error"' not in page
    assert len(site.mailbox.wait(2)) == 2  # enabled, disabled: not a second "disabled"
    time.sleep(1.5)
    assert len(site.mailbox.messages()) == 2
