"""Issuer and account labels: text every store can keep, or a typed error and nothing stored."""

from __future__ import annotations

import pytest

from pyotp_hw.errors import InvalidArgument, InvalidType

from .conftest import SECRET, T


@pytest.mark.parametrize("label", ["issuer", "name"])
@pytest.mark.parametrize("value", [7, 2**70, b"Example", ["Example"]])
def test_a_label_that_is_not_text_is_refused(store_url, open_verifier, label, value) -> None:
    v = open_verifier(store_url)
    with pytest.raises(InvalidType, match=f"{label} must be a str or None"):
        v.enroll("alice", SECRET, now=T, **{label: value})
    assert v.credential("alice") is None


@pytest.mark.parametrize("label", ["issuer", "name"])
@pytest.mark.parametrize("value", ["Ex\ud800", "Ex\x00ample"])
def test_a_label_no_store_can_keep_is_refused(store_url, open_verifier, label, value) -> None:
    v = open_verifier(store_url)
    with pytest.raises(InvalidArgument, match=label):
        v.enroll("alice", SECRET, now=T, **{label: value})
    assert v.credential("alice") is None


@pytest.mark.parametrize("label", ["issuer", "name"])
@pytest.mark.parametrize("value", ["Ex\ud800", "Ex\x00ample"])
def test_a_pending_enrollment_refuses_such_labels_too(store_url, open_verifier, label,
                                                     value) -> None:
    v = open_verifier(store_url)
    labels = {"issuer": "Example", "name": "alice@example.com", label: value}
    with pytest.raises(InvalidArgument, match=label):
        v.begin_enrollment("alice", now=T, **labels)
    assert v.credential("alice", "pending") is None


def test_text_labels_are_kept_as_given(store_url, open_verifier) -> None:
    v = open_verifier(store_url)
    v.enroll("alice", SECRET, issuer="Exämple ✓", name="", now=T)
    info = v.credential("alice")
    assert info is not None and (info.issuer, info.account) == ("Exämple ✓", "")
