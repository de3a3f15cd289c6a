"""python-fido2 against the virtual FIDO2 authenticator through the real pcscd (PcscRig + vpcd).

The virtual token (``pyotp-hw token virtual`` in its own process) serves the OATH and the FIDO
applets on one reader; python-fido2's ``CtapPcscDevice`` finds the FIDO applet there while ykman
still uses the OATH applet.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fido2.client import ClientError
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.pcsc import CtapPcscDevice

from pyotp_hw.token.virtual.fido import AAGUID, MAX_PIN_RETRIES

from .fido_helpers import client, make_prf_credential, prf
from .helpers import SECRET_B32

pytestmark = pytest.mark.pcsc
ERR = CtapError.ERR


@contextmanager
def fido_device(rig: Any, slot: int = 0) -> Iterator[CtapPcscDevice]:
    """python-fido2's device for the FIDO applet on reader ``slot``, closed afterwards."""
    devices = list(CtapPcscDevice.list_devices(rig.reader(slot)))
    assert len(devices) == 1, devices
    try:
        yield devices[0]
    finally:
        devices[0].close(release=True)


def power_cycle(dev: CtapPcscDevice) -> None:
    """Disconnect (pcscd powers the card off) and connect again, as the NFC field would."""
    dev.close()
    dev.connect()


def code_of(exc: BaseException) -> int:
    if isinstance(exc, ClientError):
        assert isinstance(exc.cause, CtapError), repr(exc)
        exc = exc.cause
    assert isinstance(exc, CtapError), repr(exc)
    return int(exc.code)


def test_prf_over_pcscd_stable_and_bound_to_uv_and_salt(rig: Any, token: Any) -> None:
    with fido_device(rig) as dev:
        info = Ctap2(dev).info
        assert bytes(info.aaguid) == AAGUID and "hmac-secret" in info.extensions
        fido, _ = client(dev)
        cred_id = make_prf_credential(fido).raw_id
        salt, other = os.urandom(32), os.urandom(32)
        without_uv = prf(fido, cred_id, salt)
        assert prf(fido, cred_id, salt) == without_uv
        assert prf(fido, cred_id, other) != without_uv
        ClientPin(Ctap2(dev)).set_pin("123456")
        fido, _ = client(dev, pin="123456")
        with_uv = prf(fido, cred_id, salt, uv="required")
        assert len(with_uv) == 32 and with_uv != without_uv
        assert prf(fido, cred_id, salt, uv="required") == with_uv
        assert prf(fido, cred_id, salt, uv="discouraged") == without_uv


def test_another_authenticator_cannot_use_the_credential(
    rig: Any, vtoken: Callable[..., Any]
) -> None:
    vtoken()
    vtoken(slot=1)
    with fido_device(rig, 0) as dev:
        fido, _ = client(dev)
        cred_id = make_prf_credential(fido).raw_id
    with fido_device(rig, 1) as dev:
        other, _ = client(dev)
        with pytest.raises(ClientError) as excinfo:
            prf(other, cred_id, os.urandom(32))
        assert code_of(excinfo.value) == ERR.NO_CREDENTIALS


def test_client_pin_set_change_retries_and_blocking(rig: Any, token: Any) -> None:
    with fido_device(rig) as dev:
        pin = ClientPin(Ctap2(dev))
        pin.set_pin("24680")
        pin.change_pin("24680", "13579")
        assert pin.get_pin_retries() == (MAX_PIN_RETRIES, False)
        codes = []
        for _ in range(3):
            with pytest.raises(CtapError) as excinfo:
                pin.get_pin_token("24680")  # the old PIN
            codes.append(excinfo.value.code)
        assert codes == [ERR.PIN_INVALID, ERR.PIN_INVALID, ERR.PIN_AUTH_BLOCKED]
        with pytest.raises(CtapError) as excinfo:
            pin.get_pin_token("13579")
        assert excinfo.value.code == ERR.PIN_AUTH_BLOCKED
        power_cycle(dev)
        pin = ClientPin(Ctap2(dev))
        assert pin.get_pin_retries() == (MAX_PIN_RETRIES - 3, False)
        assert len(pin.get_pin_token("13579")) == 32
        assert pin.get_pin_retries()[0] == MAX_PIN_RETRIES

        # A client with the wrong PIN gets the authenticator's answer.
        fido, _ = client(dev, pin="00000")
        with pytest.raises(ClientError) as client_exc:
            make_prf_credential(fido, uv="required")
        assert code_of(client_exc.value) == ERR.PIN_INVALID

        for attempt in range(MAX_PIN_RETRIES):
            if attempt % 3 == 0:
                power_cycle(dev)
                pin = ClientPin(Ctap2(dev))
            with pytest.raises(CtapError) as excinfo:
                pin.get_pin_token("99999")
            last = excinfo.value.code
            if last == ERR.PIN_BLOCKED:
                break
        assert last == ERR.PIN_BLOCKED
        power_cycle(dev)
        with pytest.raises(CtapError) as excinfo:
            ClientPin(Ctap2(dev)).get_pin_token("13579")
        assert excinfo.value.code == ERR.PIN_BLOCKED


