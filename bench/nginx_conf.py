"""The nginx configuration the benchmarks share: one TLS server on ``{address}:{port}``, run in
the foreground from a scratch folder that holds its pid, logs, temporary files, certificate
chain (``chain.pem``) and key (``key.pem``), with no access log."""

from __future__ import annotations

from pathlib import Path

_CONF = """
worker_processes {workers};
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
{http}
    server {{
        listen {address}:{port} ssl;
        server_name {name};
        ssl_certificate {root}/chain.pem;
        ssl_certificate_key {root}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
{server}
    }}
}}
"""


def nginx_conf(
    root: Path, address: str, port: int, *, name: str, server: str, http: str = "", workers: int = 1
) -> str:
    """nginx.conf for ``root``: ``server`` (directives, already indented) completes the TLS
    server block named ``name``, ``http`` goes before it in the http block."""
    return _CONF.format(
        root=root, address=address, port=port, name=name, server=server, http=http, workers=workers
    )
