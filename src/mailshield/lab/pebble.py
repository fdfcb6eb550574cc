"""Pebble as the lab's ACME CA (RFC 8555), deterministic and confined to loopback.

``Pebble(ca, dns_server=...)`` gives Pebble an API certificate from the lab CA (for ``localhost``,
``127.0.0.1`` and its listen addresses), writes its JSON config into a fresh workdir, and returns
from ``start()`` once the directory and the management API answer over verified HTTPS.

Pebble resolves challenge names only through ``dns_server`` (a lab resolver or authoritative
server) and validates HTTP-01 on ``http01_port`` and TLS-ALPN-01 on ``tlsalpn01_port`` of the
address it resolved. The environment removes Pebble's deliberate randomness: no validation sleep,
no rejected nonces, no reused authorizations. ACME clients trust :attr:`Pebble.ca_bundle` for the
API; certificates Pebble issues chain to :meth:`Pebble.root_pem`, a new root on every start.
"""

from __future__ import annotations

import http.client
import json
import ssl
from pathlib import Path

from mailshield.lab.ca import LabCA
from mailshield.lab.endpoint import Endpoint, ensure_free, loopback
from mailshield.lab.process import Daemon, LabProcessError, Service, binary, make_workdir
from mailshield.lab.readiness import all_of, https_answers

__all__ = ["DETERMINISTIC_ENV", "Pebble"]

DETERMINISTIC_ENV = {
    "PEBBLE_VA_NOSLEEP": "1",  # no random 0-15 s sleep before each validation
    "PEBBLE_WFE_NONCEREJECT": "0",  # no random badNonce errors (default 5 %)
    "PEBBLE_AUTHZREUSE": "0",  # every order gets fresh authorizations (default 50 % reuse)
}


class Pebble(Service):
    """A ``pebble`` ACME server with its API on ``api`` and management API on ``management``."""

    def __init__(
        self,
        ca: LabCA,
        *,
        dns_server: Endpoint,
        api: Endpoint | None = None,
        management: Endpoint | None = None,
        http01_port: int = 5002,
        tlsalpn01_port: int = 5001,
        always_valid: bool = False,
        workdir: Path | None = None,
    ) -> None:
        self.api = api or loopback("127.0.0.1")
        self.management = management or loopback(self.api.host)
        self.dns_server = dns_server
        self.http01_port = http01_port
        self.tlsalpn01_port = tlsalpn01_port
        self.workdir = make_workdir(workdir, "pebble")
        self.ca_bundle = ca.write_root(self.workdir / "lab-ca.pem")
        self._ca = ca
        self._env = DETERMINISTIC_ENV | ({"PEBBLE_VA_ALWAYS_VALID": "1"} if always_valid else {})
        self._daemon: Daemon | None = None

    @property
    def directory_url(self) -> str:
        """The ACME directory (RFC 8555 §7.1.1) to give a client."""
        return f"https://{self.api.colon()}/dir"

    @property
    def management_url(self) -> str:
        """The management API's base URL (``/roots/0``, ``/intermediates/0``, ...)."""
        return f"https://{self.management.colon()}"

    @property
    def pid(self) -> int | None:
        return None if self._daemon is None else self._daemon.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / "pebble.log"

    def start(self) -> None:
        """Write the API certificate and config, start pebble, wait until both APIs answer."""
        for endpoint in dict.fromkeys((self.api, self.management)):
            ensure_free(endpoint, udp=False)
        config = self._write_config()
        ready = all_of(
            https_answers(self.api, "/dir", self.ca_bundle),
            https_answers(self.management, "/roots/0", self.ca_bundle),
        )
        argv = [binary("pebble"), "-config", str(config), "-dnsserver", self.dns_server.colon()]
        self._daemon = Daemon("pebble", argv, workdir=self.workdir, ready=ready, env=self._env)
        self._daemon.start()

    def stop(self) -> None:
        if self._daemon is not None:
            self._daemon.stop()

    def _write_config(self) -> Path:
        names = dict.fromkeys(("localhost", "127.0.0.1", self.api.host, self.management.host))
        cert, key = self._ca.issue(*names).write(self.workdir, "pebble-api")
        config = {
            "pebble": {
                "listenAddress": self.api.colon(),
                "managementListenAddress": self.management.colon(),
                "certificate": str(cert),
                "privateKey": str(key),
                "httpPort": self.http01_port,
                "tlsPort": self.tlsalpn01_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }
        }
        path = self.workdir / "pebble-config.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def root_pem(self) -> bytes:
        """The PEM of the root that this run's issued certificates chain to."""
        return self._management_get("/roots/0")

    def intermediate_pem(self) -> bytes:
        """The PEM of the intermediate that signs this run's issued certificates."""
        return self._management_get("/intermediates/0")

    def _management_get(self, path: str) -> bytes:
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        host, port = self.management
        connection = http.client.HTTPSConnection(host, port, timeout=10, context=context)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise LabProcessError(f"pebble {path} answered {response.status}: {body[:200]!r}")
        return body
