"""The reference site's story, for `make demo` (played headless, each step printed) and for a
person (`make site`: the site served with the virtual token and an SMTP sink whose mails are
printed here).

    python scripts/site_demo.py           # play the story in headless Chromium
    python scripts/site_demo.py --serve   # serve it; open the printed address in a browser
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

EMAIL = "alice@example.com"
PASSWORD = "correct horse battery staple"  # noqa: S105 - the demo account's
ACCOUNT = "Example Site:alice@example.com"


def print_mail(msg: EmailMessage) -> None:
    """Show a mail the SMTP sink received."""
    part = msg.get_body(("plain",))
    text = "" if part is None else str(part.get_content()).strip()
    print(f"  [mail to {msg['To']}] {msg['Subject']}")
    for line in text.splitlines():
        print(f"  | {line}")


def chromium_missing() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    from pyotp_hw.site.story import CHROMEDRIVER, CHROMIUM

    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def _next_code(token: object, after_step: int) -> str:
    while int(time.time()) // 30 < after_step:
        time.sleep(0.5)
    return token.code(ACCOUNT, at=int(time.time()) + 30)  # type: ignore[attr-defined]


def play(env: dict[str, str], reader: str, say: Callable[[str], None] = print) -> None:
    """The whole story in headless Chromium, against a fresh stack, with the token on
    ``reader`` (reached with ``env``)."""
    from pyotp_hw.site.stack import Stack
    from pyotp_hw.site.story import Browser, Person, Token

    token = Token(env, reader)
    with tempfile.TemporaryDirectory() as tmp, \
            Stack(Path(tmp), env=env, on_message=print_mail) as stack, \
            Browser(stack.site_url, Path(tmp) / "shots") as b:
        say(f"service on {stack.service_url}, site on {stack.site_url}, "
            f"SMTP sink on port {stack.mailbox.port}")
        alice = Person(b, EMAIL, PASSWORD)
        alice.sign_up()
        say(f"sign up as {EMAIL}: {b.heading()}")
        alice.open_security()
        b.press("Set Up")
        say(f"Password and Security -> Set Up: {b.heading()}")
        alice.reauthenticate()
        shot = b.shot("qr")
        assert shot is not None
        uri = token.read_qr(shot)
        say(f"re-authenticated; the QR page shows the key {alice.key_shown()[:4]}... and a QR "
            "code, read from a screenshot with `pyotp-hw uri read-qr`")
        code = token.add(uri)
        say(f"`pyotp-hw token add` stored it on the virtual token; its code: {code}")
        alice.confirm(code)
        step = int(time.time()) // 30
        say(f"confirmed: {b.notes()[0]}")
        stack.mailbox.wait(1)
        alice.sign_out()
        alice.sign_in()
        say(f"signed out and in again: {b.heading()} (the site asks for the code)")
        code = _next_code(token, step)
        alice.enter_code(code)
        say(f"`pyotp-hw token code` gives {code}: signed in, on {b.heading()}")
        alice.sign_out()
        alice.sign_in()
        alice.enter_code(code)
        say(f"the same code again: refused ({b.errors()[0]})")
        alice.enter_code(_next_code(token, (int(time.time()) + 30) // 30))
        alice.open_security()
        b.follow("Edit")
        b.follow("Turn off 2-Step Verification")
        b.press("Use my password instead")
        alice.reauthenticate()
        b.press("Turn off (password just confirmed)")
        say(f"turned off after re-authentication: {b.notes()[0]}")
        stack.mailbox.wait(2)
        alice.sign_out()
        alice.sign_in()
        say(f"signing in asks only for the password again: {b.heading()}")


def serve_for_a_person() -> int:
    """The stack and a virtual token until Ctrl-C; the mails are printed as they arrive."""
    from pyotp_hw.site.stack import Stack
    from pyotp_hw.token.rig import PcscRig

    with PcscRig() as rig, tempfile.TemporaryDirectory() as tmp:
        rig.start_token()
        env = rig.env()
        with Stack(Path(tmp), env=env, on_message=print_mail) as stack:
            sock = env.get("PCSCLITE_CSOCK_NAME")
            prefix = f"PCSCLITE_CSOCK_NAME={sock} " if sock else ""
            print(f"""
The site:      {stack.site_url}   (sign up, then Profile and Settings -> Password and Security)
The service:   {stack.service_url}
Notice mails:  printed here as the SMTP sink (port {stack.mailbox.port}) receives them.
Your token:    the virtual token on "{rig.reader(0)}"; from another terminal:
  save a screenshot of the QR page as qr.png, then
    {prefix}pyotp-hw token add --qr qr.png
    {prefix}pyotp-hw token code
  (or type the key the page shows into any authenticator app).
Ctrl-C stops everything.""", flush=True)
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                print("\nstopped")
    return 0


def main() -> int:
    """Play the story, or serve the site for a person with --serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve the site for a person")
    args = parser.parse_args()
    if args.serve:
        return serve_for_a_person()
    why = chromium_missing()
    if why:
        print(f"cannot play the site story: {why}", file=sys.stderr)
        return 1
    from pyotp_hw.token.rig import PcscRig

    with PcscRig() as rig:
        rig.start_token()
        play(rig.env(), rig.reader(0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
