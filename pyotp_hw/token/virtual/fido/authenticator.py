"""A software CTAP 2.1 authenticator: one CTAP2 message in, one answer out.

Commands: authenticatorMakeCredential (0x01), authenticatorGetAssertion (0x02),
authenticatorGetInfo (0x04), authenticatorClientPIN (0x06), authenticatorReset (0x07),
authenticatorGetNextAssertion (0x08, always NOT_ALLOWED: there are no discoverable credentials)
and authenticatorSelection (0x0B). Credentials are ES256 (P-256) and non-discoverable (see
:mod:`.credential`); extensions hmac-secret (two secrets per credential, with and without user
verification), hmac-secret-mc (its output already at makeCredential) and credProtect. User
verification is the PIN (a pinUvAuthToken); there is no built-in UV. User presence is the
simulated touch of a :class:`~pyotp_hw.token.virtual.applet.TouchPolicy`. Attestation is
"packed" self attestation (signed by the credential's own key).

:meth:`Authenticator.handle` answers every input with a status byte (and CBOR after ``00``): a
malformed message gets the CTAP2 status it deserves, never an exception.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ...._types import CBORValue
from .. import applet as oath_applet
from . import cbor
from .client_pin import PERMISSION_GA, PERMISSION_MC, ClientPin
from .credential import CREDENTIAL_ID_LENGTH, Credential, CredentialSealer
from .params import Params, Response, get_bytes, get_list, get_map, get_text, get_uint
from .pin import PinProtocol, cose_p256
from .state import FidoMemoryStore, FidoState, FidoStore
from .status import CtapFailure, Status

__all__ = ["Authenticator", "AAGUID", "MAX_MSG_SIZE", "MAX_CREDS_IN_LIST", "COMMANDS"]

#: This authenticator model's AAGUID (random, fixed: it names "pyotp-hw virtual FIDO2").
AAGUID = bytes.fromhex("7079b7f2e3a54e0e9c55c1d2a0f1e6b3")
#: The largest CTAP2 message accepted by default (a YubiKey 5 says 1200).
MAX_MSG_SIZE = 1200
#: The most credential descriptors an allow or exclude list may hold.
MAX_CREDS_IN_LIST = 8
FIRMWARE_VERSION = 0x000100

MAKE_CREDENTIAL, GET_ASSERTION, GET_INFO, CLIENT_PIN = 0x01, 0x02, 0x04, 0x06
RESET, GET_NEXT_ASSERTION, SELECTION = 0x07, 0x08, 0x0B
#: Command bytes and their names.
COMMANDS = {
    MAKE_CREDENTIAL: "authenticatorMakeCredential",
    GET_ASSERTION: "authenticatorGetAssertion",
    GET_INFO: "authenticatorGetInfo",
    CLIENT_PIN: "authenticatorClientPIN",
    RESET: "authenticatorReset",
    GET_NEXT_ASSERTION: "authenticatorGetNextAssertion",
    SELECTION: "authenticatorSelection",
}

_ES256 = -7
_FLAG_UP, _FLAG_UV, _FLAG_AT, _FLAG_ED = 0x01, 0x04, 0x40, 0x80
_HMAC_SECRET, _HMAC_SECRET_MC, _CRED_PROTECT = "hmac-secret", "hmac-secret-mc", "credProtect"
_CRED_PROTECT_UV_REQUIRED = 3
_MAX_USER_ID = 64
_MAX_SIGN_COUNT = 2**32 - 1
_POLL = 0.02


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _credential_ids(descriptors: list[CBORValue] | None) -> list[bytes]:
    """The ids of the "public-key" descriptors of an allow or exclude list."""
    if descriptors is None:
        return []
    if len(descriptors) > MAX_CREDS_IN_LIST:
        raise CtapFailure(Status.REQUEST_TOO_LARGE)
    ids = []
    for descriptor in descriptors:
        if not isinstance(descriptor, dict):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
        kind = get_text(descriptor, "type", required=True)
        cred_id = get_bytes(descriptor, "id", required=True)
        assert cred_id is not None
        if kind == "public-key":
            ids.append(cred_id)
    return ids


def _options(params: Params, key: int) -> dict[str, bool]:
    raw = get_map(params, key) or {}
    out: dict[str, bool] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not isinstance(value, bool):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
        out[name] = value
    return out


class Authenticator:
    """The CTAP2 authenticator, keeping its state in ``store``.

    ``touch`` simulates the user's touches (auto-approve after its delay by default); its
    ``on_request`` is told the RP id (as bytes) whenever the authenticator waits for a touch.
    ``reset_window`` is how many seconds after power-up authenticatorReset is allowed (CTAP says
    10; None allows it at any time). ``max_msg_size`` is the largest message accepted.
    """

    def __init__(
        self,
        store: FidoStore | None = None,
        *,
        touch: oath_applet.TouchPolicy | None = None,
        reset_window: float | None = 10.0,
        max_msg_size: int = MAX_MSG_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store: FidoStore = store if store is not None else FidoMemoryStore()
        self.touch = touch if touch is not None else oath_applet.TouchPolicy(delay=0.0)
        self.reset_window = reset_window
        self.max_msg_size = max_msg_size
        self._clock = clock
        loaded = self.store.load()
        if loaded is None:
            loaded = FidoState()
            self.store.save(loaded)
        self.state = loaded
        self._sealer = CredentialSealer(loaded.master_key)
        self.pin = ClientPin(lambda: self.state, self._commit, clock=clock)
        self._powered_at = clock()
        self._lock = threading.RLock()
        #: True while the authenticator waits for a touch (the transport says "UP needed").
        self.waiting_for_touch = False

    # --- lifecycle ----------------------------------------------------------------------------

    def power_up(self) -> None:
        """The card was powered: new key agreement keys, no token, the reset window opens."""
        with self._lock:
            self.pin.power_up()
            self._powered_at = self._clock()

    def _commit(self, state: FidoState) -> None:
        """Save a changed copy of the state, then adopt it; a failed save changes nothing."""
        try:
            self.store.save(state)
        except OSError:
            raise CtapFailure(Status.OTHER) from None
        if state.master_key != self.state.master_key:
            self._sealer = CredentialSealer(state.master_key)
        self.state = state

    # --- the message --------------------------------------------------------------------------

    def handle(self, message: bytes, cancel: threading.Event | None = None) -> bytes:
        """Answer one CTAP2 message (command byte + CBOR parameters) with status + CBOR."""
        cancel = cancel if cancel is not None else threading.Event()
        with self._lock:
            try:
                result = self._dispatch(bytes(message), cancel)
            except CtapFailure as failure:
                return bytes([failure.status])
            except cbor.CborError:
                return bytes([Status.INVALID_CBOR])
        return b"\x00" + (cbor.encode(result) if result is not None else b"")

    def _dispatch(self, message: bytes, cancel: threading.Event) -> Response | None:
        if not message:
            raise CtapFailure(Status.INVALID_LENGTH)
        if len(message) > self.max_msg_size:
            raise CtapFailure(Status.REQUEST_TOO_LARGE)
        command, body = message[0], message[1:]
        handlers: dict[int, Callable[[Params, threading.Event], Response | None]] = {
            MAKE_CREDENTIAL: self._make_credential,
            GET_ASSERTION: self._get_assertion,
            CLIENT_PIN: lambda params, _cancel: self.pin.handle(params),
            RESET: self._reset,
            SELECTION: self._selection,
        }
        if command == GET_INFO:
            if body:
                raise CtapFailure(Status.INVALID_LENGTH)
            return self.info()
        if command == GET_NEXT_ASSERTION:
            raise CtapFailure(Status.NOT_ALLOWED)
        handler = handlers.get(command)
        if handler is None:
            raise CtapFailure(Status.INVALID_COMMAND)
        params: CBORValue = cbor.decode(body) if body else {}
        if not isinstance(params, dict):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
        if any(not isinstance(k, int) for k in params):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
        return handler(params, cancel)

    # --- getInfo ------------------------------------------------------------------------------

    def info(self) -> Response:
        """The authenticatorGetInfo response map."""
        return {
            0x01: ["FIDO_2_0", "FIDO_2_1"],
            0x02: [_CRED_PROTECT, _HMAC_SECRET, _HMAC_SECRET_MC],
            0x03: AAGUID,
            0x04: {
                "rk": False,
                "up": True,
                "plat": False,
                "clientPin": self.state.pin_hash is not None,
                "pinUvAuthToken": True,
                "makeCredUvNotRqd": True,
            },
            0x05: self.max_msg_size,
            # Unpacked into a display so that it types as list[CBORValue], not list[int].
            0x06: [*sorted(self.pin.protocols, reverse=True)],
            0x07: MAX_CREDS_IN_LIST,
            0x08: CREDENTIAL_ID_LENGTH,
            0x09: ["nfc"],
            0x0A: [{"alg": _ES256, "type": "public-key"}],
            0x0D: 4,
            0x0E: FIRMWARE_VERSION,
        }

    # --- user presence ------------------------------------------------------------------------

    def _await_touch(self, rp_id: str, cancel: threading.Event) -> None:
        """Wait for the simulated touch; KEEPALIVE_CANCEL or USER_ACTION_TIMEOUT otherwise."""
        touch = self.touch
        if touch.on_request is not None:
            touch.on_request(rp_id.encode("utf-8"))
        touched = touch.mode == "auto" and touch.delay <= touch.timeout
        deadline = self._clock() + (touch.delay if touched else touch.timeout)
        self.waiting_for_touch = True
        try:
            while True:
                if cancel.is_set() or touch.cancel.is_set():
                    raise CtapFailure(Status.KEEPALIVE_CANCEL)
                left = deadline - self._clock()
                if left <= 0:
                    break
                cancel.wait(min(left, _POLL))
        finally:
            self.waiting_for_touch = False
        if not touched:
            raise CtapFailure(Status.USER_ACTION_TIMEOUT)

    def _probe_touch(self, params: Params, key: int, rp_id: str,
                     cancel: threading.Event) -> None:
        """An empty pinUvAuthParam asks "which key is this?": touch, then say why it failed."""
        if params.get(key) == b"":
            self._await_touch(rp_id, cancel)
            if self.state.pin_hash is None:
                raise CtapFailure(Status.PIN_NOT_SET)
            raise CtapFailure(Status.PIN_INVALID)

    def _user_verified(self, params: Params, auth_key: int, protocol_key: int,
                       message: bytes, permission: int, rp_id: str) -> bool:
        auth = get_bytes(params, auth_key)
        if auth is None:
            return False
        if protocol_key not in params:
            raise CtapFailure(Status.MISSING_PARAMETER)
        self.pin.check_token(params[protocol_key], auth, message, permission, rp_id)
        return True

    def _next_count(self) -> int:
        state = self.state.copy()
        state.sign_count = min(state.sign_count + 1, _MAX_SIGN_COUNT)
        self._commit(state)
        return state.sign_count

    # --- extensions ---------------------------------------------------------------------------

    def _hmac_secret(self, value: CBORValue, credential: Credential, user_verified: bool
                     ) -> bytes:
        """The encrypted hmac-secret output for the extension input map ``value``."""
        if not isinstance(value, dict):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
        key_agreement = get_map(value, 1, required=True)
        salt_enc = get_bytes(value, 2, required=True)
        salt_auth = get_bytes(value, 3, required=True)
        assert salt_enc is not None and salt_auth is not None
        number = value[4] if 4 in value else 1
        protocol: PinProtocol = self.pin.protocol(number)
        shared = protocol.decapsulate(key_agreement)
        if not protocol.verify(shared, salt_enc, salt_auth):
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        salts = protocol.decrypt(shared, salt_enc)
        if len(salts) not in (32, 64):
            raise CtapFailure(Status.INVALID_LENGTH)
        key = credential.cred_random(user_verified)
        output = b"".join(
            hmac.new(key, salts[i : i + 32], hashlib.sha256).digest()
            for i in range(0, len(salts), 32)
        )
        return protocol.encrypt(shared, output)

    # --- makeCredential -----------------------------------------------------------------------

    def _make_credential(self, params: Params, cancel: threading.Event) -> Response:
        client_data_hash = get_bytes(params, 1, required=True)
        rp = get_map(params, 2, required=True)
        user = get_map(params, 3, required=True)
        algorithms = get_list(params, 4, required=True)
        assert client_data_hash is not None and rp is not None and user is not None
        assert algorithms is not None
        rp_id = get_text(rp, "id", required=True)
        assert rp_id is not None
        get_text(rp, "name")
        user_id = get_bytes(user, "id", required=True)
        assert user_id is not None
        get_text(user, "name")
        get_text(user, "displayName")
        if len(user_id) > _MAX_USER_ID:
            raise CtapFailure(Status.INVALID_PARAMETER)
        excluded = _credential_ids(get_list(params, 5))
        extensions = get_map(params, 6) or {}
        options = _options(params, 7)
        get_bytes(params, 8)
        self._probe_touch(params, 8, rp_id, cancel)
        if 0x0A in params:
            get_uint(params, 0x0A)
            raise CtapFailure(Status.INVALID_PARAMETER)  # no enterprise attestation here

        _require_es256(algorithms)

        user_verified = self._user_verified(params, 8, 9, client_data_hash, PERMISSION_MC, rp_id)
        if options.get("rk"):
            raise CtapFailure(Status.UNSUPPORTED_OPTION)
        if options.get("up") is False:
            raise CtapFailure(Status.INVALID_OPTION)
        if options.get("uv") and not user_verified:
            raise CtapFailure(Status.INVALID_OPTION)  # no built-in user verification

        cred_protect, hmac_secret, hmac_mc = _creation_extensions(extensions)

        rp_id_hash = _sha256(rp_id.encode("utf-8"))
        for cred_id in excluded:
            known = self._sealer.open(cred_id, rp_id_hash)
            if known is None:
                continue
            if known.cred_protect == _CRED_PROTECT_UV_REQUIRED and not user_verified:
                continue
            self._await_touch(rp_id, cancel)
            raise CtapFailure(Status.CREDENTIAL_EXCLUDED)

        credential = Credential.generate(cred_protect=cred_protect, hmac_secret=hmac_secret)
        ext_out: dict[str, CBORValue] = {}
        if _CRED_PROTECT in extensions:
            ext_out[_CRED_PROTECT] = cred_protect
        if hmac_secret:
            ext_out[_HMAC_SECRET] = True
            if hmac_mc is not None:
                ext_out[_HMAC_SECRET_MC] = self._hmac_secret(hmac_mc, credential, user_verified)

        self._await_touch(rp_id, cancel)
        if user_verified:
            self.pin.token_used_with_presence()
        cred_id = self._sealer.seal(credential, rp_id_hash)
        count = self._next_count()
        flags = _FLAG_UP | _FLAG_AT | (_FLAG_UV if user_verified else 0)
        flags |= _FLAG_ED if ext_out else 0
        public = cbor.encode(cose_p256(credential.private_key.public_key(), _ES256))
        auth_data = (
            rp_id_hash + bytes([flags]) + count.to_bytes(4, "big")
            + AAGUID + len(cred_id).to_bytes(2, "big") + cred_id + public
            + (cbor.encode(ext_out) if ext_out else b"")
        )
        signature = credential.private_key.sign(auth_data + client_data_hash,
                                                ec.ECDSA(hashes.SHA256()))
        return {1: "packed", 2: auth_data, 3: {"alg": _ES256, "sig": signature}}

    # --- getAssertion -------------------------------------------------------------------------

    def _get_assertion(self, params: Params, cancel: threading.Event) -> Response:
        rp_id = get_text(params, 1, required=True)
        client_data_hash = get_bytes(params, 2, required=True)
        assert rp_id is not None and client_data_hash is not None
        allowed = get_list(params, 3)
        ids = _credential_ids(allowed)
        extensions = get_map(params, 4) or {}
        options = _options(params, 5)
        get_bytes(params, 6)
        self._probe_touch(params, 6, rp_id, cancel)

        user_verified = self._user_verified(params, 6, 7, client_data_hash, PERMISSION_GA, rp_id)
        if "rk" in options:
            raise CtapFailure(Status.UNSUPPORTED_OPTION)
        if options.get("uv") and not user_verified:
            raise CtapFailure(Status.INVALID_OPTION)  # no built-in user verification
        presence = options.get("up", True)
        hmac_input = extensions.get(_HMAC_SECRET)
        if hmac_input is not None and not presence:
            raise CtapFailure(Status.UNSUPPORTED_OPTION)

        rp_id_hash = _sha256(rp_id.encode("utf-8"))
        found: tuple[bytes, Credential] | None = None
        for cred_id in ids:
            credential = self._sealer.open(cred_id, rp_id_hash)
            if credential is None:
                continue
            if credential.cred_protect == _CRED_PROTECT_UV_REQUIRED and not user_verified:
                continue
            found = (cred_id, credential)
            break
        if found is None:
            # No credential: with an allow list absent there would be discoverable ones to
            # search, and this authenticator keeps none. Touch first, so silence reveals nothing.
            if presence:
                self._await_touch(rp_id, cancel)
            raise CtapFailure(Status.NO_CREDENTIALS)
        cred_id, credential = found

        ext_out: dict[str, CBORValue] = {}
        if hmac_input is not None and credential.hmac_secret:
            ext_out[_HMAC_SECRET] = self._hmac_secret(hmac_input, credential, user_verified)

        if presence:
            self._await_touch(rp_id, cancel)
            if user_verified:
                self.pin.token_used_with_presence()
        count = self._next_count()
        flags = (_FLAG_UP if presence else 0) | (_FLAG_UV if user_verified else 0)
        flags |= _FLAG_ED if ext_out else 0
        auth_data = (rp_id_hash + bytes([flags]) + count.to_bytes(4, "big")
                     + (cbor.encode(ext_out) if ext_out else b""))
        signature = credential.private_key.sign(auth_data + client_data_hash,
                                                ec.ECDSA(hashes.SHA256()))
        return {1: {"id": cred_id, "type": "public-key"}, 2: auth_data, 3: signature}

    # --- reset and selection ------------------------------------------------------------------

    def _reset(self, params: Params, cancel: threading.Event) -> None:
        window = self.reset_window
        if window is not None and self._clock() - self._powered_at > window:
            raise CtapFailure(Status.NOT_ALLOWED)
        self._await_touch("", cancel)
        self._commit(FidoState())
        self.pin.forget()
        return None

    def _selection(self, params: Params, cancel: threading.Event) -> None:
        self._await_touch("", cancel)
        return None


def _require_es256(algorithms: list[CBORValue]) -> None:
    """Check makeCredential's pubKeyCredParams; ES256 is the one algorithm offered."""
    es256 = False
    for entry in algorithms:
        if not isinstance(entry, dict):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
        kind = get_text(entry, "type", required=True)
        alg = entry.get("alg")
        if isinstance(alg, bool) or not isinstance(alg, int):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE if "alg" in entry
                              else Status.MISSING_PARAMETER)
        es256 = es256 or (kind == "public-key" and alg == _ES256)
    if not es256:
        raise CtapFailure(Status.UNSUPPORTED_ALGORITHM)


def _creation_extensions(extensions: Params) -> tuple[int, bool, CBORValue]:
    """``(credProtect level, hmac-secret wanted, hmac-secret-mc input)`` of a makeCredential."""
    cred_protect = extensions.get(_CRED_PROTECT, 1)
    if isinstance(cred_protect, bool) or not isinstance(cred_protect, int):
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    if cred_protect not in (1, 2, 3):
        raise CtapFailure(Status.INVALID_PARAMETER)
    hmac_secret = extensions.get(_HMAC_SECRET, False)
    if not isinstance(hmac_secret, bool):
        raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
    hmac_mc = extensions.get(_HMAC_SECRET_MC)
    if hmac_mc is not None and not hmac_secret:
        raise CtapFailure(Status.INVALID_PARAMETER)
    return cred_protect, hmac_secret, hmac_mc
