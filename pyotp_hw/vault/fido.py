"""The FIDO2 unlocker: a security key's PRF (hmac-secret) output, through python-fido2.

Enrollment makes a non-discoverable credential for the vault's RP id (nothing is stored on the
key) with the PRF extension, then evaluates the PRF at a random 32-byte salt of the slot's own.
The user-verification choice is fixed then and stored ("required" or "discouraged", never
"preferred"): the authenticator keeps one secret for assertions with UV and another for those
without, so the same choice is asked for at every unlock. A slot that requires UV also gets
credProtect (userVerificationRequired), so the credential cannot even be found without UV.

Unlocking sends one assertion whose allow list holds every FIDO2 slot's credential (one per UV
choice when slots differ), with each credential's salt (``evalByCredential``): whichever
enrolled key is present answers. Every unlock needs a touch.

The slot stores in clear: RP id, credential id, salt, the UV choice, whether the key did verify
the user at enrollment, credProtect, and ``mode`` ``"prf"`` (the WebAuthn PRF, whose salt
reaches hmac-secret as SHA-256("WebAuthn PRF" 00 || salt)).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from copy import copy
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .._types import JSONObject
from ..errors import InvalidArgument, MissingExtra
from .errors import SlotSettingsMismatch, UnlockerUnavailable, UnlockFailed, VaultCorrupted
from .slots import Slot, SlotSecret, b64, unb64
from .unlockers import SlotKind

if TYPE_CHECKING:  # python-fido2 is an optional extra, imported when a key is used
    from fido2.client import Fido2Client, UserInteraction
    from fido2.ctap import CtapDevice
    from fido2.ctap2.pin import ClientPin
    from fido2.webauthn import AuthenticationResponse, RegistrationResponse

__all__ = ["Fido2Unlocker", "FIDO2_KIND", "DEFAULT_RP_ID", "find_devices"]

FIDO2_KIND: SlotKind = "fido2"
#: The RP id of vault credentials (not a web origin: checked by our own rule, not the PSL).
DEFAULT_RP_ID = "pyotp-hw-vault"
UserVerification = Literal["required", "discouraged"]
#: Credentials per allow list (some keys cap a CTAP message at 1024 bytes).
ALLOW_LIST_MAX = 6
_UV_FLAG = 0x04
_T = TypeVar("_T")


def _import_fido2() -> ModuleType:
    try:
        import fido2.client
        import fido2.ctap
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise MissingExtra("a FIDO2 vault unlocker", "fido", "fido2") from None
    return fido2


def find_devices(reader: str | None = None) -> list[CtapDevice]:
    """python-fido2 devices: those on PC/SC readers (whose name contains ``reader``), and the
    USB HID keys when no reader is named."""
    _import_fido2()
    devices: list[CtapDevice] = []
    try:
        from fido2.pcsc import CtapPcscDevice

        devices.extend(CtapPcscDevice.list_devices(reader or ""))
    except Exception:
        if reader is not None:
            raise UnlockerUnavailable(f"no FIDO2 security key on a reader named {reader!r} "
                                      "(is pcscd running?)") from None
    if reader is None:
        try:
            from fido2.hid import CtapHidDevice

            devices.extend(CtapHidDevice.list_devices())
        except Exception:  # noqa: S110 - no HID on this system
            pass
    return devices


PinSource = str | Callable[[], "str | None"] | None


def _interaction(pin: PinSource, on_touch: Callable[[], None]) -> UserInteraction:
    from fido2.client import UserInteraction

    class Interaction(UserInteraction):
        """Gives the PIN it was given (or cancels) and announces touches."""

        def prompt_up(self) -> None:
            on_touch()

        def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None
                        ) -> str | None:
            return pin() if callable(pin) else pin

        def request_uv(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> bool:
            return True

    return Interaction()


def _ctap_code(exc: BaseException) -> int | None:
    from fido2.client import ClientError
    from fido2.ctap import CtapError

    cause: BaseException | None = exc
    if isinstance(exc, ClientError):
        cause = exc.cause
    return int(cause.code) if isinstance(cause, CtapError) else None


def _extension_outputs(response: RegistrationResponse | AuthenticationResponse
                       ) -> Mapping[str, Any]:
    # python-fido2's own type: each extension's output has a shape of its own.
    return response.client_extension_results or {}


def _prf_output(response: RegistrationResponse | AuthenticationResponse) -> bytes | None:
    from fido2.utils import websafe_decode

    results = _extension_outputs(response).get("prf", {}).get("results")
    if not results or results.get("first") is None:
        return None
    first = results["first"]
    return websafe_decode(first) if isinstance(first, str) else bytes(first)


class Fido2Unlocker:
    """Opens FIDO2 slots with the security key ``device`` (a python-fido2 CTAP device).

    ``pin`` is the key's PIN (needed for slots that require UV), or a callable asked for it only
    when the key needs it (returning None cancels); ``uv`` is the choice for slots
    this unlocker enrolls (``"discouraged"`` when not given; a rotated slot keeps its own choice
    unless ``uv`` is given, see :meth:`for_rotation`); ``on_touch`` is called when the key waits
    for a touch.
    """

    kind = FIDO2_KIND

    def __init__(self, device: CtapDevice, *, pin: PinSource = None,
                 uv: UserVerification | None = None, rp_id: str = DEFAULT_RP_ID,
                 on_touch: Callable[[], None] | None = None) -> None:
        if uv not in (None, "required", "discouraged"):
            raise InvalidArgument("user verification must be 'required' or 'discouraged' "
                                  "(the secret differs with and without it)")
        if not rp_id:
            raise InvalidArgument("the RP id is empty")
        self._device = device
        self._pin = pin
        self._uv: UserVerification | None = uv
        self.rp_id = rp_id
        self._on_touch = on_touch or (lambda: None)

    @property
    def uv(self) -> UserVerification:
        """The UV choice of the slots this unlocker enrolls."""
        return self._uv or "discouraged"

    def for_rotation(self, params: Mapping[str, object]) -> Fido2Unlocker:
        """This unlocker to re-enroll the slot of ``params``: with the slot's own UV choice unless
        one was given explicitly, so a rotation never drops user verification by omission (a
        slot with credProtect 3 was enrolled with UV required, whatever its ``uv`` says)."""
        if self._uv is not None:
            return self
        rotated = copy(self)
        required = params.get("uv") == "required" or params.get("cred_protect") == 3
        rotated._uv = "required" if required else "discouraged"
        return rotated

    def __repr__(self) -> str:
        return f"Fido2Unlocker(uv={self.uv!r}, rp_id={self.rp_id!r}, <pin hidden>)"

    def _client(self, rp_id: str) -> Fido2Client:
        _import_fido2()
        from fido2.client import DefaultClientDataCollector, Fido2Client

        collector = DefaultClientDataCollector(
            f"https://{rp_id}", verify=lambda rp, origin: rp == rp_id)
        return Fido2Client(self._device, client_data_collector=collector,
                                        user_interaction=_interaction(self._pin, self._on_touch))

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        from fido2.client import ClientError
        from fido2.ctap import CtapError

        try:
            return call()
        except (ClientError, CtapError) as exc:
            code = _ctap_code(exc)
            err = CtapError.ERR
            if code == err.PIN_INVALID:
                raise UnlockFailed(f"{what}: wrong PIN for the security key") from None
            if code in (err.PIN_BLOCKED, err.PIN_AUTH_BLOCKED):
                raise UnlockerUnavailable(f"{what}: the security key's PIN is blocked "
                                          "(remove and reinsert it, or reset it)") from None
            if code in (err.PUAT_REQUIRED, err.PIN_NOT_SET, err.UV_INVALID):
                raise UnlockerUnavailable(f"{what}: user verification is required: give the "
                                          "security key's PIN (set one if it has none)") from None
            if code in (err.ACTION_TIMEOUT, err.USER_ACTION_TIMEOUT):
                raise UnlockerUnavailable(f"{what}: the security key was not touched in "
                                          "time") from None
            if code == err.NO_CREDENTIALS:
                raise
            if isinstance(exc, ClientError) and exc.code == ClientError.ERR.BAD_REQUEST:
                raise UnlockerUnavailable(f"{what}: user verification is required: give the "
                                          "security key's PIN") from None
            raise UnlockerUnavailable(f"{what}: the security key refused: {exc}") from None

    def enroll(self) -> tuple[JSONObject, SlotSecret]:
        """A new credential, a new salt and its PRF output (one or two touches)."""
        client = self._client(self.rp_id)
        from fido2.webauthn import PublicKeyCredentialCreationOptions

        salt = os.urandom(32)
        extensions: dict[str, object] = {"prf": {"eval": {"first": salt}}}
        if self.uv == "required":
            extensions["credentialProtectionPolicy"] = "userVerificationRequired"
            extensions["enforceCredentialProtectionPolicy"] = True
        created = self._call("enrolling the security key", lambda: client.make_credential(
            PublicKeyCredentialCreationOptions.from_dict({
            "rp": {"id": self.rp_id, "name": "pyotp-hw vault"},
            "user": {"id": os.urandom(16), "name": "pyotp-hw vault"},
            "challenge": os.urandom(32),
            "pubKeyCredParams": [{"type": "public-key", "alg": -7},
                                 {"type": "public-key", "alg": -8}],
            "authenticatorSelection": {"userVerification": self.uv, "residentKey": "discouraged"},
            "extensions": extensions,
        })))
        prf = _extension_outputs(created).get("prf", {})
        if not prf.get("enabled"):
            raise UnlockerUnavailable("this security key does not support the PRF "
                                      "(hmac-secret) extension: it cannot hold a vault slot")
        credential_id = bytes(created.raw_id)
        output, flags = _prf_output(created), created.response.attestation_object.auth_data.flags
        if output is None:  # no PRF at creation (no hmac-secret-mc): one assertion more
            answer = self._assert(client, self.rp_id, self.uv, {credential_id: salt})
            output, flags = _prf_output(answer), answer.response.authenticator_data.flags
            if output is None:
                raise UnlockerUnavailable("the security key gave no PRF output")
        params: JSONObject = {
            "mode": "prf", "rp_id": self.rp_id, "credential_id": b64(credential_id),
            "salt": b64(salt), "uv": self.uv, "uv_done": bool(flags & _UV_FLAG),
            "cred_protect": 3 if self.uv == "required" else None}
        return params, SlotSecret(bytearray(output))

    def _assert(self, client: Fido2Client, rp_id: str, uv: str, salts: dict[bytes, bytes]
                ) -> AuthenticationResponse:
        from fido2.utils import websafe_encode
        from fido2.webauthn import PublicKeyCredentialRequestOptions

        def run() -> AuthenticationResponse:
            return client.get_assertion(PublicKeyCredentialRequestOptions.from_dict({
                "rpId": rp_id,
                "challenge": os.urandom(32),
                "allowCredentials": [{"type": "public-key", "id": c} for c in salts],
                "userVerification": uv,
                "extensions": {"prf": {"evalByCredential": {
                    websafe_encode(c): {"first": s} for c, s in salts.items()}}},
            })).get_response(0)

        return self._call("unlocking with the security key", run)

    def secrets(self, slots: Sequence[Slot]) -> Iterator[tuple[Slot, SlotSecret]]:
        """One assertion per (RP id, UV choice) over every FIDO2 slot (in allow lists of at most
        :data:`ALLOW_LIST_MAX` credentials, which fit a 1024-byte CTAP message); the slot that
        answered. A list none of whose credentials the key holds costs no touch."""
        groups: dict[tuple[str, str], list[tuple[bytes, Slot]]] = {}
        contradictory = []
        for slot in slots:
            credential_id, rp_id, uv = _slot_fields(slot)
            if uv != "required" and slot.params.get("cred_protect") == 3:
                contradictory.append(slot)  # the key shows its credential only with UV
                continue
            groups.setdefault((rp_id, uv), []).append((credential_id, slot))
        chunks = [((rp_id, uv), dict(items[i:i + ALLOW_LIST_MAX]))
                  for (rp_id, uv), items in groups.items()
                  for i in range(0, len(items), ALLOW_LIST_MAX)]
        unknown = 0
        for (rp_id, uv), by_id in chunks:
            salts = {c: unb64(s.params.get("salt"), f"slot {s.id}'s salt")
                     for c, s in by_id.items()}
            try:
                answer = self._assert(self._client(rp_id), rp_id, uv, salts)
            except Exception as exc:  # NO_CREDENTIALS: none of this group is on this key
                if _ctap_code(exc) is None:
                    raise
                unknown += len(by_id)
                continue
            chosen = by_id.get(bytes(answer.raw_id))
            output = _prf_output(answer)
            if chosen is None or output is None:
                raise UnlockFailed("the security key answered for no vault credential, or "
                                   "without a PRF output")
            done = bool(answer.response.authenticator_data.flags & _UV_FLAG)
            if done != chosen.params.get("uv_done"):
                raise UnlockFailed(_uv_reason(chosen, done))
            yield chosen, SlotSecret(bytearray(output))
        if contradictory:
            raise SlotSettingsMismatch(_contradiction(contradictory, unknown))
        if unknown:
            raise UnlockFailed(
                f"this security key holds none of the vault's {unknown} FIDO2 credential(s): it "
                "is a different authenticator (or it was reset); use an enrolled key")

    def mismatch(self, slot: Slot) -> str:
        """The key answered for this slot's credential, with another secret."""
        return (f"FIDO2 slot {slot.id}: the security key's secret differs from enrollment: the "
                f"slot's salt is wrong or its UV setting changed (enrolled with UV "
                f"{slot.params.get('uv')!r})")


