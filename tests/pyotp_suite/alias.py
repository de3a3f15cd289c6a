"""Make ``import pyotp`` (and ``pyotp.totp``, ``pyotp.utils``...) give pyotp_hw.pyotp.

The sys.modules mapping a pyotp user would write, and nothing else.
"""

import sys

import pyotp_hw.pyotp  # noqa: F401  (loads every submodule, which the loop then maps)

for _name, _module in list(sys.modules.items()):
    if _name == "pyotp_hw.pyotp" or _name.startswith("pyotp_hw.pyotp."):
        sys.modules["pyotp" + _name[len("pyotp_hw.pyotp"):]] = _module
