"""Helpers shared by the CLI commands: settings from the command context."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from mailshield.services.check_settings import CheckSettings
    from mailshield.services.settings import Settings


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings for this invocation: the ``--config`` file, the environment, then ``overrides``."""
    from mailshield.services.settings import load_settings  # pydantic-settings is slow to import

    root = ctx.find_root()
    config = (root.obj or {}).get("config")
    try:
        return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})
    except (FileNotFoundError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc


def check_settings_from(ctx: click.Context, **overrides: Any) -> CheckSettings:
    """What a check reads, as :func:`settings_from` would give it; without loading ``Settings``
    when nothing but the command line can change it (no ``--config``, no ``MAILSHIELD_*``)."""
    from mailshield.services.check_settings import CheckSettings, quick_check_settings

    config = (ctx.find_root().obj or {}).get("config")
    quick = quick_check_settings(os.environ, config, overrides)
    return quick if quick is not None else CheckSettings.of(settings_from(ctx, **overrides))
