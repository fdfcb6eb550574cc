"""The trust store: the system's root certificates plus an optional extra PEM bundle (a lab CA).

Probes never verify; ``core.certs`` judges recorded chains against these roots. The roots are read
once per process and bundle: certificates are split into single PEM blocks first, so one broken
entry in a system bundle costs that entry only. The system bundle is the file OpenSSL would use
(``SSL_CERT_FILE`` honoured), else the usual distribution paths, else the certificate folder.
"""

from __future__ import annotations

import functools
import re
import ssl
import warnings
from pathlib import Path

from cryptography.utils import CryptographyDeprecationWarning

from mailshield.core.certs import TrustRoots

__all__ = ["load_root_pems", "load_trust_roots", "pem_blocks", "system_bundle_paths"]

_BLOCK = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)
_KNOWN_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, BSD
)
_MAX_FOLDER_FILES = 5000


def pem_blocks(data: bytes) -> tuple[bytes, ...]:
    """Every ``CERTIFICATE`` PEM block in ``data``, in order (other text is ignored)."""
    return tuple(match.group(0) + b"\n" for match in _BLOCK.finditer(data))


def system_bundle_paths() -> tuple[Path, ...]:
    """Candidate system bundle files, most authoritative first."""
    paths = ssl.get_default_verify_paths()
    found = [paths.cafile, paths.openssl_cafile, *_KNOWN_BUNDLES]
    return tuple(dict.fromkeys(Path(path) for path in found if path))


def _system_pems() -> tuple[bytes, ...]:
    for path in system_bundle_paths():
        if path.is_file():
            blocks = pem_blocks(path.read_bytes())
            if blocks:
                return blocks
    folder = ssl.get_default_verify_paths().capath
    if not folder or not Path(folder).is_dir():
        return ()
    files = sorted(Path(folder).iterdir())[:_MAX_FOLDER_FILES]
    found = (block for file in files if file.is_file() for block in pem_blocks(file.read_bytes()))
    return tuple(dict.fromkeys(found))


@functools.cache
def load_root_pems(extra_bundle: Path | None = None, *, system: bool = True) -> tuple[bytes, ...]:
    """The trusted roots as single PEM certificates: the system's (unless ``system=False``) then
    those of ``extra_bundle``. A missing extra bundle is a configuration error and raises."""
    extra = pem_blocks(extra_bundle.read_bytes()) if extra_bundle is not None else ()
    if extra_bundle is not None and not extra:
        raise ValueError(f"no PEM certificate in {extra_bundle}")
    return (_system_pems() if system else ()) + extra


def load_trust_roots(extra_bundle: Path | None = None, *, system: bool = True) -> TrustRoots:
    """The trust roots for ``core.certs``, read once per process and bundle."""
    return _trust_roots(extra_bundle, system)


@functools.cache
def _trust_roots(extra_bundle: Path | None, system: bool) -> TrustRoots:
    with warnings.catch_warnings():
        # Some long-lived system roots have a non-positive serial (RFC 5280 §4.1.2.2 forbids
        # it); cryptography still loads them, with a deprecation warning per process.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return TrustRoots.from_pem(*load_root_pems(extra_bundle, system=system))
