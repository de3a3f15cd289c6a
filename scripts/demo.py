"""The main job, end to end on this machine (`make demo`).

1. Codes: generate and verify TOTP/HOTP codes, checked against pyotp.
2. Bulk: a quick bulk-vs-pyotp comparison, as ratios measured in this one process.
3. Token: the virtual token behind a private pcscd; an account added from its URI, its codes read
   over PC/SC and checked against the software implementation.
4. Site: a verifier on SQLite begins an enrollment and shows its QR code, the token stores the
   account from the URI, its code confirms the enrollment, its next code signs in, a replay is
   refused.
5. The reference site in headless Chromium: sign up, Set Up after re-entering the password, the
   QR code read from a screenshot into the token, the notice mails at an SMTP sink, the code
   asked at sign-in, a replay refused, 2-step turned off (scripts/site_demo.py; `make site`
   serves it for a person).
"""

from __future__ import annotations

import sys
import time
from array import array


def heading(text: str) -> None:
    """Print a section heading."""
    print(f"\n== {text}")


def codes() -> None:
    """Generate and verify codes, and compare them with pyotp."""
    import pyotp

    import pyotp_hw

    heading("1. Codes")
    secret = pyotp_hw.random_base32()
    totp = pyotp_hw.TOTP(secret, name="alice@example.com", issuer="Example")
    now = int(time.time())
    code = totp.at(now)
    print(f"TOTP now:            {code}   (pyotp says {pyotp.TOTP(secret).at(now)})")
    print(f"verify(code):        {totp.verify(code, now)}")
    print(f"verify(code, +90 s): {totp.verify(code, now + 90, valid_window=1)}  (outside +-1 step)")
    hotp = pyotp_hw.HOTP(secret)
    print(f"HOTP 0..4:           {[hotp.at(i) for i in range(5)]}")
    assert code == pyotp.TOTP(secret).at(now)
    assert [hotp.at(i) for i in range(5)] == [pyotp.HOTP(secret).at(i) for i in range(5)]


def bulk_comparison() -> None:
    """Time bulk HOTP against pyotp in this process and print the ratio."""
    import pyotp

    from pyotp_hw import bulk

    heading("2. Bulk HOTP-SHA1 against pyotp (one thread, same process)")
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # noqa: S105 - RFC 4226 test secret
    ref = pyotp.HOTP(secret)
    n_ref = 20_000
    start = time.perf_counter()
    expected = [ref.at(i) for i in range(n_ref)]
    ref_ns = (time.perf_counter() - start) / n_ref * 1e9
    counters = array("Q", range(1_000_000))
    with bulk.KeyTable([secret]) as table:
        start = time.perf_counter()
        got = bulk.hotp(table, counters, threads=1)
        ours_ns = (time.perf_counter() - start) / len(counters) * 1e9
    assert [str(c).zfill(6) for c in got[:n_ref]] == expected
    print(f"pyotp HOTP.at:            {ref_ns:8.0f} ns/code")
    kernel = bulk.kernel_name()
    print(f"bulk.hotp ({kernel}): {ours_ns:8.1f} ns/code   -> {ref_ns / ours_ns:.0f}x pyotp")


def token_and_site_demo() -> None:
    """The virtual token behind a private pcscd, then the whole enrollment and sign-in story."""
    import subprocess
    import tempfile
    from pathlib import Path

    import pyotp

    import pyotp_hw
    from pyotp_hw.token import open_token
    from pyotp_hw.token.rig import PcscRig
    from pyotp_hw.uri import build
    from pyotp_hw.verifier import KeyFile, Verifier

    heading("3. Hardware token (the virtual token over a real pcscd + vpcd, through pyscard)")
    secret = pyotp_hw.random_base32()
    uri = build("totp", secret, account="alice@example.com", issuer="Example")
    with PcscRig() as rig, tempfile.TemporaryDirectory() as tmp:
        rig.start_token()  # `pyotp-hw token virtual`, state in memory only
        added = subprocess.run(
            [sys.executable, "-m", "pyotp_hw", "token", "add", "-"], input=uri,
            env=rig.env(), capture_output=True, text=True, check=True,
        )
        print(added.stdout.strip())
        with open_token(rig.reader()) as tok:
            now = int(time.time())
            for credential, code in tok.calculate_all(for_time=now).items():
                assert code is not None
                assert pyotp_hw.TOTP(secret).verify(code.value, for_time=now)
                assert code.value == pyotp.TOTP(secret).at(now)
                print(f"token code {credential.id}: {code.value} "
                      "(equal to the software TOTP and to pyotp)")

            heading("4. A site (verifier on SQLite) enrolls the token, then signs the user in")
            work = Path(tmp)
            site = Verifier.open(f"sqlite:///{work / 'site.db'}",
                                 key=KeyFile.create(work / "verifier.key"))
            site.on_event(lambda e: print(f"  [event -> notice to {e.user}] {e.kind}"))
            enrollment = site.begin_enrollment("bob", issuer="Example", name="bob@example.com")
            print("The site shows this QR code (pending until confirmed):")
            print(enrollment.qr())
            tok.put(enrollment.uri)  # the token stores the account from the URI
            name = "Example:bob@example.com"
            now = int(time.time())
            first = tok.calculate(name, for_time=now).value
            confirmed = site.confirm_enrollment("bob", first, now=now)
            print(f"confirm with the token's code {first}: ok={confirmed.ok}")
            assert confirmed.ok
            later = now + 30  # the confirmation used up its step: sign in one step later
            code = tok.calculate(name, for_time=later).value
            signed_in = site.verify("bob", code, now=later)
            print(f"sign in with the token's next code {code}: ok={signed_in.ok}")
            replay = site.verify("bob", code, now=later)
            print(f"the same code again: ok={replay.ok} (log: {replay.reason})")
            assert signed_in.ok and not replay.ok

        site_story(rig)


def site_story(rig: object) -> None:
    """The reference site's story in headless Chromium, each step printed."""
    import site_demo  # scripts/site_demo.py, beside this file

    heading("5. The reference site in headless Chromium (service + site + SMTP sink)")
    why = site_demo.chromium_missing()
    if why:
        print(f"skipped: {why}")
        return
    site_demo.play(rig.env(), rig.reader(0),  # type: ignore[attr-defined]
                   lambda text: print(f"- {text}"))


def main() -> int:
    """Run every step of the demo."""
    codes()
    bulk_comparison()
    token_and_site_demo()
    print("\nDemo finished.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
