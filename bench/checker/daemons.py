"""The bulk lab's MX and policy host as C daemons: Debian's Postfix and nginx.

On the internet the servers a checker talks to do not run on the checker's machine; here they
share its two cores, so they should cost as little as they can, and the same for both tools.
Postfix answers SMTP for every MX, nginx serves each ``mta-sts.<domain>`` its own policy. Each
host presents its own certificate, chosen by SNI, as real hosts do: one certificate naming a
thousand hosts is 15 KB, costs both ends of every handshake a quarter of a millisecond more, and
makes Postfix's handshakes stall about 40 ms (a delayed-ACK wait on its last write), which no
real MX shows. Both write their configuration and logs under the benchmark's scratch folder, run
in the network namespace ``run.sh`` made, and stop on exit.

:func:`tree_cpu` measures what such a daemon spent: its processes and the children they reaped.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from bench.nginx_conf import nginx_conf

from mailshield.lab.ca import IssuedCert
from mailshield.lab.endpoint import Endpoint
from mailshield.lab.postfix import Postfix
from mailshield.lab.process import Daemon, binary
from mailshield.lab.readiness import tcp_accepts

POLICY_PATH = "/.well-known/mta-sts.txt"  # RFC 8461 §3.3

_SITES = """\
        root {root}/sites/$host;
        location = {path} {{ }}
        location / {{ return 404; }}"""


_HOST = """\
    server {{
        listen {address}:{port} ssl;
        server_name {name};
        ssl_certificate {root}/certs/{name}.crt;
        ssl_certificate_key {root}/certs/{name}.key;
{sites}
    }}"""


@contextlib.contextmanager
def nginx_policy_host(
    root: Path,
    listen: Endpoint,
    policies: Mapping[str, bytes],
    certificates: Mapping[str, IssuedCert],
    fallback: IssuedCert,
) -> Iterator[Daemon]:
    """nginx on ``listen`` serving, for each host name in ``policies``, its policy at
    ``/.well-known/mta-sts.txt`` as ``text/plain`` (the ``Host`` header picks the file; any
    other host or path is 404) with its certificate from ``certificates`` (``fallback`` for a
    name without one); yields the running daemon."""
    for folder in (root, root / "tmp", root / "sites", root / "certs"):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)  # nginx's workers run unprivileged and must reach the files
    for name, policy in policies.items():
        site = root / "sites" / name.lower() / POLICY_PATH.lstrip("/")
        site.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        site.write_bytes(policy)
    sites = _SITES.format(root=root, path=POLICY_PATH)
    hosts = [
        _HOST.format(address=listen.host, port=listen.port, name=name, root=root, sites=sites)
        for name in _written(root / "certs", certificates)
    ]
    (root / "chain.pem").write_bytes(fallback.fullchain_pem)
    (root / "key.pem").write_bytes(fallback.key_pem)
    conf = nginx_conf(
        root,
        listen.host,
        listen.port,
        name="_",
        http='    types { }\n    default_type "text/plain; charset=utf-8";\n' + "\n".join(hosts),
        server=sites,
    )
    (root / "nginx.conf").write_text(conf, encoding="utf-8")
    argv = [binary("nginx"), "-p", str(root), "-c", str(root / "nginx.conf")]
    argv += ["-e", str(root / "error.log")]
    daemon = Daemon("nginx", argv, workdir=root, ready=tcp_accepts(listen))
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@contextlib.contextmanager
def postfix_mx(
    workdir: Path,
    listen: Endpoint,
    certificates: Mapping[str, IssuedCert],
    fallback: IssuedCert,
) -> Iterator[Postfix]:
    """Postfix on ``listen`` offering STARTTLS with each MX name's certificate from
    ``certificates`` (``tls_server_sni_maps``; ``fallback`` without SNI or for another name);
    yields it running.

    The checkers only greet, EHLO, STARTTLS and EHLO again, so the lab's relay configuration
    serves as it is; its one route (to a closed port) is never used. No TLS log line per
    session, and each smtpd process serves many sessions before it is replaced (Postfix's
    defaults: one line, 100 sessions), so the lab costs the tools' machine less."""
    folder = workdir.parent / f"{workdir.name}-sni"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    table = folder / "sni"
    table.write_text(
        "".join(
            f"{name} {key} {chain}\n"  # key first (postmap -F joins the files' contents)
            for name, (chain, key) in _written(folder, certificates).items()
        )
    )
    subprocess.run([binary("postmap"), "-F", f"hash:{table}"], check=True, capture_output=True)
    (folder / "sni.db").chmod(0o644)  # smtpd reads it unprivileged
    tuning = {
        "tls_server_sni_maps": f"hash:{table}",
        "smtpd_tls_loglevel": "0",
        "max_use": "100000",
    }
    with Postfix(
        {"mx.bench.test": Endpoint("127.0.12.9", 9)},
        listen=listen,
        workdir=workdir,
        tls=fallback,
        hostname="mx.bench.test",
        tuning=tuning,
    ) as postfix:
        yield postfix


def _written(folder: Path, certificates: Mapping[str, IssuedCert]) -> dict[str, tuple[Path, Path]]:
    """Each name's chain and key written to ``folder/NAME.crt`` and ``NAME.key``; read by
    nginx's master and by postmap, both as root."""
    return {name.lower(): cert.write(folder, name.lower()) for name, cert in certificates.items()}


def tree_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) spent by ``pid``, its live descendants and every child
    they have reaped; 0 for None or a process that is gone."""
    if pid is None:
        return 0.0
    ticks = 0
    pending = [pid]
    while pending:
        process = pending.pop()
        with contextlib.suppress(OSError, ValueError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
            pending += _children(process)
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(child) for child in (task / "children").read_text().split()]
    return children
