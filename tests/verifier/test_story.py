"""The end-to-end story on the embedded defaults, with the virtual token in-process: the site
(a verifier on SQLite) enrolls the token from the URI, the token's code confirms it, a later
sign-in verifies the token's next code, a replay of it is refused."""

from __future__ import annotations

from pyotp_hw.token.oath import OathSession
from pyotp_hw.token.virtual import make_card
from pyotp_hw.verifier import EventKind, KeyFile, Reason, Verifier

from .conftest import T


def test_enroll_confirm_sign_in_replay(tmp_path) -> None:
    key = KeyFile.create(tmp_path / "verifier.key")
    notices = []
    with Verifier.open(f"sqlite:///{tmp_path}/site.db", key=key) as site, \
            OathSession(make_card().connect()) as token:
        site.on_event(lambda e: notices.append((e.user, e.kind)))
        enrollment = site.begin_enrollment("alice", issuer="Example", name="alice@example.com",
                                           now=T)
        assert enrollment.qr()  # what the site shows
        token.put(enrollment.uri)  # what the user's token stores from the QR code
        name = "Example:alice@example.com"
        assert site.verify("alice", token.calculate(name, for_time=T).value,
                           now=T).reason is Reason.NO_CREDENTIAL  # pending: no sign-in yet
        confirm = token.calculate(name, for_time=T).value
        assert site.confirm_enrollment("alice", confirm, now=T).ok
        later = T + 90
        code = token.calculate(name, for_time=later).value
        assert site.verify("alice", code, now=later).ok
        replay = site.verify("alice", code, now=later + 5)
        assert not replay.ok and replay.reason is Reason.REPLAY
    assert notices == [("alice", EventKind.ENROLLED), ("alice", EventKind.CONFIRMED),
                       ("alice", EventKind.REPLAY)]
