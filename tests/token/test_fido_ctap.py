"""The virtual FIDO2 authenticator in-process, driven by python-fido2 (the independent client).

The same flows run through the real pcscd in test_fido_pcsc.py; here they run fast on an
in-process card, with the exact answers checked: getInfo, registration and assertion signatures
(python-fido2's verifiers), PRF/hmac-secret outputs computed independently from the documented
credential-id format, ClientPIN with both protocols, credProtect, reset and user presence.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

import pytest
from fido2.attestation import PackedAttestation
from fido2.client import ClientError
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.utils import websafe_encode
from fido2.webauthn import AuthenticatorData

from pyotp_hw.token.virtual.fido import (
    AAGUID,
    CREDENTIAL_ID_LENGTH,
    MAX_PIN_RETRIES,
    FidoState,
)

from .fido_helpers import (
    RP_ID,
    client,
    device,
    expected_prf,
    fido_card,
    make_prf_credential,
    open_credential_id,
    prf,
    prf_bytes,
)

ERR = CtapError.ERR


def ctap_code(excinfo: pytest.ExceptionInfo[Any]) -> int:
    """The CTAP status behind a python-fido2 error (a CtapError, or a ClientError's cause)."""
    exc = excinfo.value
    if isinstance(exc, ClientError):
        exc = exc.cause
    assert isinstance(exc, CtapError), repr(excinfo.value)
    return int(exc.code)


@pytest.fixture
def state() -> FidoState:
    return FidoState()


@pytest.fixture
def dev(state: FidoState) -> Any:
    card, _ = fido_card(state)
    return device(card)


# --- getInfo ------------------------------------------------------------------------------------


def test_get_info_fields(dev: Any) -> None:
    info = Ctap2(dev).info
    assert info.versions == ["FIDO_2_0", "FIDO_2_1"]
    assert set(info.extensions) == {"credProtect", "hmac-secret", "hmac-secret-mc"}
    assert bytes(info.aaguid) == AAGUID
    assert info.options == {"rk": False, "up": True, "plat": False, "clientPin": False,
                            "pinUvAuthToken": True, "makeCredUvNotRqd": True}
    assert info.pin_uv_protocols == [2, 1]
    assert info.max_msg_size == 1200
    assert info.max_creds_in_list == 8
    assert info.max_cred_id_length == CREDENTIAL_ID_LENGTH
    assert info.transports == ["nfc"]
    assert info.algorithms == [{"alg": -7, "type": "public-key"}]
    assert info.min_pin_length == 4
    ClientPin(Ctap2(dev)).set_pin("1234")
    assert Ctap2(dev).get_info().options["clientPin"] is True


# --- registration and assertion -----------------------------------------------------------------


def test_registration_is_packed_self_attestation_python_fido2_verifies(
    dev: Any, state: FidoState
) -> None:
    fido, _ = client(dev)
    reg = make_prf_credential(fido)
    att = reg.response.attestation_object
    assert att.fmt == "packed"
    result = PackedAttestation().verify(att.att_stmt, att.auth_data,
                                        reg.response.client_data.hash)
    assert result.attestation_type.name == "SELF"
    auth_data = att.auth_data
    assert auth_data.rp_id_hash == hashlib.sha256(RP_ID.encode()).digest()
    assert auth_data.is_user_present() and not auth_data.is_user_verified()
    assert auth_data.counter == 1
    assert auth_data.extensions == {"hmac-secret": True}
    cred = auth_data.credential_data
    assert bytes(cred.aaguid) == AAGUID
    assert len(cred.credential_id) == CREDENTIAL_ID_LENGTH
    # The id carries the private key: its public key is the one registered.
    parts = open_credential_id(state.master_key, cred.credential_id)
    from cryptography.hazmat.primitives.asymmetric import ec

    public = ec.derive_private_key(int.from_bytes(parts["scalar"], "big"), ec.SECP256R1())
    numbers = public.public_key().public_numbers()
    assert (cred.public_key[-2], cred.public_key[-3]) == (
        numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big"))
    assert parts["cred_protect"] == 1 and parts["flags"] == 1


def test_assertion_signature_verifies_and_counter_grows(dev: Any) -> None:
    fido, _ = client(dev)
    reg = make_prf_credential(fido)
    cred = reg.response.attestation_object.auth_data.credential_data
    counters = []
    for _ in range(2):
        response = fido.get_assertion({
            "rpId": RP_ID, "challenge": os.urandom(32), "userVerification": "discouraged",
            "allowCredentials": [{"type": "public-key", "id": cred.credential_id}],
        }).get_response(0)
        auth_data = response.response.authenticator_data
        cred.public_key.verify(bytes(auth_data) + response.response.client_data.hash,
                               response.response.signature)
        assert response.raw_id == cred.credential_id
        counters.append(auth_data.counter)
    assert counters[1] > counters[0] > 1


def test_prf_matches_hmac_of_the_without_uv_secret_and_is_stable(
    dev: Any, state: FidoState
) -> None:
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    secrets = open_credential_id(state.master_key, cred_id)
    salt, other = os.urandom(32), os.urandom(32)
    first = prf(fido, cred_id, salt)
    assert first == expected_prf(secrets["without_uv"], salt)
    assert prf(fido, cred_id, salt) == first
    assert prf(fido, cred_id, other) == expected_prf(secrets["without_uv"], other) != first


def test_prf_with_uv_uses_the_other_secret(dev: Any, state: FidoState) -> None:
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    salt = os.urandom(32)
    without = prf(fido, cred_id, salt)
    ClientPin(Ctap2(dev)).set_pin("4321")
    fido, _ = client(dev, pin="4321")
    with_uv = prf(fido, cred_id, salt, uv="required")
    secrets = open_credential_id(state.master_key, cred_id)
    assert with_uv == expected_prf(secrets["with_uv"], salt)
    assert with_uv != without
    # "discouraged" still gives the without-UV secret once a PIN is set.
    assert prf(fido, cred_id, salt, uv="discouraged") == without


def test_prf_at_registration_with_hmac_secret_mc(dev: Any) -> None:
    fido, _ = client(dev)
    salt = os.urandom(32)
    reg = make_prf_credential(fido, extensions={"prf": {"eval": {"first": salt}}})
    results = reg.client_extension_results["prf"]
    assert results["enabled"] is True
    assert prf_bytes(results["results"]["first"]) == prf(fido, reg.raw_id, salt)


def test_another_authenticator_cannot_use_the_credential(dev: Any) -> None:
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    other_card, _ = fido_card(FidoState())
    other, _ = client(device(other_card))
    with pytest.raises(ClientError) as excinfo:
        prf(other, cred_id, os.urandom(32))
    assert ctap_code(excinfo) == ERR.NO_CREDENTIALS


def test_credential_is_bound_to_its_rp_and_its_bytes(dev: Any) -> None:
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    ctap = Ctap2(dev)
    with pytest.raises(CtapError) as excinfo:
        ctap.get_assertion("other.example", os.urandom(32),
                           [{"type": "public-key", "id": cred_id}])
    assert excinfo.value.code == ERR.NO_CREDENTIALS
    flipped = bytearray(cred_id)
    flipped[40] ^= 1
    with pytest.raises(CtapError) as excinfo:
        ctap.get_assertion(RP_ID, os.urandom(32), [{"type": "public-key", "id": bytes(flipped)}])
    assert excinfo.value.code == ERR.NO_CREDENTIALS


def test_exclude_list_refuses_a_second_registration(dev: Any) -> None:
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    with pytest.raises(ClientError) as excinfo:
        fido.make_credential({
            "rp": {"id": RP_ID, "name": "Vault"}, "user": {"id": b"u", "name": "u"},
            "challenge": os.urandom(32), "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "excludeCredentials": [{"type": "public-key", "id": cred_id}],
            "authenticatorSelection": {"userVerification": "discouraged"},
        })
    assert ctap_code(excinfo) == ERR.CREDENTIAL_EXCLUDED


def test_hmac_secret_needs_user_presence(dev: Any) -> None:
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    ctap = Ctap2(dev)
    protocol = PinProtocolV2()
    key_agreement, shared = ClientPin(ctap, protocol)._get_shared_secret()
    salt_enc = protocol.encrypt(shared, os.urandom(32))
    ext = {"hmac-secret": {1: key_agreement, 2: salt_enc,
                           3: protocol.authenticate(shared, salt_enc), 4: 2}}
    with pytest.raises(CtapError) as excinfo:
        ctap.get_assertion(RP_ID, os.urandom(32), [{"type": "public-key", "id": cred_id}],
                           ext, {"up": False})
    assert excinfo.value.code == ERR.UNSUPPORTED_OPTION


@pytest.mark.parametrize("protocol_class", [PinProtocolV1, PinProtocolV2])
def test_raw_hmac_secret_with_each_pin_protocol(
    dev: Any, state: FidoState, protocol_class: Any
) -> None:
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    ctap = Ctap2(dev)
    protocol = protocol_class()
    key_agreement, shared = ClientPin(ctap, protocol)._get_shared_secret()
    salt1, salt2 = os.urandom(32), os.urandom(32)
    salt_enc = protocol.encrypt(shared, salt1 + salt2)
    ext = {"hmac-secret": {1: key_agreement, 2: salt_enc,
                           3: protocol.authenticate(shared, salt_enc), 4: protocol.VERSION}}
    response = ctap.get_assertion(RP_ID, os.urandom(32), [{"type": "public-key", "id": cred_id}],
                                  ext)
    output = protocol.decrypt(shared, response.auth_data.extensions["hmac-secret"])
    import hmac as hmac_module

    key = open_credential_id(state.master_key, cred_id)["without_uv"]
    assert output == (hmac_module.new(key, salt1, "sha256").digest()
                      + hmac_module.new(key, salt2, "sha256").digest())
    # A salt authenticated with the wrong key is refused.
    ext["hmac-secret"][3] = bytes(len(ext["hmac-secret"][3]))
    with pytest.raises(CtapError) as excinfo:
        ctap.get_assertion(RP_ID, os.urandom(32), [{"type": "public-key", "id": cred_id}], ext)
    assert excinfo.value.code == ERR.PIN_AUTH_INVALID


# --- credProtect --------------------------------------------------------------------------------


def test_cred_protect_level_3_needs_user_verification(dev: Any, state: FidoState) -> None:
    ClientPin(Ctap2(dev)).set_pin("2468")
    fido, _ = client(dev, pin="2468")
    reg = make_prf_credential(fido, uv="required", extensions={
        "credentialProtectionPolicy": "userVerificationRequired",
        "enforceCredentialProtectionPolicy": True,
    })
    assert reg.response.attestation_object.auth_data.extensions["credProtect"] == 3
    assert open_credential_id(state.master_key, reg.raw_id)["cred_protect"] == 3
    salt = os.urandom(32)
    assert len(prf(fido, reg.raw_id, salt, uv="required")) == 32
    with pytest.raises(ClientError) as excinfo:
        prf(fido, reg.raw_id, salt, uv="discouraged")
    assert ctap_code(excinfo) == ERR.NO_CREDENTIALS


def test_cred_protect_level_2_works_with_an_allow_list(dev: Any) -> None:
    fido, _ = client(dev)
    reg = make_prf_credential(fido, extensions={
        "credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList",
    })
    assert reg.response.attestation_object.auth_data.extensions["credProtect"] == 2
    assert len(prf(fido, reg.raw_id, os.urandom(32))) == 32


# --- ClientPIN ----------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_class", [PinProtocolV1, PinProtocolV2])
def test_set_change_and_token_with_each_protocol(dev: Any, protocol_class: Any) -> None:
    ctap = Ctap2(dev)
    pin = ClientPin(ctap, protocol_class())
    pin.set_pin("1111")
    with pytest.raises(CtapError) as excinfo:
        pin.set_pin("2222")
    assert excinfo.value.code == ERR.NOT_ALLOWED
    pin.change_pin("1111", "2222")
    with pytest.raises(CtapError) as excinfo:
        pin.get_pin_token("1111")
    assert excinfo.value.code == ERR.PIN_INVALID
    token = pin.get_pin_token("2222", ClientPin.PERMISSION.GET_ASSERTION, RP_ID)
    assert len(token) == 32
    assert pin.get_pin_retries() == (MAX_PIN_RETRIES, False)
    legacy = pin.get_pin_token("2222")  # getPinToken (0x05): no permissions sent
    assert len(legacy) == 32


def test_token_permissions_and_rp_binding(dev: Any) -> None:
    ctap = Ctap2(dev)
    pin = ClientPin(ctap)
    pin.set_pin("1357")
    protocol = pin.protocol
    token = pin.get_pin_token("1357", ClientPin.PERMISSION.GET_ASSERTION, RP_ID)
    cdh = os.urandom(32)
    rp, user = {"id": RP_ID, "name": "v"}, {"id": b"u", "name": "u"}
    params = [{"type": "public-key", "alg": -7}]
    with pytest.raises(CtapError) as excinfo:  # no makeCredential permission
        ctap.make_credential(cdh, rp, user, params, pin_uv_param=protocol.authenticate(token, cdh),
                             pin_uv_protocol=protocol.VERSION)
    assert excinfo.value.code == ERR.PIN_AUTH_INVALID
    token = pin.get_pin_token("1357", ClientPin.PERMISSION.MAKE_CREDENTIAL, RP_ID)
    with pytest.raises(CtapError) as excinfo:  # bound to another RP
        ctap.make_credential(cdh, {"id": "other.example"}, user, params,
                             pin_uv_param=protocol.authenticate(token, cdh),
                             pin_uv_protocol=protocol.VERSION)
    assert excinfo.value.code == ERR.PIN_AUTH_INVALID
    made = ctap.make_credential(cdh, rp, user, params,
                                pin_uv_param=protocol.authenticate(token, cdh),
                                pin_uv_protocol=protocol.VERSION)
    assert made.auth_data.is_user_verified()
    with pytest.raises(CtapError) as excinfo:  # the touch used the token up
        ctap.make_credential(cdh, rp, user, params, pin_uv_param=protocol.authenticate(token, cdh),
                             pin_uv_protocol=protocol.VERSION)
    assert excinfo.value.code == ERR.PIN_AUTH_INVALID


def test_three_wrong_pins_need_a_power_cycle_and_eight_block(dev: Any, state: FidoState) -> None:
    pin = ClientPin(Ctap2(dev))
    pin.set_pin("9876")
    codes = []
    for _ in range(3):
        with pytest.raises(CtapError) as excinfo:
            pin.get_pin_token("0000")
        codes.append(excinfo.value.code)
    assert codes == [ERR.PIN_INVALID, ERR.PIN_INVALID, ERR.PIN_AUTH_BLOCKED]
    assert pin.get_pin_retries() == (MAX_PIN_RETRIES - 3, True)
    with pytest.raises(CtapError) as excinfo:  # even the right PIN, until a power cycle
        pin.get_pin_token("9876")
    assert excinfo.value.code == ERR.PIN_AUTH_BLOCKED
    dev.close()
    dev.connect()
    pin = ClientPin(Ctap2(dev))
    assert pin.get_pin_retries() == (MAX_PIN_RETRIES - 3, False)
    assert len(pin.get_pin_token("9876")) == 32
    assert pin.get_pin_retries()[0] == MAX_PIN_RETRIES

    codes = []
    for attempt in range(MAX_PIN_RETRIES):
        if attempt and attempt % 3 == 0:
            dev.close()
            dev.connect()
            pin = ClientPin(Ctap2(dev))
        with pytest.raises(CtapError) as excinfo:
            pin.get_pin_token("0000")
        codes.append(excinfo.value.code)
    assert codes[-1] == ERR.PIN_BLOCKED
    assert pin.get_pin_retries()[0] == 0
    dev.close()
    dev.connect()
    pin = ClientPin(Ctap2(dev))
    with pytest.raises(CtapError) as excinfo:
        pin.get_pin_token("9876")
    assert excinfo.value.code == ERR.PIN_BLOCKED


def test_retries_survive_a_restart_of_the_authenticator(state: FidoState) -> None:
    card, authenticator = fido_card(state)
    pin = ClientPin(Ctap2(device(card)))
    pin.set_pin("5555")
    with pytest.raises(CtapError):
        pin.get_pin_token("0000")
    saved = authenticator.store.load()
    assert saved is not None and saved.pin_retries == MAX_PIN_RETRIES - 1
    card2, _ = fido_card(saved)
    assert ClientPin(Ctap2(device(card2))).get_pin_retries()[0] == MAX_PIN_RETRIES - 1


def test_pin_policy(dev: Any) -> None:
    ctap = Ctap2(dev)
    protocol = PinProtocolV2()
    for pin, expected in ((b"abc", ERR.PIN_POLICY_VIOLATION), (b"\xff\xfe\xfd\xfc",
                                                              ERR.PIN_POLICY_VIOLATION)):
        key_agreement, shared = ClientPin(ctap, protocol)._get_shared_secret()
        enc = protocol.encrypt(shared, pin.ljust(64, b"\0"))
        with pytest.raises(CtapError) as excinfo:
            ctap.client_pin(2, ClientPin.CMD.SET_PIN, key_agreement=key_agreement,
                            new_pin_enc=enc, pin_uv_param=protocol.authenticate(shared, enc))
        assert excinfo.value.code == expected
    # A four-code-point PIN of multi-byte characters is long enough.
    ClientPin(ctap, protocol).set_pin("ééée")
    assert ClientPin(ctap).get_pin_token("ééée")
    # A wrong MAC over the new PIN is refused before anything is decrypted.
    key_agreement, shared = ClientPin(ctap, protocol)._get_shared_secret()
    old_enc = protocol.encrypt(shared, hashlib.sha256("ééée".encode()).digest()[:16])
    new_enc = protocol.encrypt(shared, b"7777".ljust(64, b"\0"))
    with pytest.raises(CtapError) as excinfo:
        ctap.client_pin(2, ClientPin.CMD.CHANGE_PIN, key_agreement=key_agreement,
                        pin_hash_enc=old_enc, new_pin_enc=new_enc, pin_uv_param=bytes(32))
    assert excinfo.value.code == ERR.PIN_AUTH_INVALID
    assert ClientPin(ctap).get_pin_retries()[0] == MAX_PIN_RETRIES  # no retry spent
    # No built-in user verification: its subcommands do not exist here.
    with pytest.raises(CtapError) as excinfo:
        ctap.client_pin(2, ClientPin.CMD.GET_UV_RETRIES)
    assert excinfo.value.code == ERR.INVALID_SUBCOMMAND


def test_uv_required_without_a_pin_is_refused_by_the_client(dev: Any) -> None:
    fido, _ = client(dev)
    with pytest.raises(ClientError) as excinfo:
        make_prf_credential(fido, uv="required")
    assert excinfo.value.code == ClientError.ERR.CONFIGURATION_UNSUPPORTED


# --- reset, presence ----------------------------------------------------------------------------


def test_reset_forgets_credentials_and_pin() -> None:
    card, _ = fido_card(FidoState())
    dev = device(card)
    fido, _ = client(dev)
    cred_id = make_prf_credential(fido).raw_id
    ClientPin(Ctap2(dev)).set_pin("1234")
    Ctap2(dev).reset()
    info = Ctap2(dev).get_info()
    assert info.options["clientPin"] is False
    with pytest.raises(ClientError) as excinfo:
        prf(fido, cred_id, os.urandom(32))
    assert ctap_code(excinfo) == ERR.NO_CREDENTIALS


def test_reset_only_soon_after_power_up() -> None:
    now = [1000.0]
    card, _ = fido_card(FidoState(), clock=lambda: now[0])
    dev = device(card)
    now[0] += 11
    with pytest.raises(CtapError) as excinfo:
        Ctap2(dev).reset()
    assert excinfo.value.code == ERR.NOT_ALLOWED
    dev.close()
    dev.connect()
    now[0] += 9
    Ctap2(dev).reset()


def test_no_touch_times_out_and_keepalive_says_up_needed() -> None:
    card, _ = fido_card(FidoState(), mode="never", timeout=0.4)
    dev = device(card)
    statuses: list[int] = []
    with pytest.raises(CtapError) as excinfo:
        Ctap2(dev).make_credential(os.urandom(32), {"id": RP_ID}, {"id": b"u"},
                                   [{"type": "public-key", "alg": -7}],
                                   on_keepalive=statuses.append)
    assert excinfo.value.code == ERR.USER_ACTION_TIMEOUT
    assert statuses == [2]  # STATUS.UPNEEDED


def test_slow_touch_prompts_and_succeeds() -> None:
    card, _ = fido_card(FidoState(), delay=0.3)
    fido, interaction = client(device(card))
    make_prf_credential(fido)
    assert interaction.touch_prompts == 1


def test_cancel_while_waiting_for_touch() -> None:
    card, _ = fido_card(FidoState(), delay=5.0, timeout=10.0)
    dev = device(card)
    event = threading.Event()
    threading.Timer(0.3, event.set).start()
    with pytest.raises(CtapError) as excinfo:
        Ctap2(dev).selection(event=event)
    assert excinfo.value.code == ERR.KEEPALIVE_CANCEL


def test_long_messages_travel_chained(dev: Any) -> None:
    """An allow list of six ids needs command chaining and comes back in one answer."""
    fido, _ = client(dev)
    ids = [make_prf_credential(fido).raw_id for _ in range(3)]
    allow = [{"type": "public-key", "id": os.urandom(CREDENTIAL_ID_LENGTH)} for _ in range(3)]
    allow += [{"type": "public-key", "id": i} for i in ids]
    response = Ctap2(dev).get_assertion(RP_ID, os.urandom(32), allow)
    assert response.credential["id"] == ids[0]
    assert AuthenticatorData(bytes(response.auth_data)).is_user_present()
    sent = dev._conn.apdus
    assert any(apdu[0] == 0x90 for apdu in sent)  # chained NFCCTAP_MSG
    assert any(apdu[:2] == b"\x00\xc0" for apdu in sent)  # a registration answer took 61xx


def test_too_large_allow_list_is_split_by_the_client(dev: Any) -> None:
    """Eight ids exceed 1200 bytes: the authenticator says so and python-fido2 sends fewer."""
    fido, _ = client(dev)
    mine = make_prf_credential(fido).raw_id
    allow = [{"type": "public-key", "id": os.urandom(CREDENTIAL_ID_LENGTH)} for _ in range(7)]
    allow.append({"type": "public-key", "id": mine})
    with pytest.raises(CtapError) as excinfo:
        Ctap2(dev).get_assertion(RP_ID, os.urandom(32), allow)
    assert excinfo.value.code == ERR.REQUEST_TOO_LARGE
    salt = os.urandom(32)
    result = fido.get_assertion({
        "rpId": RP_ID, "challenge": os.urandom(32), "allowCredentials": allow,
        "userVerification": "discouraged",
        "extensions": {"prf": {"evalByCredential": {
            websafe_encode(d["id"]): {"first": salt} for d in allow}}},
    }).get_response(0)
    assert result.raw_id == mine
    assert prf_bytes(result.client_extension_results["prf"]["results"]["first"]) == prf(
        fido, mine, salt)
