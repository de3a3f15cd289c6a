"""One kind check and one digest check for every layer: URI fields, token credentials, the
verifier. Each layer raises its own error class with the same words."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pyotp_hw.errors import InvalidArgument, InvalidURI
from pyotp_hw.token import InvalidCredential
from pyotp_hw.token.model import CredentialData
from pyotp_hw.uri import OtpAuthURI, check_digest, check_kind
from pyotp_hw.verifier import Policy
from pyotp_hw.verifier.inputs import check_params

SECRET = b"k" * 20


def test_kinds_and_digests_pass_through_as_their_literals() -> None:
    assert [check_kind(k) for k in ("totp", "hotp")] == ["totp", "hotp"]
    assert [check_digest(d) for d in ("sha1", "sha256", "sha512")] == ["sha1", "sha256", "sha512"]


@pytest.mark.parametrize(("build", "error", "words"), [
    (lambda: OtpAuthURI(kind="motp", secret=SECRET, account="a"),  # type: ignore[arg-type]
     InvalidURI, "type must be 'totp' or 'hotp', not 'motp'"),
    (lambda: CredentialData("a", SECRET, oath_type="motp"),  # type: ignore[arg-type]
     InvalidCredential, "type must be 'totp' or 'hotp', not 'motp'"),
    (lambda: check_params(Policy(), "motp", "sha1", 6, 30, 0, 0),
     InvalidArgument, "kind must be 'totp' or 'hotp', not 'motp'"),
    (lambda: OtpAuthURI(kind="totp", secret=SECRET, account="a", digest="md5"),
     InvalidURI, "digest must be one of sha1, sha256, sha512, not 'md5'"),
    (lambda: CredentialData("a", SECRET, digest="md5"),  # type: ignore[arg-type]
     InvalidCredential, "digest must be one of sha1, sha256, sha512, not 'md5'"),
    (lambda: check_params(Policy(), "totp", "md5", 6, 30, 0, 0),
     InvalidArgument, "digest must be one of sha1, sha256, sha512, not 'md5'"),
])
def test_every_layer_refuses_in_the_same_words(build: Callable[[], object],
                                               error: type[Exception], words: str) -> None:
    with pytest.raises(error) as caught:
        build()
    assert str(caught.value) == words and type(caught.value) is error
