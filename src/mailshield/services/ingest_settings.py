"""The three settings ``mailshield reports import`` needs, read without loading pydantic.

:class:`~mailshield.services.settings.Settings` takes 0.2-0.25 CPU-seconds to import (pydantic
and pydantic-settings), a sixth of a whole 10,000-report import. The import needs only the
database URL, ``auto_migrate`` and ``report_max_bytes``. :func:`quick_import_settings` reads
them from the ``MAILSHIELD_*`` environment variables the same way ``Settings`` does (names
case-insensitive, the same value forms), but only when that is certain to give the same
answer: no configuration file, no other ``MAILSHIELD_*`` variable (``Settings`` would validate
it, and might refuse it), and each value in a plain form. Otherwise it returns ``None`` and
the caller loads ``Settings``. A test checks both agree on generated environments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ImportSettings", "quick_import_settings"]

_PREFIX = "mailshield_"
CONFIG_ENV = "MAILSHIELD_CONFIG"  # names the configuration file (services.settings uses it)
DEFAULT_DATA_DIR = "mailshield-data"  # Settings.data_dir's default
DEFAULT_REPORT_MAX_BYTES = 10 * 1024 * 1024  # Settings.report_max_bytes' default
_READ = frozenset({"data_dir", "database_url", "auto_migrate", "report_max_bytes"})
_IGNORED = frozenset({"config"})  # no such field: Settings' environment source skips it
# pydantic's string forms of a boolean (compared case-insensitively)
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_PLAIN_INT = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class ImportSettings:
    """What the import reads: the effective database URL (as
    ``Settings.effective_database_url``), ``auto_migrate`` and ``report_max_bytes``."""

    effective_database_url: str
    auto_migrate: bool
    report_max_bytes: int


def quick_import_settings(
    environ: Mapping[str, str], config_file: Path | None
) -> ImportSettings | None:
    """The import's settings from ``environ``, equal to what ``load_settings(config_file)``
    gives; ``None`` when only ``Settings`` can tell (a configuration file, another
    ``MAILSHIELD_*`` variable, a value in an unusual form)."""
    if config_file is not None or environ.get(CONFIG_ENV):
        return None
    values = _own_variables(environ)
    if values is None:
        return None
    auto_migrate = _boolean(values.get("auto_migrate", "false"))
    max_bytes = values.get("report_max_bytes", str(DEFAULT_REPORT_MAX_BYTES))
    data_dir = values.get("data_dir", DEFAULT_DATA_DIR)
    if auto_migrate is None or not _PLAIN_INT.fullmatch(max_bytes) or not data_dir:
        return None
    url = values.get("database_url") or _default_url(Path(data_dir))
    return ImportSettings(url, auto_migrate, int(max_bytes))


def _own_variables(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The ``MAILSHIELD_*`` values by lower-case field name; ``None`` when one is not a field
    read here, or two names differ only in case (which one ``Settings`` takes is not said)."""
    values: dict[str, str] = {}
    for name, value in environ.items():
        lowered = name.lower()
        if not lowered.startswith(_PREFIX):
            continue
        field = lowered[len(_PREFIX) :]
        if field in _IGNORED:
            continue
        if field not in _READ or field in values:
            return None
        values[field] = value
    return values


def _boolean(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _default_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'mailshield.db').resolve()}"
