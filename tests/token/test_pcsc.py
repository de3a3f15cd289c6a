"""The client over the real stack: pyscard -> pcscd -> vpcd -> the virtual token process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest

import pyotp_hw
from pyotp_hw.cli._common import error_message, exit_code_for
from pyotp_hw.token import (
    MultipleTokensFound,
    NoOathApplet,
    NoTokenFound,
    NotSupportedByToken,
    OathSession,
    ReaderNotFound,
    TouchTimeout,
    WrongPassword,
    list_readers,
    open_token,
)
from pyotp_hw.token.pcsc import PcscConnection

from .helpers import SECRET_B32, Recorder

pytestmark = pytest.mark.pcsc


def uri(label: str, secret: str = SECRET_B32, kind: str = "totp", **params: object) -> str:
    query = "&".join([f"secret={secret}"] + [f"{k}={v}" for k, v in params.items()])
    return f"otpauth://{kind}/{label}?{query}"


def test_readers_and_discovery(rig: Any, token: Any) -> None:
    readers = {r.name: r for r in list_readers()}
    assert readers[rig.reader(0)].oath and readers[rig.reader(0)].card_present
    assert not readers[rig.reader(1)].card_present
    with open_token() as tok:  # the only reader holding an OATH token
        assert tok.reader == rig.reader(0)
        assert tok.info.version == (5, 7, 2) and tok.info.reader == rig.reader(0)
    with open_token("virtual 00 00") as tok:  # a part of the name is enough
        assert tok.reader == rig.reader(0)
    with pytest.raises(ReaderNotFound, match="no reader matches") as exc:
        open_token("no such reader")
    assert exit_code_for(exc.value) == 3
    with pytest.raises(NoTokenFound, match="no card") as empty:
        open_token(rig.reader(1))
    assert exit_code_for(empty.value) == 3


def test_several_tokens_must_be_chosen(rig: Any, vtoken: Callable[..., Any]) -> None:
    vtoken(slot=0)
    vtoken(slot=1)
    with pytest.raises(MultipleTokensFound) as exc:
        open_token()
    assert exc.value.readers == [rig.reader(0), rig.reader(1)]
    assert rig.reader(0) in str(exc.value) and "--reader" in error_message(exc.value)
    with open_token(rig.reader(1)) as tok:
        assert tok.reader == rig.reader(1)


def test_codes_over_pcsc_match_the_core_and_pyotp(token: Any) -> None:
    with open_token() as tok:
        tok.put(uri("S1:a", issuer="S1"))
        tok.put(uri("S256:b", issuer="S256", algorithm="SHA256", digits=8, period=60))
        tok.put(uri("S512:c", issuer="S512", algorithm="SHA512", digits=7))
        tok.put(uri("H:d", issuer="H", kind="hotp", counter=7))
        for t in (59, 1_111_111_109, 2_000_000_000):
            codes = {c.id: k for c, k in tok.calculate_all(for_time=t).items()}
            assert codes["S1:a"].value == pyotp.TOTP(SECRET_B32).at(t) == pyotp_hw.TOTP(
                SECRET_B32).at(t)
            assert codes["60/S256:b"].value == pyotp_hw.TOTP(
                SECRET_B32, digest="sha256", digits=8, interval=60).at(t)
            assert codes["S512:c"].value == pyotp_hw.TOTP(
                SECRET_B32, digest="sha512", digits=7).at(t)
            assert codes["H:d"] is None
        assert tok.calculate("H:d").value == pyotp_hw.HOTP(SECRET_B32).at(7) == pyotp.HOTP(
            SECRET_B32).at(7)


def test_thirty_codes_in_one_calculate_all_over_pcsc(rig: Any, token: Any) -> None:
    connection = Recorder(PcscConnection(rig.reader(0)))
    with OathSession(connection) as tok:
        for i in range(30):
            tok.put(uri(f"Issuer{i:02d}:user{i:02d}@example.com", issuer=f"Issuer{i:02d}"))
        connection.clear()
        start = time.perf_counter()
        codes = tok.calculate_all(for_time=1_234_567_890)
        elapsed = time.perf_counter() - start
    assert len(codes) == 30
    assert {k.value for k in codes.values() if k} == {pyotp.TOTP(SECRET_B32).at(1_234_567_890)}
    ins = connection.instructions()
    assert ins[0] == 0xA4 and set(ins[1:]) == {0xA5}
    assert all(sw == 0x6100 or (sw >> 8) == 0x61 for _, sw in connection.responses[:-1])
    assert connection.responses[-1][1] == 0x9000
    assert elapsed < 1.0  # about a millisecond with TCP_NODELAY/QUICKACK on the card side


def test_touch_prompt_over_pcsc(vtoken: Callable[..., Any]) -> None:
    vtoken("--touch-delay", "0.6")
    from pyotp_hw.cli.token_session import calculate_with_prompt

    prompts: list[str] = []
    with open_token() as tok:
        touchy = tok.put(uri("T:touch", issuer="T"), touch=True)
        (listed,) = tok.list()  # touch unknown: the prompt comes after a delay
        for credential in (touchy, listed):
            code = calculate_with_prompt(tok, credential, 59,
                                         prompt=lambda c: prompts.append(c.label))
            assert code.value == pyotp.TOTP(SECRET_B32).at(59)
        assert prompts == ["T:touch", "T:touch"]


def test_touch_never_given_times_out(vtoken: Callable[..., Any]) -> None:
    vtoken("--touch", "never", "--touch-timeout", "0.5")
    with open_token() as tok:
        tok.put(uri("T:touch", issuer="T"), touch=True)
        with pytest.raises(TouchTimeout):
            tok.calculate("T:touch")


def test_password_over_pcsc(token: Any) -> None:
    with open_token() as tok:
        tok.put(uri("P:me", issuer="P"))
        tok.set_password("pcsc password")
    with open_token() as tok:
        assert tok.info.locked
    with pytest.raises(WrongPassword, match="wrong password"):
        open_token(password="nope")
    with open_token(password="pcsc password") as tok:
        assert [c.id for c in tok.list()] == ["P:me"]
        tok.clear_password()
    with open_token() as tok:
        assert not tok.info.password_set


def test_nitrokey_profile_over_pcsc(vtoken: Callable[..., Any]) -> None:
    vtoken("--profile", "nitrokey3")
    with open_token() as tok:
        assert tok.info.uses_pin and tok.info.serial is not None
        tok.put(uri("N:me", issuer="N", period=60))
        tok.put(uri("N:you", issuer="N"))
        codes = {c.id: k for c, k in tok.calculate_all(for_time=100).items()}
        assert codes["60/N:me"].value == pyotp.TOTP(SECRET_B32, interval=60).at(100)
        assert codes["N:you"].value == pyotp.TOTP(SECRET_B32).at(100)
        with pytest.raises(NotSupportedByToken):
            tok.rename("N:me", "M:me")


def test_state_file_survives_a_restart(vtoken: Callable[..., Any], rig: Any,
                                       tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    env = rig.env()
    env["PYOTP_HW_TOKEN_STATE_PASSPHRASE"] = "sealing words"
    first = vtoken("--state", str(state), env=env)
    with open_token() as tok:
        tok.put(uri("Keep:me", issuer="Keep", kind="hotp", counter=0))
        assert tok.calculate("Keep:me").value == pyotp.HOTP(SECRET_B32).at(0)
    assert first.stop() == 0
    assert "virtual token: stopped" in first.output()
    assert SECRET_B32.encode() not in state.read_bytes()
    rig.wait_card(0, present=False)
    vtoken("--state", str(state), env=env)
    with open_token() as tok:
        assert tok.calculate("Keep:me").value == pyotp.HOTP(SECRET_B32).at(1)


def test_card_without_the_oath_applet(rig: Any) -> None:
    # A real card process on the reader that carries no OATH applet at all.
    script = (
        "import sys, signal, threading\n"
        "from pyotp_hw.token.virtual import VirtualCard\n"
        "from pyotp_hw.token.virtual.vpcd import serve\n"
        "stop = threading.Event()\n"
        "signal.signal(signal.SIGTERM, lambda *a: stop.set())\n"
        "serve(VirtualCard([]), port=int(sys.argv[1]), stop=stop)\n"
    )
    proc = subprocess.Popen(rig.card_command([sys.executable, "-c", script, str(rig.port)]),
                            env=rig.env())
    try:
        rig.wait_card(0, present=True)
        readers = {r.name: r for r in list_readers()}
        assert readers[rig.reader(0)].card_present and not readers[rig.reader(0)].oath
        with pytest.raises(NoOathApplet, match="no OATH applet") as exc:
            open_token(rig.reader(0))
        assert exit_code_for(exc.value) == 3
        with pytest.raises(NoTokenFound, match="no token with an OATH applet"):
            open_token()
    finally:
        proc.terminate()
        proc.wait(10)
        rig.wait_card(0, present=False)


def test_a_card_that_disappears_is_a_connection_error(rig: Any, vtoken: Callable[..., Any]
                                                      ) -> None:
    from pyotp_hw.token import TokenConnectionError

    token = vtoken()
    tok = open_token()
    tok.put(uri("Gone:me"))
    token.kill()
    rig.wait_card(0, present=False)
    with pytest.raises(TokenConnectionError, match="removed or stopped answering") as exc:
        tok.list()
    assert exit_code_for(exc.value) == 3
    tok.close()


def test_exclusive_access_between_clients(rig: Any, token: Any) -> None:
    from pyotp_hw.token import TokenBusy

    first = PcscConnection(rig.reader(0))
    try:
        with pytest.raises(TokenBusy, match="another program"):
            PcscConnection(rig.reader(0))
    finally:
        first.close()
    PcscConnection(rig.reader(0)).close()


def test_two_threads_do_not_interleave(rig: Any, token: Any) -> None:
    # One session per thread, one after the other (exclusive access): every code right.
    with open_token() as tok:
        tok.put(uri("Th:me"))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                deadline = time.monotonic() + 10
                while True:
                    try:
                        with open_token(rig.reader(0)) as tok:
                            assert tok.calculate("Th:me", for_time=59).value == pyotp.TOTP(
                                SECRET_B32).at(59)
                        break
                    except Exception as exc:  # busy: the other thread holds the token
                        if "another program" not in str(exc) or time.monotonic() > deadline:
                            raise
                        time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
