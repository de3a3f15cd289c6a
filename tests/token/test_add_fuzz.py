"""``token add NAME SECRET``: whatever the words, the checks before the token is opened end in
an account to store or in one clean line, never a traceback or the secret."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pyotp_hw.cli import build_parser
from pyotp_hw.cli._common import CLIError
from pyotp_hw.cli.token_add import _checked
from pyotp_hw.token import CredentialData

from ..typed_errors import assert_clean_error, fuzz

_WORD = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=70)
_B32 = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abc =-1890", min_size=0, max_size=120)
_OPTIONS = st.lists(st.sampled_from([
    ("-i", _WORD.map(lambda w: "x" + w)), ("-o", st.sampled_from(["HOTP", "totp", "hotp"])),
    ("-d", st.sampled_from(["6", "7", "8"])), ("-a", st.sampled_from(["SHA1", "sha256", "SHA512"])),
    ("-c", st.integers(-5, 2**33).map(str)), ("-P", st.integers(-5, 2**33).map(str)),
    ("-t", None), ("-f", None),
]), max_size=5, unique_by=lambda o: o[0])


_PARSER = build_parser()


@fuzz
@given(data=st.data(), name=_WORD, secret=_B32)
def test_name_secret_checks_are_clean(data: st.DataObject, name: str, secret: str) -> None:
    words = ["token", "add"]
    for flag, values in data.draw(_OPTIONS):
        words.append(flag)
        if values is not None:
            words.append(data.draw(values))
    if name.startswith("-"):
        name = "x" + name
    if secret == "-":  # standard input: tested over the real token
        secret = "A"
    args = _PARSER.parse_args([*words, "--", name, secret])
    needle = secret.strip()
    # A secret that is also part of the name or an option's value may be quoted as that.
    secrets = [] if any(needle in word for word in [*words, name]) else [needle]
    try:
        datas = _checked(args)
    except CLIError as exc:
        text = str(exc)
        assert "\n" not in text and (len(needle) < 6 or not secrets or needle not in text)
    except Exception as exc:
        assert_clean_error(exc, secrets)
        assert "\n" not in str(exc)
    else:
        (stored,) = datas
        assert isinstance(stored, CredentialData) and stored.account == name
        if len(stored.secret) >= 6:  # shorter ones turn up in any text by chance
            assert stored.secret.hex() not in repr(stored)
            assert repr(stored.secret) not in repr(stored)
