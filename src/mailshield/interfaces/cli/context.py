"""Helpers shared by the CLI commands: settings from the command context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
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
