"""Command group registered by token_cmds (being written; registers nothing yet)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: "argparse._SubParsersAction[Any]") -> None:
    """Register this group's commands (none yet)."""
