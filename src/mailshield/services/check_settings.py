"""The settings a domain check reads, and reading them without loading pydantic.

Loading :class:`~mailshield.services.settings.Settings` costs about 0.2 s (pydantic and
pydantic-settings): more than a third of ``mailshield check example.com``'s start-up, and time
a bulk run spends before its workers start. A check reads only the fields of
:class:`CheckSettings`. :func:`quick_check_settings` builds them from the defaults and the
command line's options alone, which is only certain to equal what ``Settings`` gives when
nothing else could change them: no configuration file and no ``MAILSHIELD_*`` variable (either
may set any field, and ``Settings`` validates them). Otherwise it returns ``None`` and the
caller loads ``Settings`` and takes :meth:`CheckSettings.of` it. ``Settings`` takes its
defaults for these fields from :data:`CHECK_DEFAULTS`, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["CHECK_DEFAULTS", "CheckSettings", "quick_check_settings"]

_PREFIX = "mailshield_"


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """What checking a domain reads (see ``Settings`` for each field's meaning)."""

    resolvers: tuple[str, ...] = ()
    dns_timeout: float = 3.0
    dnssec_validation: Literal["auto", "yes", "no"] = "auto"
    check_timeout: float = 10.0
    concurrency: int = 50
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    smtp_probe: bool = True
    smtp_port: int = 25
    smtp_per_address: int = 8
    ca_bundle: Path | None = None
    allow_private: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "resolvers", tuple(self.resolvers or ()))  # lists given too

    @classmethod
    def of(cls, settings: Any) -> CheckSettings:
        """These fields of a full ``Settings`` (or of anything having them)."""
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})


CHECK_DEFAULTS = CheckSettings()


def quick_check_settings(
    environ: Mapping[str, str], config_file: Path | None, overrides: Mapping[str, Any]
) -> CheckSettings | None:
    """The defaults with ``overrides`` (``None`` values skipped) when neither a configuration
    file nor a ``MAILSHIELD_*`` variable is there to change them; ``None`` otherwise."""
    if config_file is not None or any(name.lower().startswith(_PREFIX) for name in environ):
        return None
    return CheckSettings(**{name: value for name, value in overrides.items() if value is not None})
