"""A child process that changes a vault and is killed (SIGKILL) at its Nth file operation.

Usage: ``python crash_child.py VAULT OPERATION N``. Every call of ``os.open``, ``os.write``,
``os.fsync``, ``os.replace`` and ``os.close`` counts; at call N the process kills itself with
SIGKILL before that call runs, as a power cut or ``kill -9`` would stop it. Exit status 0 means it
finished before reaching call N. Only the passphrase unlocker is used (no device needed).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from pyotp_hw.vault import Passphrase, Vault

PASSPHRASE = "old passphrase"
SECOND = "second passphrase"
NEW_URI = "otpauth://totp/Crash:new?secret=JBSWY3DPEHPK3PXP&issuer=Crash"


def _arm(limit: int) -> None:
    count = 0
    for name in ("open", "write", "fsync", "replace", "close"):
        real = getattr(os, name)

        def hooked(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            nonlocal count
            count += 1
            if count == limit:
                os.kill(os.getpid(), signal.SIGKILL)
            return _real(*args, **kwargs)

        setattr(os, name, hooked)


def main() -> None:
    path, operation, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    vault = Vault.open(path, Passphrase(PASSPHRASE))
    _arm(limit)
    if operation == "import":
        vault.import_uris([NEW_URI])
    elif operation == "rekey":
        vault.rekey()
    elif operation == "add-unlocker":
        vault.add_unlocker(Passphrase(SECOND, n=2**10))
    elif operation == "remove-unlocker":
        other = next(s.id for s in vault.slots if s.id != vault.opened_by)
        vault.remove_unlocker(other)
    elif operation == "rotate-unlocker":
        vault.rotate_unlocker(vault.opened_by, Passphrase(PASSPHRASE, n=2**10))
    else:
        raise SystemExit(f"unknown operation {operation}")


if __name__ == "__main__":
    main()