def _contradiction(slots: Sequence[Slot], unknown: int) -> str:
    ids = ", ".join(s.id for s in slots)
    text = (f"FIDO2 slot {ids}: the slot's UV setting ({slots[0].params.get('uv')!r}) does not "
            "match its credential protection (credProtect 3: user verification required, so the "
            "security key shows the credential only with UV): the slot was edited or is damaged; "
            "set its \"uv\" back to \"required\" (or restore the vault file from a backup), or "
            "open the vault with another unlocker and remove the slot and enroll the key again")
    if unknown:
        text += (f"; this security key holds none of the vault's {unknown} other FIDO2 "
                 "credential(s)")
    return text


def _uv_reason(slot: Slot, done: bool) -> str:
    now = "verified the user (PIN or built-in UV)" if done else "did not verify the user"
    then = "with" if slot.params.get("uv_done") else "without"
    return (f"FIDO2 slot {slot.id}: the security key {now} this time, but the slot was enrolled "
            f"{then} user verification: the key's secret differs with and without UV, so the "
            "UV setting must stay as it was at enrollment")


def _slot_fields(slot: Slot) -> tuple[bytes, str, str]:
    params = slot.params
    if params.get("mode") != "prf":
        raise VaultCorrupted(f"FIDO2 slot {slot.id}: unknown mode {params.get('mode')!r}")
    rp_id, uv = params.get("rp_id"), params.get("uv")
    if not isinstance(rp_id, str) or uv not in ("required", "discouraged"):
        raise VaultCorrupted(f"FIDO2 slot {slot.id}: its RP id or UV choice is damaged")
    salt = unb64(params.get("salt"), f"slot {slot.id}'s salt")
    if len(salt) != 32:
        raise VaultCorrupted(f"FIDO2 slot {slot.id}: the salt is not 32 bytes")
    return unb64(params.get("credential_id"), f"slot {slot.id}'s credential id"), rp_id, uv
