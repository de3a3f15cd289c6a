"""Helpers for the FIDO2 tests: python-fido2 (the independent client) on virtual cards.

In-process, :class:`CardConnection` gives python-fido2's ``CtapPcscDevice`` a virtual card in
place of a pyscard connection (an addition to the real-pcscd tests, which use the rig). The
credential-id opener re-implements the documented id format with ``cryptography``'s primitives,
so that tests can compute the hmac-secret output themselves from the documented CredRandoms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.pcsc import CtapPcscDevice
from fido2.utils import websafe_decode

from pyotp_hw.token.virtual import TouchPolicy, VirtualCard, make_card
from pyotp_hw.token.virtual.fido import Authenticator, FidoApplet, FidoMemoryStore, FidoState

RP_ID = "vault.example"
ORIGIN = f"https://{RP_ID}"


class CardConnection:
    """The part of a pyscard CardConnection that CtapPcscDevice uses, on a VirtualCard."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        self.apdus: list[bytes] = []

    def connect(self, *args: Any, **kwargs: Any) -> None:
        self.card.power_on()

    def transmit(self, apdu: list[int], protocol: Any = None) -> tuple[list[int], int, int]:
        self.apdus.append(bytes(apdu))
        raw = self.card.process(bytes(apdu))
        return list(raw[:-2]), raw[-2], raw[-1]

    def getATR(self) -> list[int]:
        return list(self.card.atr)

    def disconnect(self) -> None:
        self.card.power_off()


def fido_card(state: FidoState | None = None, *, delay: float = 0.0, mode: str = "auto",
              timeout: float = 2.0, **kwargs: Any) -> tuple[VirtualCard, Authenticator]:
    """A virtual card with both applets; the authenticator keeps ``state`` in memory."""
    touch = TouchPolicy(mode, delay=delay, timeout=timeout)  # type: ignore[arg-type]
    authenticator = Authenticator(FidoMemoryStore(state), touch=touch, **kwargs)
    return make_card(extra_applets=[FidoApplet(authenticator)], touch=touch), authenticator


def device(card: VirtualCard) -> CtapPcscDevice:
    """python-fido2's PC/SC device on an in-process card."""
    return CtapPcscDevice(CardConnection(card), "in-process virtual card")


class Interaction(UserInteraction):
    """Answers PIN prompts with ``pin`` and counts touch prompts."""

    def __init__(self, pin: str | None = None) -> None:
        self.pin = pin
        self.touch_prompts = 0

    def prompt_up(self) -> None:
        self.touch_prompts += 1

    def request_pin(self, permissions: Any, rp_id: str | None) -> str | None:
        return self.pin

    def request_uv(self, permissions: Any, rp_id: str | None) -> bool:
        return True


def client(dev: Any, pin: str | None = None) -> tuple[Fido2Client, Interaction]:
    """A Fido2Client for ORIGIN on ``dev``."""
    interaction = Interaction(pin)
    return (
        Fido2Client(dev, client_data_collector=DefaultClientDataCollector(ORIGIN),
                    user_interaction=interaction),
        interaction,
    )


def make_prf_credential(fido: Fido2Client, *, uv: str = "discouraged",
                        extensions: dict[str, Any] | None = None) -> Any:
    """Register a non-discoverable credential with the PRF extension; return the response."""
    return fido.make_credential({
        "rp": {"id": RP_ID, "name": "Vault"},
        "user": {"id": b"vault-slot", "name": "vault"},
        "challenge": os.urandom(32),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"userVerification": uv, "residentKey": "discouraged"},
        "extensions": {"prf": {}, **(extensions or {})},
    })


def prf(fido: Fido2Client, credential_id: bytes, salt: bytes, *, uv: str = "discouraged"
        ) -> bytes:
    """The PRF output of ``credential_id`` for ``salt`` (one assertion)."""
    result = fido.get_assertion({
        "rpId": RP_ID,
        "challenge": os.urandom(32),
        "allowCredentials": [{"type": "public-key", "id": credential_id}],
        "userVerification": uv,
        "extensions": {"prf": {"eval": {"first": salt}}},
    }).get_response(0)
    return prf_bytes(result.client_extension_results["prf"]["results"]["first"])


def prf_bytes(value: Any) -> bytes:
    """A PRF result as bytes (python-fido2 gives the JSON form: websafe base64)."""
    return websafe_decode(value) if isinstance(value, str) else bytes(value)


def open_credential_id(master_key: bytes, credential_id: bytes, rp_id: str = RP_ID
                       ) -> dict[str, Any]:
    """Open an id as its documented format says: the parts it seals."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"pyotp-hw virtual FIDO2 credential id v1").derive(master_key)
    aad = b"\x01" + hashlib.sha256(rp_id.encode()).digest()
    assert credential_id[0] == 1
    plain = AESGCM(key).decrypt(credential_id[1:13], credential_id[13:], aad)
    return {"scalar": plain[:32], "with_uv": plain[32:64], "without_uv": plain[64:96],
            "cred_protect": plain[96], "flags": plain[97]}


def expected_prf(cred_random: bytes, prf_input: bytes) -> bytes:
    """WebAuthn PRF: HMAC-SHA-256(CredRandom, SHA-256("WebAuthn PRF" 00 || input))."""
    salt = hashlib.sha256(b"WebAuthn PRF\x00" + prf_input).digest()
    return hmac.new(cred_random, salt, hashlib.sha256).digest()
