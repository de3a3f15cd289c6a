"""``pyotp-hw verifier ...``: the operator's commands, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pyotp
import pytest

from pyotp_hw.cli import main

from .helpers import totp, wrong_code

SECRET_B32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 160 bits
SECRET = pyotp.TOTP(SECRET_B32).byte_secret()


@pytest.fixture
def store(tmp_path):
    db = f"sqlite:///{tmp_path}/v.db"
    keyfile = str(tmp_path / "key")
    assert main(["verifier", "init", "--db", db, "--key-file", keyfile, "--create-key"]) == 0
    return ["--db", db, "--key-file", keyfile]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_init_enroll_verify_replay_stats(store, capsys) -> None:
    assert run(capsys, "verifier", "enroll", "alice", SECRET_B32, *store)[0] == 0
    t = 1_700_000_000
    code = totp(SECRET, t)
    status, out, _ = run(capsys, "verifier", "verify", "alice", code, "--time", str(t), *store)
    assert status == 0 and out.strip() == f"verify: accepted (step {t // 30})"
    status, out, _ = run(capsys, "verifier", "verify", "alice", code, "--time", str(t), *store,
                         "--json")
    assert status == 1
    assert json.loads(out) == {"ok": False, "reason": "replayed code", "step": None}
    status, out, _ = run(capsys, "verifier", "verify", "alice", f" {code}", "--time", str(t),
                         *store)
    assert status == 1 and "malformed code" in out
    status, out, _ = run(capsys, "verifier", "stats", *store, "--json")
    stats = json.loads(out)
    assert status == 0 and (stats["accepted"], stats["replayed"], stats["active"]) == (1, 1, 1)
    status, out, _ = run(capsys, "verifier", "stats", *store)
    assert "replayed" in out and SECRET_B32 not in out


def test_lockout_and_unlock(store, capsys) -> None:
    run(capsys, "verifier", "enroll", "alice", SECRET_B32, *store)
    t = 1_700_000_000
    good = totp(SECRET, t)
    bad = "000000" if good != "000000" else "111111"
    for _ in range(3):
        assert run(capsys, "verifier", "verify", "alice", bad, "--time", str(t), *store)[0] == 1
    # In the delay now (fourth failure is delayed): rejected unevaluated.
    run(capsys, "verifier", "verify", "alice", bad, "--time", str(t), *store)
    status, out, _ = run(capsys, "verifier", "verify", "alice", good, "--time", str(t), *store)
    assert status == 1 and "throttled" in out
    assert run(capsys, "verifier", "unlock", "alice", *store)[0] == 0
    assert run(capsys, "verifier", "verify", "alice", good, "--time", str(t), *store)[0] == 0
    status, _, err = run(capsys, "verifier", "unlock", "nobody", *store)
    assert status == 2 and "nobody" in err


def test_resync(store, capsys) -> None:
    run(capsys, "verifier", "enroll", "alice", SECRET_B32, *store)
    t = 1_700_000_000
    c1, c2 = totp(SECRET, t, step_offset=4), totp(SECRET, t, step_offset=5)
    status, out, _ = run(capsys, "verifier", "resync", "alice", c1, c2, "--time", str(t), *store)
    assert status == 0 and "drift: 5 steps" in out
    status, _, _ = run(capsys, "verifier", "resync", "alice", c1, c2, "--time", str(t), *store)
    assert status == 1


def test_new_enrollment_and_confirm(store, capsys) -> None:
    status, out, _ = run(capsys, "verifier", "enroll", "bob", "--new", "--issuer", "Example",
                         "--name", "bob@example.com", *store, "--json")
    assert status == 0
    uri = json.loads(out)["uri"]
    app = pyotp.parse_uri(uri)
    t = int(time.time())
    status, out, _ = run(capsys, "verifier", "confirm", "bob", app.at(t), "--time", str(t),
                         *store)
    assert status == 0 and "accepted" in out


def test_uri_and_hotp_enrollment(store, capsys) -> None:
    uri = f"otpauth://hotp/Ex:h?secret={SECRET_B32}&issuer=Ex&counter=7"
    status, out, _ = run(capsys, "verifier", "enroll", "h", uri, *store)
    assert status == 0 and "hotp" in out
    code = pyotp.HOTP(SECRET_B32).at(7)
    assert run(capsys, "verifier", "verify", "h", code, *store)[0] == 0
    status, _, err = run(capsys, "verifier", "enroll", "h2", uri, "--digits", "8", *store)
    assert status == 2 and "URI carries its own parameters" in err
    status, _, _ = run(capsys, "verifier", "enroll", "c", SECRET_B32, "--hotp", "3", *store)
    assert status == 0
    assert run(capsys, "verifier", "verify", "c", pyotp.HOTP(SECRET_B32).at(3), *store)[0] == 0


def test_key_problems_are_clear_errors(store, tmp_path, capsys) -> None:
    db = store[1]
    status, _, err = run(capsys, "verifier", "stats", "--db", db)
    assert status == 2 and "--key-file" in err
    other = tmp_path / "other"
    other.write_text(os.urandom(32).hex())
    status, _, err = run(capsys, "verifier", "stats", "--db", db, "--key-file", str(other))
    assert status == 2 and "does not open" in err
    status, _, err = run(capsys, "verifier", "stats", "--db", "mysql://x", "--key-file", str(other))
    assert status == 2 and "unknown store URL scheme" in err


def test_secret_from_stdin_and_key_from_environment(tmp_path) -> None:
    # A separate process: the secret never appears in the command line.
    db = f"sqlite:///{tmp_path}/v.db"
    env = dict(os.environ, PYOTP_HW_VERIFIER_KEY=os.urandom(32).hex())
    cmd = [sys.executable, "-m", "pyotp_hw", "verifier"]
    done = subprocess.run([*cmd, "init", "--db", db], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*cmd, "enroll", "alice", "-", "--db", db], input=SECRET_B32 + "\n",
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    code = pyotp.TOTP(SECRET_B32).now()
    done = subprocess.run([*cmd, "verify", "alice", code, "--db", db], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    env["PYOTP_HW_VERIFIER_PASSPHRASE"] = "a passphrase"
    done = subprocess.run([*cmd, "init", "--db", f"sqlite:///{tmp_path}/p.db", "--passphrase"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_eight_digit_credentials_work_end_to_end(store, capsys) -> None:
    t = 1_700_000_000
    status, out, err = run(capsys, "verifier", "enroll", "alice", SECRET_B32, "--digits", "8",
                           *store)
    assert status == 0, err
    assert "8 digits" in out
    code8 = totp(SECRET, t, digits=8)
    status, out, _ = run(capsys, "verifier", "verify", "alice", code8, "--time", str(t), *store)
    assert status == 0 and "accepted" in out
    # The credential's own length is enforced: its 6-digit form is malformed, not a match.
    six = totp(SECRET, t + 30)
    status, out, _ = run(capsys, "verifier", "verify", "alice", six, "--time", str(t + 30),
                         *store)
    assert status == 1 and "malformed" in out
    status, out, err = run(capsys, "verifier", "enroll", "bob", "--new", "--issuer", "Ex",
                           "--name", "bob", "--digits", "8", *store, "--json")
    assert status == 0, err
    app = pyotp.parse_uri(json.loads(out)["uri"])
    assert app.digits == 8
    status, out, _ = run(capsys, "verifier", "confirm", "bob", app.at(t), "--time", str(t),
                         *store)
    assert status == 0 and "accepted" in out


@pytest.mark.parametrize("command", [
    ["verify", "alice", "123456"], ["enroll", "alice", SECRET_B32], ["stats"],
    ["unlock", "alice"], ["confirm", "alice", "123456"], ["resync", "alice", "1", "2"],
])
def test_a_mistyped_db_path_creates_nothing(store, tmp_path, capsys, command) -> None:
    key_args = store[2:]
    missing = tmp_path / "typo.db"
    status, out, err = run(capsys, "verifier", *command, "--db", f"sqlite:///{missing}",
                           *key_args)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "pyotp-hw verifier init" in err and str(missing) in err
    assert not missing.exists()
    assert not list(tmp_path.glob("typo.db*"))
    # init is the one command that creates a store.
    assert run(capsys, "verifier", "init", "--db", f"sqlite:///{missing}", *key_args)[0] == 0
    assert missing.exists()


@pytest.mark.postgres
def test_an_empty_postgres_database_is_not_taken_for_a_store(pg_url, tmp_path, capsys) -> None:
    from .helpers import sql_query

    keyfile = tmp_path / "k"
    assert main(["verifier", "init", "--db", f"sqlite:///{tmp_path}/x.db", "--key-file",
                 str(keyfile), "--create-key"]) == 0
    capsys.readouterr()
    status, _, err = run(capsys, "verifier", "stats", "--db", pg_url, "--key-file", str(keyfile))
    assert status == 2 and "pyotp-hw verifier init" in err
    assert sql_query(pg_url, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'otp_%'") == [
        (0,)]
    assert run(capsys, "verifier", "init", "--db", pg_url, "--key-file", str(keyfile))[0] == 0
    assert run(capsys, "verifier", "stats", "--db", pg_url, "--key-file", str(keyfile))[0] == 0


def test_throttled_says_when_to_retry(store, capsys) -> None:
    import datetime as dt

    run(capsys, "verifier", "enroll", "alice", SECRET_B32, *store)
    t = 1_700_000_000
    bad = "000000" if totp(SECRET, t) != "000000" else "111111"
    # Policy defaults: three failures without delay, the fourth waits base_delay (1 s).
    for _ in range(4):
        run(capsys, "verifier", "verify", "alice", bad, "--time", str(t), *store)
    good = totp(SECRET, t)
    status, out, _ = run(capsys, "verifier", "verify", "alice", good, "--time", str(t), *store)
    when = dt.datetime.fromtimestamp(t + 1, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert status == 1
    assert out.strip() == f"verify: rejected (throttled; retry in 1 s, at {when})"
    status, out, _ = run(capsys, "verifier", "verify", "alice", good, "--time", str(t), *store,
                         "--json")
    assert status == 1
    assert json.loads(out) == {"ok": False, "reason": "throttled", "step": None,
                               "retry_at": t + 1}
    status, out, _ = run(capsys, "verifier", "verify", "alice", good, "--time", str(t + 1),
                         *store)
    assert status == 0, out


def test_replacing_from_the_cli_needs_proof_or_the_operators_word(store, capsys) -> None:
    t = 1_700_000_000
    run(capsys, "verifier", "enroll", "alice", SECRET_B32, *store)
    status, out, _ = run(capsys, "verifier", "enroll", "alice", "--new", "--issuer", "Ex",
                         "--name", "alice", *store, "--json")
    app = pyotp.parse_uri(json.loads(out)["uri"])
    status, out, _ = run(capsys, "verifier", "confirm", "alice", app.at(t), "--time", str(t),
                         *store)
    assert status == 1 and "needs its current code" in out
    status, out, _ = run(capsys, "verifier", "confirm", "alice", app.at(t), "--time", str(t),
                         "--current-code", totp(SECRET, t), *store)
    assert status == 0, out
    # enroll --replace: the operator vouches, or checks a current code.
    other = "KRUGS4ZANFZSAYJAORSXG5BAONSWG4TFOQ"
    status, _, err = run(capsys, "verifier", "enroll", "alice", other, "--replace",
                         "--current-code", wrong_code(SECRET, int(time.time())), *store)
    assert status == 2 and "not accepted" in err
    assert run(capsys, "verifier", "enroll", "alice", other, "--replace", *store)[0] == 0
