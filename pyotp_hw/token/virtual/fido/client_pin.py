"""authenticatorClientPIN: the PIN, its retries, and the pinUvAuthToken (CTAP 2.1 section 6.5).

The PIN is stored as LEFT(SHA-256(PIN), 16). Every try with a wrong PIN costs one of
:data:`~.state.MAX_PIN_RETRIES` retries (kept in the state, so they survive a power cycle; none
left blocks the PIN until authenticatorReset), and after three wrong tries in a row the
authenticator refuses PIN tries until it is powered off and on again. A right PIN gives the
retries back.

The pinUvAuthToken is 32 random bytes made when a PIN is proved, with permissions (makeCredential
and getAssertion only: this authenticator has none of the other features), an optional RP id it
is bound to, and a lifetime of :data:`TOKEN_LIFETIME` seconds; a power cycle, a PIN change and a
reset void it. An operation that collected user presence with it takes its permissions away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from .params import Params, Response, get_bytes, get_map, get_text, get_uint
from .pin import PROTOCOLS, PinProtocol
from .state import MAX_PIN_RETRIES, FidoState
from .status import CtapFailure, Status

__all__ = ["ClientPin", "PERMISSION_MC", "PERMISSION_GA", "TOKEN_LIFETIME", "MIN_PIN_LENGTH",
           "pin_hash"]

PERMISSION_MC = 0x01
PERMISSION_GA = 0x02
#: Seconds a pinUvAuthToken stays usable (CTAP 2.1 allows at most ten minutes).
TOKEN_LIFETIME = 600.0
#: Fewest Unicode code points in a PIN; the most is 63 bytes of UTF-8.
MIN_PIN_LENGTH = 4
_MAX_PIN_BYTES = 63
_POWER_CYCLE_AFTER = 3

# Subcommands and the keys of the request and response maps.
_GET_PIN_RETRIES, _GET_KEY_AGREEMENT, _SET_PIN, _CHANGE_PIN = 0x01, 0x02, 0x03, 0x04
_GET_PIN_TOKEN, _GET_TOKEN_USING_UV, _GET_UV_RETRIES, _GET_TOKEN_USING_PIN = 0x05, 0x06, 0x07, 0x09
_P_PROTOCOL, _P_SUBCOMMAND, _P_KEY_AGREEMENT, _P_AUTH = 0x01, 0x02, 0x03, 0x04
_P_NEW_PIN_ENC, _P_PIN_HASH_ENC, _P_PERMISSIONS, _P_RP_ID = 0x05, 0x06, 0x09, 0x0A
_R_KEY_AGREEMENT, _R_TOKEN, _R_RETRIES, _R_POWER_CYCLE = 0x01, 0x02, 0x03, 0x04


def pin_hash(pin: bytes) -> bytes:
    """LEFT(SHA-256(pin), 16): what the authenticator stores and the platform sends."""
    return hashlib.sha256(pin).digest()[:16]


@dataclass
class _Token:
    value: bytes
    protocol: int
    permissions: int
    rp_id: str | None
    expires: float


class ClientPin:
    """The ClientPIN command and the token it hands out.

    ``state`` returns the authenticator's current state; ``commit`` saves a changed copy (and
    raises :class:`CtapFailure` when it cannot). ``clock`` is a monotonic clock in seconds.
    """

    def __init__(
        self,
        state: Callable[[], FidoState],
        commit: Callable[[FidoState], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._state = state
        self._commit = commit
        self._clock = clock
        self.protocols: dict[int, PinProtocol] = {p.version: p() for p in PROTOCOLS}
        self._token: _Token | None = None
        self._wrong_in_a_row = 0

    # --- lifecycle ----------------------------------------------------------------------------

    def power_up(self) -> None:
        """New key agreement keys, no token, PIN tries allowed again."""
        for protocol in self.protocols.values():
            protocol.regenerate()
        self._token = None
        self._wrong_in_a_row = 0

    @property
    def needs_power_cycle(self) -> bool:
        """True after three wrong PINs in a row since power-up."""
        return self._wrong_in_a_row >= _POWER_CYCLE_AFTER

    def protocol(self, number: object) -> PinProtocol:
        """The protocol numbered ``number``; INVALID_PARAMETER when not supported."""
        if isinstance(number, bool) or not isinstance(number, int):
            raise CtapFailure(Status.CBOR_UNEXPECTED_TYPE)
        found = self.protocols.get(number)
        if found is None:
            raise CtapFailure(Status.INVALID_PARAMETER)
        return found

    # --- the token, for makeCredential and getAssertion ---------------------------------------

    def check_token(self, protocol_number: object, param: bytes, message: bytes, permission: int,
                    rp_id: str) -> None:
        """Check a pinUvAuthParam over ``message``; raise PIN_AUTH_INVALID when it fails.

        The token must be live, made with this protocol, hold ``permission`` and, when bound to
        an RP id, be bound to ``rp_id``. An unbound token is bound to ``rp_id`` from now on.
        """
        protocol = self.protocol(protocol_number)
        if self._state().pin_hash is None:
            raise CtapFailure(Status.PIN_NOT_SET)
        token = self._token
        if token is None or token.protocol != protocol.version:
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        if self._clock() >= token.expires:
            self._token = None
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        if not protocol.verify(token.value, message, param):
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        if not token.permissions & permission:
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        if token.rp_id is not None and token.rp_id != rp_id:
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        token.rp_id = rp_id

    def token_used_with_presence(self) -> None:
        """User presence was collected with the token: it keeps no permission."""
        if self._token is not None:
            self._token.permissions = 0

    # --- the command --------------------------------------------------------------------------

    def handle(self, params: Params) -> Response:
        """Answer one authenticatorClientPIN request."""
        subcommand = get_uint(params, _P_SUBCOMMAND, required=True)
        number = get_uint(params, _P_PROTOCOL, required=True)
        handlers: dict[int, Callable[[PinProtocol, Params], Response]] = {
            _GET_PIN_RETRIES: self._get_retries,
            _GET_KEY_AGREEMENT: self._get_key_agreement,
            _SET_PIN: self._set_pin,
            _CHANGE_PIN: self._change_pin,
            _GET_PIN_TOKEN: self._get_pin_token,
            _GET_TOKEN_USING_PIN: self._get_token_with_permissions,
        }
        handler = handlers.get(subcommand or 0)
        if handler is None:
            # 0x06 and 0x07 need built-in user verification, which this authenticator lacks.
            raise CtapFailure(Status.INVALID_SUBCOMMAND)
        return handler(self.protocol(number), params)

    def _get_retries(self, protocol: PinProtocol, params: Params) -> Response:
        return {_R_RETRIES: self._state().pin_retries, _R_POWER_CYCLE: self.needs_power_cycle}

    def _get_key_agreement(self, protocol: PinProtocol, params: Params
                           ) -> Response:
        return {_R_KEY_AGREEMENT: protocol.key_agreement()}

    def _shared_secret(self, protocol: PinProtocol, params: Params) -> bytes:
        return protocol.decapsulate(get_map(params, _P_KEY_AGREEMENT, required=True))

    def _new_pin(self, protocol: PinProtocol, shared: bytes, new_pin_enc: bytes) -> bytes:
        # A padded PIN is 64 bytes: protocol 2 puts a 16-byte IV in front.
        if len(new_pin_enc) != 64 + (16 if protocol.version == 2 else 0):
            raise CtapFailure(Status.INVALID_PARAMETER)
        padded = protocol.decrypt(shared, new_pin_enc)
        pin = padded.rstrip(b"\x00")
        try:
            points = len(pin.decode("utf-8"))
        except UnicodeDecodeError:
            raise CtapFailure(Status.PIN_POLICY_VIOLATION) from None
        if points < MIN_PIN_LENGTH or len(pin) > _MAX_PIN_BYTES:
            raise CtapFailure(Status.PIN_POLICY_VIOLATION)
        return pin

    def _set_pin(self, protocol: PinProtocol, params: Params) -> Response:
        auth = get_bytes(params, _P_AUTH, required=True)
        new_pin_enc = get_bytes(params, _P_NEW_PIN_ENC, required=True)
        assert auth is not None and new_pin_enc is not None
        key_agreement = get_map(params, _P_KEY_AGREEMENT, required=True)
        if self._state().pin_hash is not None:
            raise CtapFailure(Status.NOT_ALLOWED)
        shared = protocol.decapsulate(key_agreement)
        if not protocol.verify(shared, new_pin_enc, auth):
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        pin = self._new_pin(protocol, shared, new_pin_enc)
        state = self._state().copy()
        state.pin_hash = pin_hash(pin)
        state.pin_retries = MAX_PIN_RETRIES
        self._commit(state)
        return {}

    def _check_pin(self, protocol: PinProtocol, shared: bytes, pin_hash_enc: bytes) -> None:
        """Spend a retry, then compare; a right PIN gives the retries back."""
        current = self._state()
        stored = current.pin_hash
        if stored is None:
            raise CtapFailure(Status.PIN_NOT_SET)
        if current.pin_retries == 0:
            raise CtapFailure(Status.PIN_BLOCKED)
        if self.needs_power_cycle:
            raise CtapFailure(Status.PIN_AUTH_BLOCKED)
        if len(pin_hash_enc) != 16 + (16 if protocol.version == 2 else 0):
            raise CtapFailure(Status.INVALID_PARAMETER)
        state = current.copy()
        state.pin_retries -= 1
        self._commit(state)
        if not hmac.compare_digest(protocol.decrypt(shared, pin_hash_enc), stored):
            protocol.regenerate()
            self._wrong_in_a_row += 1
            if state.pin_retries == 0:
                raise CtapFailure(Status.PIN_BLOCKED)
            if self.needs_power_cycle:
                raise CtapFailure(Status.PIN_AUTH_BLOCKED)
            raise CtapFailure(Status.PIN_INVALID)
        self._wrong_in_a_row = 0
        state = state.copy()
        state.pin_retries = MAX_PIN_RETRIES
        self._commit(state)

    def _change_pin(self, protocol: PinProtocol, params: Params) -> Response:
        auth = get_bytes(params, _P_AUTH, required=True)
        new_pin_enc = get_bytes(params, _P_NEW_PIN_ENC, required=True)
        pin_hash_enc = get_bytes(params, _P_PIN_HASH_ENC, required=True)
        assert auth is not None and new_pin_enc is not None and pin_hash_enc is not None
        key_agreement = get_map(params, _P_KEY_AGREEMENT, required=True)
        state = self._state()
        if state.pin_hash is None:
            raise CtapFailure(Status.PIN_NOT_SET)
        if state.pin_retries == 0:
            raise CtapFailure(Status.PIN_BLOCKED)
        shared = protocol.decapsulate(key_agreement)
        if not protocol.verify(shared, new_pin_enc + pin_hash_enc, auth):
            raise CtapFailure(Status.PIN_AUTH_INVALID)
        self._check_pin(protocol, shared, pin_hash_enc)
        pin = self._new_pin(protocol, shared, new_pin_enc)
        changed = self._state().copy()
        changed.pin_hash = pin_hash(pin)
        self._commit(changed)
        self._token = None
        return {}

    def _issue(self, protocol: PinProtocol, params: Params, permissions: int,
               rp_id: str | None) -> Response:
        pin_hash_enc = get_bytes(params, _P_PIN_HASH_ENC, required=True)
        assert pin_hash_enc is not None
        key_agreement = get_map(params, _P_KEY_AGREEMENT, required=True)
        state = self._state()
        if state.pin_hash is None:
            raise CtapFailure(Status.PIN_NOT_SET)
        if state.pin_retries == 0:
            raise CtapFailure(Status.PIN_BLOCKED)
        shared = protocol.decapsulate(key_agreement)
        self._check_pin(protocol, shared, pin_hash_enc)
        value = secrets.token_bytes(32)
        self._token = _Token(value, protocol.version, permissions, rp_id,
                             self._clock() + TOKEN_LIFETIME)
        return {_R_TOKEN: protocol.encrypt(shared, value)}

    def _get_pin_token(self, protocol: PinProtocol, params: Params) -> Response:
        if _P_PERMISSIONS in params or _P_RP_ID in params:
            raise CtapFailure(Status.INVALID_PARAMETER)
        return self._issue(protocol, params, PERMISSION_MC | PERMISSION_GA, None)

    def _get_token_with_permissions(self, protocol: PinProtocol, params: Params
                                    ) -> Response:
        permissions = get_uint(params, _P_PERMISSIONS, required=True)
        rp_id = get_text(params, _P_RP_ID)
        if not permissions:
            raise CtapFailure(Status.INVALID_PARAMETER)
        if permissions & ~(PERMISSION_MC | PERMISSION_GA):
            raise CtapFailure(Status.UNAUTHORIZED_PERMISSION)
        if permissions & PERMISSION_MC and rp_id is None:
            raise CtapFailure(Status.MISSING_PARAMETER)
        return self._issue(protocol, params, permissions, rp_id)

    def forget(self) -> None:
        """Drop the token and the count of wrong PINs (authenticatorReset)."""
        self._token = None
        self._wrong_in_a_row = 0
        for protocol in self.protocols.values():
            protocol.regenerate()
