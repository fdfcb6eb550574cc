"""Helpers shared by the CLI commands: settings from the command context."""

from __future__ import annotations

from typing import Any

import click

from mailshield.services.settings import Settings, load_settings


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings for this invocation: the ``--config`` file, the environment, then ``overrides``."""
    root = ctx.find_root()
    config = (root.obj or {}).get("config")
    try:
        return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})
    except (FileNotFoundError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
