"""The trust store: system roots plus an extra bundle, read once, as single PEM certificates."""

from pathlib import Path

import pytest

from mailshield.lab.ca import LabCA
from mailshield.probes.trust import (
    load_root_pems,
    load_trust_roots,
    pem_blocks,
    system_bundle_paths,
)


@pytest.fixture(scope="module")
def ca() -> LabCA:
    """One lab CA for the module."""
    return LabCA()


def test_pem_blocks_finds_each_certificate_and_ignores_other_text(ca: LabCA) -> None:
    """Comments, keys and blank lines between certificates are skipped."""
    other = LabCA("other root")
    data = b"# roots\n" + ca.cert_pem + b"\n\n" + LabCA().issue("x.test").key_pem + other.cert_pem
    assert pem_blocks(data) == (ca.cert_pem, other.cert_pem)


def test_extra_bundle_is_added_after_the_system_roots(tmp_path: Path, ca: LabCA) -> None:
    """The lab root joins the system roots, last."""
    bundle = ca.write_root(tmp_path / "lab.pem")
    roots = load_root_pems(bundle)
    assert roots[-1] == ca.cert_pem
    if any(path.is_file() for path in system_bundle_paths()):
        assert len(roots) > 1


def test_extra_bundle_alone(tmp_path: Path, ca: LabCA) -> None:
    """Without the system store only the bundle's roots are trusted."""
    bundle = ca.write_root(tmp_path / "lab.pem")
    assert load_root_pems(bundle, system=False) == (ca.cert_pem,)
    assert len(load_trust_roots(bundle, system=False)) == 1


def test_roots_are_loaded_once(tmp_path: Path, ca: LabCA) -> None:
    """Asking twice for the same bundle returns the same object (read once per process)."""
    bundle = ca.write_root(tmp_path / "lab.pem")
    assert load_trust_roots(bundle) is load_trust_roots(bundle)


def test_a_broken_certificate_costs_only_itself(tmp_path: Path, ca: LabCA) -> None:
    """A corrupt entry in a bundle is skipped; the good ones are still trusted."""
    broken = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    bundle = tmp_path / "mixed.pem"
    bundle.write_bytes(broken + ca.cert_pem)
    assert len(load_trust_roots(bundle, system=False)) == 1


@pytest.mark.parametrize(
    ("content", "error"),
    [
        pytest.param(None, FileNotFoundError, id="missing-file"),
        pytest.param(b"not a certificate\n", ValueError, id="no-certificate"),
    ],
)
def test_unusable_extra_bundle_is_a_configuration_error(
    tmp_path: Path, content: bytes | None, error: type[Exception]
) -> None:
    """A configured bundle that is missing or holds no certificate raises at start-up."""
    bundle = tmp_path / "bundle.pem"
    if content is not None:
        bundle.write_bytes(content)
    with pytest.raises(error):
        load_root_pems(bundle)
