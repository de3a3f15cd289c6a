# Only what pyproject.toml cannot express: the cffi extension module.
from setuptools import setup

setup(cffi_modules=["csrc/build_core.py:ffibuilder"])