def test_cred_protect_level_3_is_not_usable_without_uv(rig: Any, token: Any) -> None:
    with fido_device(rig) as dev:
        ClientPin(Ctap2(dev)).set_pin("8642")
        fido, _ = client(dev, pin="8642")
        reg = make_prf_credential(fido, uv="required", extensions={
            "credentialProtectionPolicy": "userVerificationRequired",
            "enforceCredentialProtectionPolicy": True,
        })
        assert reg.response.attestation_object.auth_data.extensions["credProtect"] == 3
        salt = os.urandom(32)
        assert len(prf(fido, reg.raw_id, salt, uv="required")) == 32
        with pytest.raises(ClientError) as excinfo:
            prf(fido, reg.raw_id, salt, uv="discouraged")
        assert code_of(excinfo.value) == ERR.NO_CREDENTIALS


def test_reset_after_power_up_voids_credentials_and_pin(rig: Any, token: Any) -> None:
    with fido_device(rig) as dev:
        fido, _ = client(dev)
        cred_id = make_prf_credential(fido).raw_id
        ClientPin(Ctap2(dev)).set_pin("1234")
        power_cycle(dev)
        Ctap2(dev).reset()
        assert Ctap2(dev).get_info().options["clientPin"] is False
        with pytest.raises(ClientError) as excinfo:
            prf(fido, cred_id, os.urandom(32))
        assert code_of(excinfo.value) == ERR.NO_CREDENTIALS


def test_ykman_still_uses_the_oath_applet(rig: Any, token: Any, ykman: Any) -> None:
    ykman("oath", "accounts", "add", "-f", "-i", "Ex", "alice", SECRET_B32)
    with fido_device(rig) as dev:
        fido, _ = client(dev)
        make_prf_credential(fido)
    assert ykman("oath", "accounts", "list").stdout.split() == ["Ex:alice"]


def test_no_fido_serves_oath_only(rig: Any, vtoken: Callable[..., Any], ykman: Any) -> None:
    vtoken("--no-fido")
    assert list(CtapPcscDevice.list_devices(rig.reader(0))) == []
    ykman("oath", "accounts", "add", "-f", "bob", SECRET_B32)
    assert ykman("oath", "accounts", "list").stdout.split() == ["bob"]


def test_sealed_fido_state_survives_a_restart(
    rig: Any, vtoken: Callable[..., Any], tmp_path: Path
) -> None:
    state = tmp_path / "token.json"
    env = dict(rig.env(), PYOTP_HW_TOKEN_STATE_PASSPHRASE="pass phrase for tests")
    first = vtoken("--state", str(state), env=env)
    salt = os.urandom(32)
    with fido_device(rig) as dev:
        fido, _ = client(dev)
        cred_id = make_prf_credential(fido).raw_id
        before = prf(fido, cred_id, salt)
    fido_file = Path(str(state) + ".fido")
    assert stat.S_IMODE(fido_file.stat().st_mode) == 0o600
    raw = fido_file.read_text()
    assert '"protection": "scrypt+aes-256-gcm"' in raw
    assert f"state: {fido_file}" in first.output()
    first.stop()
    rig.wait_card(0, present=False)
    vtoken("--state", str(state), env=env)
    with fido_device(rig) as dev:
        fido, _ = client(dev)
        assert prf(fido, cred_id, salt) == before


def test_touch_prompt_and_timeout_over_pcscd(rig: Any, vtoken: Callable[..., Any]) -> None:
    slow = vtoken("--touch-delay", "0.4")
    with fido_device(rig) as dev:
        fido, interaction = client(dev)
        make_prf_credential(fido)
        assert interaction.touch_prompts == 1  # from the 9100 "user presence needed" answer
    slow.stop()
    rig.wait_card(0, present=False)
    vtoken("--touch", "never", "--touch-timeout", "0.5")
    with fido_device(rig) as dev:
        fido, interaction = client(dev)
        with pytest.raises(ClientError) as excinfo:
            make_prf_credential(fido)
        assert code_of(excinfo.value) == ERR.USER_ACTION_TIMEOUT
        assert interaction.touch_prompts == 1
