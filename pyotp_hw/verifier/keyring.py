"""The store's data keys, one per generation, so that re-sealing can run while verifying does.

Generation 0 is the store's original key: ``provider.data_key(salt)`` checked against
``key_check`` (metadata written when the store was made). A rekey adds generation N with
metadata ``key:N:salt`` and ``key:N:check`` before it re-seals any row, and ``key:N:done``
after the last one; metadata is only ever inserted, never changed, so the entries are the same
for every reader at every moment. Every verifier derives the key of each generation from its own
provider, so a key never travels through the store.

New seeds are sealed under the newest generation; a seed opens under whichever generation sealed
it (newest first). When a row opens under none of the known keys the ring reads the metadata
again (at most once a second) and learns generations added since, so a verifier started before
a rekey keeps reading every row while the rekey runs.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time

from .errors import WrongKey
from .keyprovider import KeyProvider
from .sealing import Sealer
from .stores import Store

__all__ = ["DataKeyRing"]

log = logging.getLogger("pyotp_hw.verifier")
_GENERATION = re.compile(r"key:([1-9][0-9]{0,8}):salt")
_REFRESH_EVERY = 1.0
_SALT_BYTES = 16


class DataKeyRing:
    """The data keys of one store (a drop-in for one :class:`Sealer` in :mod:`.seeds`)."""

    def __init__(self, store: Store, provider: KeyProvider) -> None:
        self._store = store
        self._provider = provider
        self._lock = threading.Lock()
        self._sealers: dict[int, Sealer] = {}
        self._last_refresh = 0.0
        salt = bytes.fromhex(store.init_meta({"salt": secrets.token_hex(_SALT_BYTES)})["salt"])
        first = Sealer(provider.data_key(salt))
        check = store.init_meta({"key_check": first.key_check().hex()})["key_check"]
        first.verify_key_check(bytes.fromhex(check))
        self._sealers[0] = first
        self.refresh(force=True)

    def __repr__(self) -> str:
        return f"DataKeyRing(generations={sorted(self._sealers)}, <keys hidden>)"

    @property
    def generations(self) -> list[int]:
        """The generations known, oldest first."""
        return sorted(self._sealers)

    @property
    def newest(self) -> int:
        """The generation new seeds are sealed under."""
        return max(self._sealers)

    def sealer(self, generation: int) -> Sealer:
        """The sealer of one generation (KeyError when unknown)."""
        return self._sealers[generation]

    def refresh(self, *, force: bool = False) -> bool:
        """Read the metadata and learn new generations; True when one was added."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_refresh < _REFRESH_EVERY:
                return False
            self._last_refresh = now
        meta = self._store.init_meta({})
        added = False
        for name, value in meta.items():
            match = _GENERATION.fullmatch(name)
            if match is None or int(match.group(1)) in self._sealers:
                continue
            generation = int(match.group(1))
            check = meta.get(f"key:{generation}:check")
            if check is None:  # pragma: no cover - both are inserted together
                continue
            try:
                sealer = Sealer(self._provider.data_key(bytes.fromhex(value)))
                sealer.verify_key_check(bytes.fromhex(check))
            except (WrongKey, ValueError):
                log.warning("data key generation %d does not open with this key provider",
                            generation)
                continue
            with self._lock:
                self._sealers[generation] = sealer
            added = True
        return added

    def add_generation(self) -> int:
        """Start a new generation (or return the unfinished newest one, to resume it)."""
        meta = self._store.init_meta({})
        newest = self.newest
        if newest and f"key:{newest}:done" not in meta:
            return newest
        generation = newest + 1
        salt = secrets.token_bytes(_SALT_BYTES)
        sealer = Sealer(self._provider.data_key(salt))
        if any(_same_key(sealer, s) for s in self._sealers.values()):
            raise WrongKey("this key provider gives the same data key for every salt (a raw "
                           "data key): a rekey needs a passphrase, key file, environment "
                           "variable or vault provider")
        self._store.init_meta({f"key:{generation}:salt": salt.hex(),
                               f"key:{generation}:check": sealer.key_check().hex()})
        self.refresh(force=True)  # another rekey may have won the insert: its salt is used
        if generation not in self._sealers:
            raise WrongKey(f"data key generation {generation} does not open with this provider")
        return generation

    def finish(self, generation: int) -> None:
        """Record that every row was re-sealed under ``generation``."""
        self._store.init_meta({f"key:{generation}:done": str(int(time.time()))})

    def done(self, generation: int) -> bool:
        """Whether ``generation`` was finished."""
        return f"key:{generation}:done" in self._store.init_meta({})

    # --- the Sealer interface of seeds.SeedKeys ------------------------------------------

    def seal(self, secret: bytes | bytearray, aad: bytes) -> bytes:
        """Seal under the newest generation (learning one a rekey just added)."""
        self.refresh()
        return self._sealers[self.newest].seal(secret, aad)

    def open_into(self, sealed: bytes, aad: bytes) -> bytearray:
        """Open under whichever known generation sealed it; WrongKey when none does (the caller
        may :meth:`refresh` and try again: :mod:`.seeds` does, once per batch)."""
        for generation in sorted(self._sealers, reverse=True):
            try:
                return self._sealers[generation].open_into(sealed, aad)
            except WrongKey:
                continue
        raise WrongKey("a sealed seed does not open under any data key of this store")

    def generation_of(self, sealed: bytes, aad: bytes) -> int | None:
        """The generation a sealed seed opens under (None: none known)."""
        for generation in sorted(self._sealers, reverse=True):
            try:
                buf = self._sealers[generation].open_into(sealed, aad)
            except WrongKey:
                continue
            buf[:] = bytes(len(buf))
            return generation
        return None


def _same_key(a: Sealer, b: Sealer) -> bool:
    try:
        b.verify_key_check(a.key_check())
    except WrongKey:
        return False
    return True
