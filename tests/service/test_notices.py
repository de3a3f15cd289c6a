"""Notices over real SMTP (aiosmtpd on loopback): one per change of 2-step settings, none lost
while the mail server is down, none for a change that rolled back."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path

import pytest

from pyotp_hw.service import Client, ServiceError
from tests.verifier.helpers import sql_execute, sql_query

from .conftest import Mailbox, Served, Store, wait_until
from .test_api import code, enroll, secret_of

pytestmark = pytest.mark.timeout(240)


def smtp_args(box: Mailbox) -> tuple[str, ...]:
    return ("--smtp", f"127.0.0.1:{box.port}", "--retry-base", "0.2", "--site-name", "Example",
            "--mail-from", "security@example.com")


def parts(msg: Message) -> dict[str, str]:
    out = {}
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            out[part.get_content_subtype()] = part.get_content()
    return out


def kinds(box: Mailbox, to: str) -> list[str]:
    return [m["Subject"].rsplit(": ", 1)[1] for m in box.received() if m["To"] == to]


def test_each_change_sends_one_notice(store: Store, serve: Callable[..., Served],
                                      mailbox: Mailbox) -> None:
    key = store.new_key()
    s = serve(store, *smtp_args(mailbox))
    c = s.client(key)
    pending = c.enroll("ann", issuer="Example", name="ann", email="ann@example.com")
    time.sleep(1.0)
    assert mailbox.received() == []  # a pending enrollment changes nothing yet
    secret = secret_of(pending["uri"])
    assert c.confirm("ann", code(secret)).ok
    assert wait_until(lambda: kinds(mailbox, "ann@example.com") == ["enabled"])
    msg = mailbox.received()[0]
    body = parts(msg)
    assert msg["From"] == "security@example.com" and "Example" in msg["Subject"]
    assert "turned on" in body["plain"] and "<strong>" in body["html"]
    b32 = pending["uri"].split("secret=")[1].split("&")[0]
    assert b32 not in msg.as_string() and code(secret) not in body["plain"]

    # A new authenticator replaces the old one (proved with a code of the old one).
    new = secret_of(c.enroll("ann", issuer="Example", name="ann",
                             email="ann@example.com")["uri"])
    assert c.confirm("ann", code(new), current_code=code(secret, 1)).ok
    assert wait_until(lambda: kinds(mailbox, "ann@example.com") == ["enabled", "replaced"])
    assert c.disable("ann")
    assert wait_until(lambda: kinds(mailbox, "ann@example.com")
                      == ["enabled", "replaced", "disabled"])
    time.sleep(1.0)
    assert len(mailbox.received()) == 3  # exactly one each


def test_nothing_lost_while_smtp_is_down(store: Store, serve: Callable[..., Served],
                                         mailbox: Mailbox) -> None:
    key = store.new_key()
    s = serve(store, *smtp_args(mailbox))
    c = s.client(key)
    mailbox.stop()
    users = [f"user{i}" for i in range(5)]
    for u in users:
        enroll(c, u)
    c.disable("user0")
    # The worker tries and fails meanwhile: the notices wait in the outbox.
    assert wait_until(lambda: min(r[0] for r in sql_query(
        store.url, "SELECT attempts FROM otp_outbox")) >= 2, 30)
    assert sql_query(store.url, "SELECT COUNT(*) FROM otp_outbox WHERE sent_at IS NULL")[0][0] \
        == 6
    mailbox.start()
    assert wait_until(lambda: len(mailbox.received()) >= 6, 60)
    time.sleep(1.0)
    got = sorted((m["To"], m["Subject"].rsplit(": ", 1)[1]) for m in mailbox.received())
    assert got == sorted([(f"{u}@example.com", "enabled") for u in users]
                         + [("user0@example.com", "disabled")])
    assert len({m["Message-ID"] for m in mailbox.received()}) == 6
    assert sql_query(store.url, "SELECT COUNT(*) FROM otp_outbox WHERE sent_at IS NULL")[0][0] \
        == 0


def _fail_outbox_for(url: str, user: str) -> None:
    if url.startswith("sqlite"):
        sql_execute(url, "CREATE TRIGGER fail_outbox AFTER INSERT ON otp_outbox "
                         f"WHEN NEW.user_id = '{user}' BEGIN "
                         "SELECT RAISE(ABORT, 'injected failure'); END")
        return
    sql_execute(url, "CREATE FUNCTION fail_outbox() RETURNS trigger AS $$ BEGIN "
                     f"IF NEW.user_id = '{user}' THEN RAISE EXCEPTION 'injected failure'; "
                     "END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER fail_outbox AFTER INSERT ON otp_outbox FOR EACH ROW "
                "EXECUTE FUNCTION fail_outbox()")


def test_rolled_back_change_sends_nothing(store: Store, serve: Callable[..., Served],
                                          mailbox: Mailbox) -> None:
    key = store.new_key()
    s = serve(store, *smtp_args(mailbox))
    c = s.client(key)
    secret = enroll(c, "mallory")
    assert wait_until(lambda: kinds(mailbox, "mallory@example.com") == ["enabled"])
    # The notice row is written, then its transaction fails: the change rolls back with it.
    _fail_outbox_for(store.url, "mallory")
    with pytest.raises(ServiceError) as err:
        c.disable("mallory")
    assert err.value.status == 503
    assert c.user("mallory")["active"] is not None
    assert c.verify("mallory", code(secret, 1)).ok
    enroll(c, "trent")  # the worker is alive and delivering
    assert wait_until(lambda: kinds(mailbox, "trent@example.com") == ["enabled"])
    time.sleep(0.5)
    assert kinds(mailbox, "mallory@example.com") == ["enabled"]
    assert "disabled" not in [r[0] for r in sql_query(store.url, "SELECT kind FROM otp_outbox")]


def test_optional_notices_and_templates(sqlite_store: Store, serve: Callable[..., Served],
                                        mailbox: Mailbox, tmp_path: object) -> None:
    from pathlib import Path

    tdir = Path(str(tmp_path)) / "templates"
    tdir.mkdir()
    (tdir / "locked.subject").write_text("[$site] locked: locked")
    (tdir / "locked.txt").write_text("Dear $user, locked at $when.\n")
    key = sqlite_store.new_key()
    s = serve(sqlite_store, *smtp_args(mailbox), "--notify", "locked", "--lockout-after", "2",
              "--notice-templates", str(tdir))
    c: Client = s.client(key)
    secret = enroll(c, "lou")
    wrong = "000000" if code(secret) != "000000" else "111111"
    assert wait_until(lambda: c.verify("lou", wrong).reason == "credential locked", 20)
    assert wait_until(lambda: kinds(mailbox, "lou@example.com") == ["enabled", "locked"])
    locked = next(m for m in mailbox.received() if "locked" in m["Subject"])
    assert parts(locked)["plain"].startswith("Dear lou, locked at ")


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "smtp.pem", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_and_login(sqlite_store: Store, serve: Callable[..., Served],
                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key_file = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key_file)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: object, session: object, envelope: object, mechanism: str,
                      auth_data: object) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret-pw")

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port, tls_context=tls,
                            require_starttls=True, authenticator=authenticator,
                            auth_require_tls=True)
    controller.start()
    try:
        monkeypatch.setenv("SMTP_PW", "s3cret-pw")
        api = sqlite_store.new_key()
        s = serve(sqlite_store, "--smtp", f"127.0.0.1:{box.port}", "--smtp-starttls",
                  "--smtp-cafile", str(cert), "--smtp-user", "otp", "--smtp-password-env",
                  "SMTP_PW", "--retry-base", "0.2")
        enroll(s.client(api), "tess")
        assert wait_until(lambda: kinds(box, "tess@example.com") == ["enabled"])
        assert logins == [(b"otp", b"s3cret-pw")]
        assert "s3cret-pw" not in s.output()
    finally:
        controller.stop()


def test_login_without_starttls_is_refused(sqlite_store: Store) -> None:
    from .conftest import cli

    out = cli("serve", "--db", sqlite_store.url, "--key-file", str(sqlite_store.key_file),
              "--smtp", "127.0.0.1:25", "--smtp-user", "otp")
    assert out.returncode == 2 and "STARTTLS" in out.stderr
