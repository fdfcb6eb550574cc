"""``mailshield policy-server``: the multi-tenant MTA-STS policy server (HTTPS + ACME HTTP-01).

Refuses to start on a database whose schema is behind (like ``serve``). Prints one line once it
listens, naming the real ports, so scripts and tests can wait for it.
"""

from __future__ import annotations

import click

from mailshield.interfaces.cli.context import settings_from
from mailshield.interfaces.cli.db import run_with_database
from mailshield.interfaces.cli.serve import ensure_schema


@click.command("policy-server")
@click.option("--listen", help="IP address to bind (MAILSHIELD_POLICY_LISTEN).")
@click.option("--https-port", type=int, help="HTTPS port (MAILSHIELD_POLICY_HTTPS_PORT, 443).")
@click.option("--http-port", type=int, help="HTTP port for ACME and /tls/ask (default 80).")
@click.option("--no-http", is_flag=True, help="No plain-HTTP listener (no HTTP-01, no /tls/ask).")
@click.option(
    "--proxy-port",
    type=int,
    help="Also serve policies over plain HTTP on 127.0.0.1:PORT, for a TLS-terminating proxy.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Processes sharing the ports through SO_REUSEPORT.",
)
@click.option(
    "--certificates-every",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="Seconds between certificate issue/renew runs; 0 leaves them to a worker.",
)
@click.option(
    "--acme-challenge",
    type=click.Choice(["http-01", "tls-alpn-01"]),
    default="http-01",
    show_default=True,
    help="ACME challenge: HTTP-01 on the HTTP port, or TLS-ALPN-01 on the HTTPS port.",
)
@click.option(
    "--refresh-every",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds between reloads of the certificate index and the /tls/ask set.",
)
@click.option(
    "--context-cache",
    type=click.IntRange(1),
    default=512,
    show_default=True,
    help="TLS contexts kept in memory (least recently used are dropped).",
)
@click.pass_context
def policy_server(
    ctx: click.Context,
    listen: str | None,
    https_port: int | None,
    http_port: int | None,
    no_http: bool,
    proxy_port: int | None,
    workers: int,
    certificates_every: float,
    acme_challenge: str,
    refresh_every: float,
    context_cache: int,
) -> None:
    """Serve hosted MTA-STS policies over HTTPS, with certificates from ACME."""
    from mailshield.interfaces.policy_server import PolicyServer
    from mailshield.interfaces.policy_server_main import RunOptions, run_in_process, run_workers

    settings = settings_from(
        ctx, policy_listen=listen, policy_https_port=https_port, policy_http_port=http_port
    )
    run_with_database(
        settings.effective_database_url,
        lambda db: ensure_schema(db, auto_migrate=settings.auto_migrate),
    )
    options = RunOptions(
        http=not no_http,
        proxy_port=proxy_port,
        refresh_every=refresh_every,
        certificates_every=certificates_every,
        acme_challenge=acme_challenge,
        context_cache=context_cache,
    )

    def ready(server: PolicyServer) -> None:
        http = f", http port {server.http_port}" if server.http_port is not None else ""
        if server.proxy_port is not None:
            http += f", proxy port {server.proxy_port} on 127.0.0.1"
        click.echo(
            f"policy server listening on {settings.policy_listen}: "
            f"https port {server.https_port}{http}, {len(server.contexts)} certificates",
            err=True,
        )

    try:
        if workers == 1:
            run_in_process(settings, options, ready)
        else:
            ctx.exit(run_workers(settings, options, workers, ready))
    except PermissionError as exc:
        raise click.ClickException(
            f"cannot bind {settings.policy_listen}: {exc} (ports below 1024 need root or "
            "CAP_NET_BIND_SERVICE; or choose --https-port/--http-port)"
        ) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {settings.policy_listen}: {exc}") from exc
