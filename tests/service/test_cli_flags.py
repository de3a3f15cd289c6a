"""The service's refusals in two vocabularies: the library names its settings, the command line
its flags. Every refusal here comes before a store, a vault or a socket is opened."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pyotp_hw.cli import main
from pyotp_hw.errors import InvalidArgument
from pyotp_hw.service import ServiceConfig, SmtpConfig, check_workers, parse_listen

BASE = ["serve", "--db", "sqlite:////nonexistent/verifier.db", "--key-file", "/nonexistent/key"]


@pytest.mark.parametrize(("args", "line"), [
    (["--listen", "nope"], "--listen must be HOST:PORT, for example 127.0.0.1:8400"),
    (["--listen", "127.0.0.1:0"], "--listen must be HOST:PORT, for example 127.0.0.1:8400"),
    (["--workers", "0"], "--workers must be from 1 to 256"),
    (["--workers", "257"], "--workers must be from 1 to 256"),
    (["--smtp", "mail.example"], "--smtp must be HOST:PORT"),
    (["--smtp", "mail.example", "--smtp-user", "otp"], "--smtp must be HOST:PORT"),
    (["--smtp", "127.0.0.1:25", "--smtp-user", "otp"],
     "SMTP login needs STARTTLS (--smtp-starttls): the password must not travel in the clear"),
    (["--smtp", "127.0.0.1:25", "--smtp-starttls", "--smtp-password-env", "PW"],
     "an SMTP password needs a user name (--smtp-user)"),
])
def test_serve_refuses_a_flag_in_its_words(capsys: pytest.CaptureFixture[str], args: list[str],
                                           line: str) -> None:
    assert main([*BASE, *args]) == 2
    assert capsys.readouterr().err == f"pyotp-hw: error: {line}\n"


@pytest.mark.parametrize("kind", ["fido2", "token"])
def test_serve_refuses_workers_for_a_touch_vault_in_flag_words(
        capsys: pytest.CaptureFixture[str], kind: str) -> None:
    args = ["serve", "--db", "sqlite:////nonexistent/verifier.db", "--vault",
            "/nonexistent/seeds.vault", "--vault-unlock", kind, "--workers", "3"]
    assert main(args) == 2
    assert capsys.readouterr().err == (
        f"pyotp-hw: error: --workers 3: a vault opened by {kind} needs a touch or PIN at each "
        f"opening, so it is unlocked once for one worker; use --workers 1, or add a passphrase "
        f"slot to the vault and serve with --vault-unlock passphrase\n")


def test_the_site_refuses_a_listen_address_in_flag_words(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYOTP_HW_SITE_API_KEY", "k")
    args = ["site", "serve", "--service", "http://127.0.0.1:1", "--db", "/nonexistent/site.db",
            "--listen", "nope"]
    assert main(args) == 2
    assert capsys.readouterr().err == (
        "pyotp-hw: error: --listen must be HOST:PORT, for example 127.0.0.1:8400\n")


def _refusal(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    with pytest.raises(InvalidArgument) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_the_library_names_settings_not_flags() -> None:
    assert _refusal(parse_listen, "nope") == (
        "the listen address must be HOST:PORT, for example 127.0.0.1:8400")
    config = ServiceConfig(db="sqlite:///x.db")
    assert _refusal(check_workers, config, 0) == "workers must be from 1 to 256"
    vault = ServiceConfig(db="sqlite:///x.db", vault="/x.vault", vault_unlock="fido2")
    assert _refusal(check_workers, vault, 2) == (
        "2 workers: a vault opened by fido2 needs a touch or PIN at each opening, so it is "
        "unlocked once for one worker; serve with one worker, or add a passphrase slot to the "
        "vault and set vault_unlock to passphrase")
    assert _refusal(SmtpConfig.parse, "mail.example") == "the SMTP server must be HOST:PORT"
    assert _refusal(SmtpConfig, "mail.example", username="otp") == (
        "SMTP login needs STARTTLS: the password must not travel in the clear")
    assert _refusal(SmtpConfig, "mail.example", password_env="PW") == (
        "an SMTP password needs a user name")


def test_a_worker_cannot_open_a_touch_vault_in_the_library_words() -> None:
    from pyotp_hw.service import provider_of

    config = ServiceConfig(db="sqlite:///x.db", vault="/x.vault", vault_unlock="token")
    message = _refusal(provider_of, config)
    assert message == (
        "a vault opened by token needs a touch or PIN at each opening, so each worker cannot "
        "open it: serve with one worker (unlocked once at start-up), or add a passphrase slot "
        "and set vault_unlock to passphrase")
    assert "--" not in message


def test_batch_threads_default_to_the_stores_writers() -> None:
    assert ServiceConfig(db="sqlite:///v.db").batch_thread_count == 1
    assert ServiceConfig(db="postgresql://localhost/otp").batch_thread_count == 2
    assert ServiceConfig(db="sqlite:///v.db", batch_threads=3).batch_thread_count == 3
    with pytest.raises(InvalidArgument, match="batch_threads"):
        ServiceConfig(db="sqlite:///v.db", batch_threads=-1)
