"""The instance secret that signs CSRF tokens, flash messages and check links.

``secret_key`` from the settings when given (needed when several replicas serve one site, so
they sign alike); otherwise a random key generated once into ``<data_dir>/secret_key``
(readable by the owner only) and reused on every start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from mailshield.services.settings import Settings

FILE_NAME = "secret_key"
KEY_BYTES = 32


def instance_secret(settings: Settings) -> bytes:
    """The secret as bytes; creates the key file on first use."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / FILE_NAME
    try:
        return path.read_text(encoding="ascii").strip().encode()
    except FileNotFoundError:
        return _create(path)


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text(encoding="ascii").strip().encode()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key.encode()
