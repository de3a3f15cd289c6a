"""The whole 2-step story in headless Chromium, end to end over real processes: the site
(``pyotp-hw site serve``) calls the service (``pyotp-hw serve``, on SQLite with one worker or on
PostgreSQL with two) over HTTP; the service mails its notices to an aiosmtpd server run here;
the authenticator is the virtual token behind a real pcscd, used through ``pyotp-hw uri
read-qr`` (on a screenshot of the QR page), ``token add`` and ``token code``.

The oracles are independent of the site: pyotp for the secret in the QR code, the messages as
the SMTP server received them, the pages as the browser shows them, and WCAG's formulas in
:mod:`tests.site.a11y`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.message import EmailMessage

import pyotp
import pytest

from pyotp_hw.site.stack import Stack
from pyotp_hw.site.story import Browser, Person, Token
from tests.site.a11y import check_page

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(600)]

EMAIL = "alice@example.com"
PASSWORD = "correct horse battery staple"
OLD = "Example Site:alice@example.com"  # the token's name of the site's account
OLD_RENAMED = "Example Site (old):alice@example.com"
SEED = ("You have recently changed the 2 Step Verification settings for your account.",
        "At any point of time, you may view or change this setup from your security settings "
        "page.")
BY_APP = "The method of obtaining a security code is to use an authentication app."


def see(b: Browser, name: str) -> None:
    """Screenshot the page and check its accessibility basics."""
    b.shot(name)
    problems = check_page(b.driver)
    assert not problems, f"{name}: {problems}"


def body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


def check_notice(msg: EmailMessage, *, by_app: bool) -> str:
    assert msg["To"] == EMAIL
    assert "2 Step Verification" in msg["Subject"] and "Example Site" in msg["Subject"]
    text = body(msg)
    for sentence in SEED:
        assert sentence in text
    assert (BY_APP in text) == by_app
    html = msg.get_body(("html",))
    assert html is not None and SEED[0] in " ".join(str(html.get_content()).split())
    return text


def step_now() -> int:
    return int(time.time()) // 30


def fresh_step_code(token: Token, name: str, used_step: int, ahead_ok: bool) -> tuple[str, int]:
    """A code of the token for a step after ``used_step`` that the service accepts now, and
    that step. The service takes one step either side of its clock, shifted by the drift it
    learnt from the last accepted code (that code's step minus its clock's step). With
    ``ahead_ok`` that drift is known not to be negative, so the next step's code is taken
    without waiting; otherwise the clock has to pass ``used_step`` and the current code is
    used (it is inside the window whatever the drift, -1, 0 or +1)."""
    if ahead_ok:
        while step_now() < used_step:
            time.sleep(0.5)
        at = int(time.time()) + 30
    else:
        while step_now() <= used_step:
            time.sleep(0.5)
        at = int(time.time())
    return token.code(name, at=at), at // 30


def accepted(step: int) -> bool:
    """After the service accepted a code of ``step``: whether the drift it stored is known
    not to be negative (its clock, read during the request, is at most the test's now)."""
    return step >= step_now()


class Story:
    """What the phases of the story share: the stack, the token, the windows, the secrets and
    the last TOTP step each authenticator used."""

    def __init__(self, stack: Stack, token: Token, browser: Callable[[], Browser]) -> None:
        self.stack = stack
        self.token = token
        self.browser = browser
        self.b = browser()
        self.alice = Person(self.b, EMAIL, PASSWORD)
        self.other = self.alice  # the second window, opened by change_authenticator
        self.secret = ""
        self.step = 0  # the last step the current authenticator used
        self.ahead_ok = False  # whether the service's drift for it is known not to be negative
        self.code = ""  # the last code it gave


def sign_up_and_in(s: Story) -> None:
    b, alice = s.b, s.alice
    # Sign up, sign out, sign in: no code is asked while 2-step is off.
    b.go("/signup")
    see(b, "01-sign-up")
    alice.sign_up()
    assert b.path == "/profile" and b.heading() == "Profile and Settings"
    see(b, "02-profile")
    alice.sign_out()
    assert b.path == "/signin"
    see(b, "03-sign-in")
    alice.sign_in("wrong password here")
    assert b.errors() == ["The email address or the password is not right."]
    alice.sign_in()
    assert b.path == "/profile"


def set_up(s: Story) -> None:
    b, alice, token, stack = s.b, s.alice, s.token, s.stack
    # Password and Security -> Set Up -> re-authenticate -> the QR page.
    alice.open_security()
    assert "Off" in b.text()
    see(b, "04-security-off")
    b.press("Set Up")
    assert b.path == "/reauth" and b.heading() == "Confirm it is you"
    see(b, "05-reauthenticate")
    alice.reauthenticate()
    assert b.path == "/settings/security/two-step/qr"
    see(b, "06-qr")
    uri = token.read_qr(b.shot("06-qr"))  # type: ignore[arg-type]
    secret = pyotp.parse_uri(uri).secret
    assert alice.key_shown() == secret.rstrip("=")  # the key as text is the QR code's
    assert pyotp.parse_uri(uri).name == EMAIL and pyotp.parse_uri(uri).issuer == "Example Site"
    b.back()
    b.go("/settings/security/two-step/qr")  # back and forth: the same enrollment
    assert alice.key_shown() == secret.rstrip("=")

    # The token stores it; a malformed and a wrong code are refused, each with its message.
    add_step = step_now()
    first = token.add(uri)
    assert pyotp.TOTP(secret).verify(first, valid_window=1)
    alice.confirm("12ab56")
    assert b.errors()[0].startswith("A code is 6 digits, like 123456.")
    alice.confirm(f"{(int(first) + 1) % 1_000_000:06d}")
    assert "That code is not right" in b.errors()[0]
    see(b, "07-qr-wrong-code")
    alice.confirm(first)
    confirmed_step = step_now()
    # ``first`` is of a step from add_step to confirmed_step: the drift is 0 when they agree.
    s.ahead_ok = add_step == confirmed_step
    assert b.path == "/settings/security"
    assert any("2-step verification is on" in n for n in b.notes())
    assert "On" in b.text() and "Edit" in b.text()
    see(b, "08-security-on")
    b.back()  # back to the QR page: nothing lost, nothing done twice
    b.go("/settings/security/two-step/qr")
    assert b.path == "/settings/security" and "2-step verification is on." in b.notes()

    s.secret, s.step = secret, confirmed_step

    # The first notice.
    mail = stack.mailbox.wait(1)
    check_notice(mail[0], by_app=True)


def sign_in_with_code(s: Story) -> None:
    b, alice, token = s.b, s.alice, s.token
    # Sign out; signing in now asks for the code: the next one works, a replay is refused.
    alice.sign_out()
    alice.sign_in()
    assert b.path == "/signin/code"
    see(b, "09-code-prompt")
    code, signin_step = fresh_step_code(token, OLD, s.step, s.ahead_ok)
    alice.enter_code(code)
    # What the page said and where the clock stood, should the code be refused.
    assert b.path == "/profile", (b.errors(), b.notes(), s.step, s.ahead_ok, time.time())
    s.ahead_ok = accepted(signin_step)
    alice.sign_out()
    alice.sign_in()
    alice.enter_code(code)
    assert b.path == "/signin/code"
    assert "That code was already used" in b.errors()[0]
    see(b, "10-code-replayed")
    s.step = signin_step


def change_authenticator(s: Story) -> None:
    b, alice, token, stack = s.b, s.alice, s.token, s.stack
    # A second window signs in with the old token account while the change is pending.
    secret = s.secret
    old_code, old_step = fresh_step_code(token, OLD, s.step, s.ahead_ok)
    other = s.other = Person(s.browser(), EMAIL, PASSWORD)
    other.sign_in()
    other.enter_code(old_code)
    assert other.b.path == "/profile"  # the old authenticator works until the new is confirmed
    # alice, still at the code prompt
    alice_code, alice_step = fresh_step_code(token, OLD, old_step, accepted(old_step))
    alice.enter_code(alice_code)
    assert b.path == "/profile", (b.errors(), old_step, alice_step, time.time())

    # Change the authenticator to a second token account.
    alice.open_security()
    b.follow("Edit")
    see(b, "11-two-step-edit")
    b.press("Change authenticator")
    assert b.path == "/reauth"
    alice.reauthenticate()
    assert b.heading() == "Change your authenticator"
    see(b, "12-qr-change")
    uri2 = token.read_qr(b.shot("12-qr-change"))  # type: ignore[arg-type]
    secret2 = pyotp.parse_uri(uri2).secret
    assert secret2 != secret
    token.rename(OLD, OLD_RENAMED)
    add_step = step_now()
    new_first = token.add(uri2)
    alice.confirm(new_first)
    new_step = step_now()
    new_ahead_ok = add_step == new_step
    assert any("Your new authenticator is set up" in n for n in b.notes())
    mail = stack.mailbox.wait(2)
    check_notice(mail[1], by_app=True)
    assert "no longer gives valid codes" in body(mail[1])

    # The old account's codes stop working; the new one's work.
    other.sign_out()
    other.sign_in()
    stale = token.code(OLD_RENAMED, at=int(time.time()) + 30)
    assert pyotp.TOTP(secret).verify(stale, valid_window=1)  # a good code of the old secret
    other.enter_code(stale)
    assert other.b.path == "/signin/code"
    assert "That code is not right" in other.b.errors()[0]
    newer, _ = fresh_step_code(token, OLD, new_step, new_ahead_ok)
    other.enter_code(newer)
    assert other.b.path == "/profile", (other.b.errors(), new_step, new_ahead_ok, time.time())
    s.code = newer


def disable(s: Story) -> None:
    b, alice, stack, other, newer = s.b, s.alice, s.stack, s.other, s.code
    # Disable (in the second window, which has not re-authenticated): a replayed code is
    # refused; re-entering the password turns it off.
    o = other.b
    other.open_security()
    o.follow("Edit")
    o.follow("Turn off 2-Step Verification")
    see(o, "13-disable")
    other.enter_code(newer, "Code from the app", "Turn off with this code")
    assert "That code was already used" in o.errors()[0]
    o.press("Use my password instead")
    assert o.path == "/reauth"
    other.reauthenticate()
    assert o.path == "/settings/security/two-step/disable"
    o.press("Turn off (password just confirmed)")
    assert o.path == "/settings/security" and "Off" in o.text()
    assert any("2-step verification is off" in n for n in o.notes())
    see(o, "14-security-off-again")
    o.press("Sign out")
    mail = stack.mailbox.wait(3)
    text = check_notice(mail[2], by_app=False)
    assert "turned off" in text
    assert len(stack.mailbox.messages()) == 3

    # Signing in asks only for the password again.
    alice.sign_out()
    alice.sign_in()
    assert b.path == "/profile"


def test_the_whole_story(stack: Stack, token: Token, browser: Callable[[], Browser]) -> None:
    story = Story(stack, token, browser)
    for phase in (sign_up_and_in, set_up, sign_in_with_code, change_authenticator, disable):
        phase(story)
