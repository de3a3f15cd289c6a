"""Make one alias line enough: ``sys.modules["pyotp"] = pyotp_hw.pyotp`` also serves submodules.

Without help, ``from pyotp.totp import TOTP`` after that line would make Python look for
``totp.py`` in the package's directory and run it a second time as a new module named
``pyotp.totp`` (which fails on its relative imports, and would otherwise define a second, different
``TOTP`` class). The finder below answers such imports with the module already loaded. It acts only
for a dotted name whose parent in ``sys.modules`` is one of this package's modules registered under
another name, so every other import passes through it untouched.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["AliasFinder", "install"]


class _LoadedModule(importlib.abc.Loader):
    """A loader whose module is one that is already loaded under its real name."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        """The existing module (nothing is executed again)."""
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        """Put back the module's own spec, which the import system replaced with the alias's."""
        module.__spec__ = self._spec


class AliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``ALIAS.sub`` to the loaded ``ROOT.sub`` when ``sys.modules[ALIAS]`` is ROOT."""

    def __init__(self, root: str) -> None:
        self.root = root

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for an aliased submodule of ``root``, or None for every other import."""
        parent_name, dot, child = fullname.rpartition(".")
        if not dot:
            return None
        parent = sys.modules.get(parent_name)
        real_parent = getattr(parent, "__name__", None) if isinstance(parent, ModuleType) else None
        if real_parent is None or real_parent == parent_name:
            return None
        if real_parent != self.root and not real_parent.startswith(self.root + "."):
            return None
        module = sys.modules.get(f"{real_parent}.{child}")
        if module is None:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, _LoadedModule(module), is_package=hasattr(module, "__path__")
        )


def install(root: str) -> None:
    """Put an :class:`AliasFinder` for ``root`` first on ``sys.meta_path`` (once).

    First, because the ordinary path finder would otherwise find the submodule's file and run it.
    """
    if not any(isinstance(f, AliasFinder) and f.root == root for f in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder(root))
