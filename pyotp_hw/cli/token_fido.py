"""The FIDO2 part of ``pyotp-hw token virtual``: its options and the applet they describe.

The virtual token serves a FIDO2 authenticator beside the OATH applet unless ``--no-fido`` is
given. Its state follows ``--state FILE``: it is kept in ``FILE.fido``, sealed under the same
passphrase (or in clear with ``--plaintext-state``); without ``--state`` it is in memory only.
Touches are simulated by the same ``--touch`` options as the OATH applet's.
"""

from __future__ import annotations

import argparse
import copy
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..token.virtual import Applet, StateStore, TouchPolicy
    from ..token.virtual.fido import FidoStore

__all__ = ["add_fido_options", "fido_applets"]


def add_fido_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-fido`` and ``--fido-reset-window`` to the ``token virtual`` parser."""
    parser.add_argument("--no-fido", action="store_true",
                        help="serve the OATH applet only (no FIDO2 authenticator)")
    parser.add_argument("--fido-reset-window", type=float, default=10.0, metavar="S",
                        help="seconds after power-up in which the FIDO2 authenticator accepts "
                        "a reset (CTAP says 10; a negative value: any time)")


def fido_applets(args: argparse.Namespace, oath_store: StateStore | None,
                 touch: TouchPolicy | None) -> list[Applet]:
    """The FIDO2 applet for ``args`` (none with ``--no-fido``), its state beside the OATH one."""
    if args.no_fido:
        return []
    from ..token.virtual.fido import (
        STATE_SUFFIX,
        Authenticator,
        FidoApplet,
        FidoFileStore,
        FidoMemoryStore,
    )

    store: FidoStore
    where = "memory only"
    if args.state is None:
        store = FidoMemoryStore()
    else:
        where = args.state + STATE_SUFFIX
        sealer = getattr(oath_store, "sealer", None)
        # A copy: the same passphrase and derived key, but no state shared between applets.
        store = (FidoFileStore(where, plaintext=True) if sealer is None
                 else FidoFileStore(where, copy.copy(sealer)))
    window = None if args.fido_reset_window < 0 else args.fido_reset_window
    authenticator = Authenticator(store, touch=touch, reset_window=window)
    print(f"virtual token: FIDO2 authenticator on; state: {where}", file=sys.stderr, flush=True)
    return [FidoApplet(authenticator)]
