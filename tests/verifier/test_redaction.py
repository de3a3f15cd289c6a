"""No PostgreSQL password is shown, whatever form it was given in (issue 10, 3.8).

A password can sit in the URL's userinfo (``user:pw@``), in its query string (``?password=``,
``?sslpassword=``, percent-encoded or not), or in a key=value connection string given where a URL
belongs. None of them may appear in ``repr(Verifier)``, the store's ``url``, ``verifier init``
output, or the errors of a failed connection (libpq echoes some URLs whole in its messages).
"""

from __future__ import annotations

import pytest

from pyotp_hw.cli import main
from pyotp_hw.verifier import InvalidStoreURL, KeyFile, StoreError, Verifier
from pyotp_hw.verifier.stores import open_store
from tests.typed_errors import assert_clean_error

PW = "s3cret-Pw9"
PW_ENCODED = "s3cret%2DPw9"  # the same password percent-encoded

pytest.importorskip("psycopg")


def _forms(host: str, port: int, db: str) -> list[str]:
    base = f"{host}:{port}/{db}"
    return [
        f"postgresql://site:{PW}@{base}",
        f"postgres://site:{PW_ENCODED}@{base}",
        f"postgresql://site@{base}?password={PW}",
        f"postgresql://site@{base}?connect_timeout=5&password={PW_ENCODED}",
        f"postgresql://site@{base}?sslpassword={PW}&password={PW}",
        f"postgresql://:{PW}@{base}",
    ]


def _assert_hidden(text: str) -> None:
    assert PW not in text and PW_ENCODED not in text, text


@pytest.mark.parametrize("url", _forms("127.0.0.1", 1, "otp"))
def test_store_url_and_repr_hide_every_password_form(url) -> None:
    store = open_store(url)
    _assert_hidden(store.url)
    _assert_hidden(repr(store))
    assert "***" in store.url


@pytest.mark.parametrize("url", _forms("127.0.0.1", 1, "otp"))
def test_connect_errors_hide_the_password(url, key) -> None:
    with pytest.raises(StoreError) as info:
        Verifier.open(url, key=key)  # nothing listens on port 1
    assert_clean_error(info.value, [PW, PW_ENCODED])
    assert "127.0.0.1" in str(info.value)


@pytest.mark.parametrize("url", [
    f"postgresql://site:{PW}%zz@127.0.0.1:1/otp",      # libpq echoes the bad token
    f"postgresql://site@127.0.0.1:1/otp?password={PW}%zz",
    f"postgresql://site:{PW}@[::1/otp",                # libpq echoes the whole URI
])
def test_malformed_urls_hide_the_password(url, key) -> None:
    with pytest.raises((StoreError, InvalidStoreURL)) as info:
        Verifier.open(url, key=key)
    assert_clean_error(info.value, [PW, PW_ENCODED])


@pytest.mark.parametrize("dsn", [
    f"password={PW} host=127.0.0.1 dbname=otp",
    f"host=127.0.0.1 dbname=otp user=site password={PW}",
    f"dbname=otp password='{PW}'",
])
def test_key_value_connection_strings_are_refused_without_echo(dsn) -> None:
    with pytest.raises(InvalidStoreURL, match="postgresql://") as info:
        open_store(dsn)
    assert_clean_error(info.value, [PW])


def test_cli_refuses_a_key_value_string_without_echo(tmp_path, capsys) -> None:
    keyfile = tmp_path / "k"
    keyfile.write_text("ab" * 32)
    keyfile.chmod(0o600)
    status = main(["verifier", "init", "--db", f"password={PW} host=127.0.0.1 dbname=otp",
                   "--key-file", str(keyfile)])
    out, err = capsys.readouterr()
    assert status == 2 and err.count("\n") == 1
    _assert_hidden(out + err)


@pytest.mark.postgres
def test_verifier_repr_and_init_output_hide_the_password(pg_cluster, tmp_path, capsys) -> None:
    # The test cluster trusts local connections, so the (ignored) password still connects.
    db = pg_cluster.new_database().rsplit("/", 1)[1]
    keyfile = tmp_path / "k"
    keyfile.write_text("cd" * 32)
    keyfile.chmod(0o600)
    user = pg_cluster.user
    for url in [f"postgresql://{user}:{PW}@127.0.0.1:{pg_cluster.port}/{db}",
                f"postgresql://{user}@127.0.0.1:{pg_cluster.port}/{db}?password={PW_ENCODED}"]:
        with Verifier.open(url, key=KeyFile(keyfile)) as v:
            _assert_hidden(repr(v))
            _assert_hidden(v.store.url)
        status = main(["verifier", "init", "--db", url, "--key-file", str(keyfile)])
        out, err = capsys.readouterr()
        assert status == 0, err
        _assert_hidden(out + err)
        assert "verifier store ready" in out
        status = main(["verifier", "stats", "--db", url, "--key-file", str(keyfile), "--json"])
        out, err = capsys.readouterr()
        _assert_hidden(out + err)
