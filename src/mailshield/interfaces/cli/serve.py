"""``mailshield serve``: the dashboard, the JSON API and the report receivers in one process."""

from __future__ import annotations

import click

from mailshield.interfaces.cli.context import settings_from


@click.command()
@click.option("--host", help="Listen address (MAILSHIELD_HOST).")
@click.option("--port", type=int, help="Listen port (MAILSHIELD_PORT).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the web dashboard and JSON API."""
    import uvicorn

    from mailshield.interfaces.api.app import create_app

    settings = settings_from(ctx, host=host, port=port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
