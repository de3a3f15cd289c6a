"""Make ``import pyotp`` give pyotp_hw.pyotp: the one line a pyotp user would write, nothing else.

(Submodules such as ``pyotp.totp`` follow by themselves: see pyotp_hw/pyotp/_alias.py.)
"""

import sys

import pyotp_hw.pyotp

sys.modules["pyotp"] = pyotp_hw.pyotp
