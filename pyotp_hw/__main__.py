"""``python -m pyotp_hw``: the same as the ``pyotp-hw`` command."""

import sys

from .cli import main

sys.exit(main())
