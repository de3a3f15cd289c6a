"""pyotp 2.12.1's own test suite, fetched from PyPI at test time, run against pyotp_hw.pyotp."""
