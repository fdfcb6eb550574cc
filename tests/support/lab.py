"""Helpers for tests that need lab daemons (Knot, Unbound, Pebble, Postfix, Dovecot, Chromium).

When a binary is missing the test is skipped with the reason, except under
``MAILSHIELD_REQUIRE_LAB=1`` (set by CI), where a missing daemon is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

_EXTRA_PATHS = ("/usr/sbin", "/sbin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")


def find_binary(name: str) -> Path | None:
    """The path of ``name`` on PATH or in the usual Debian system folders."""
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_EXTRA_PATHS))
    return Path(found) if found else None


def require_binary(name: str) -> Path:
    """The path of ``name``; skips (or fails in CI) when it is not installed."""
    path = find_binary(name)
    if path is not None:
        return path
    reason = f"{name} is not installed (run `make test` as root to install the lab packages)"
    if os.environ.get("MAILSHIELD_REQUIRE_LAB") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
