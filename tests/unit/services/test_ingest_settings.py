"""The import's quick settings: equal to ``Settings`` whenever they answer at all."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.services.ingest_settings import ImportSettings, quick_import_settings
from mailshield.services.settings import load_settings

_NAMES = [
    "MAILSHIELD_DATA_DIR",
    "mailshield_data_dir",
    "MAILSHIELD_DATABASE_URL",
    "MAILSHIELD_AUTO_MIGRATE",
    "MailShield_Auto_Migrate",
    "MAILSHIELD_REPORT_MAX_BYTES",
    "MAILSHIELD_PORT",
    "MAILSHIELD_BOGUS",
    "mailshield_config",
    "HOME",
]
_VALUES = [
    "", " ", "0", "1", "007", "-5", "+5", "1_000", " 12", "99999999999999999999", "true",
    "TRUE", "Yes", "off", "F", "maybe", "none", "null", "data", "sqlite:///x.db",
    "postgresql+asyncpg://u@127.0.0.1/db",
]  # fmt: skip
_ENVIRONMENTS = st.dictionaries(
    st.sampled_from(_NAMES), st.sampled_from(_VALUES) | st.text("ab1 _-", max_size=4)
)


def _full(environ: dict[str, str]) -> ImportSettings | None:
    """What ``Settings`` gives for the import in ``environ``; ``None`` if it refuses it."""
    with mock.patch.dict(os.environ, environ, clear=True):
        try:
            settings = load_settings()
        except ValueError:
            return None
    return ImportSettings(
        settings.effective_database_url, settings.auto_migrate, settings.report_max_bytes
    )


@given(_ENVIRONMENTS)
def test_quick_settings_equal_full_settings(environ: dict[str, str]) -> None:
    """Whenever the quick reading answers, ``Settings`` accepts the environment and agrees."""
    quick = quick_import_settings(environ, None)
    if quick is not None:
        assert quick == _full(environ)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, ImportSettings("", False, 10 * 1024 * 1024), id="defaults"),
        pytest.param(
            {"MAILSHIELD_AUTO_MIGRATE": "true", "MAILSHIELD_REPORT_MAX_BYTES": "1000"},
            ImportSettings("", True, 1000),
            id="benchmark-variables",
        ),
        pytest.param(
            {"MAILSHIELD_DATABASE_URL": "sqlite:///x.db", "PATH": "/bin"},
            ImportSettings("sqlite:///x.db", False, 10 * 1024 * 1024),
            id="explicit-url",
        ),
    ],
)
def test_plain_environments_are_read(environ: dict[str, str], expected: ImportSettings) -> None:
    """The usual environments are read quickly, and equal to ``Settings``."""
    quick = quick_import_settings(environ, None)
    assert quick is not None
    assert quick == _full(environ)
    default_url = quick.effective_database_url.endswith("/mailshield-data/mailshield.db")
    assert quick == expected if expected.effective_database_url else default_url
    assert (quick.auto_migrate, quick.report_max_bytes) == (
        expected.auto_migrate,
        expected.report_max_bytes,
    )


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({"MAILSHIELD_CONFIG": "/etc/mailshield.toml"}, id="config-file"),
        pytest.param({"MAILSHIELD_PORT": "9000"}, id="other-setting"),
        pytest.param({"MAILSHIELD_AUTO_MIGRATE": "maybe"}, id="not-a-boolean"),
        pytest.param({"MAILSHIELD_REPORT_MAX_BYTES": "1_000"}, id="unusual-integer"),
        pytest.param(
            {"MAILSHIELD_AUTO_MIGRATE": "1", "mailshield_auto_migrate": "0"}, id="case-twins"
        ),
    ],
)
def test_unusual_environments_are_left_to_settings(environ: dict[str, str]) -> None:
    """Anything beyond the plain forms is left to ``Settings`` (``None``)."""
    assert quick_import_settings(environ, None) is None


def test_config_file_argument_is_left_to_settings(tmp_path: Path) -> None:
    """A ``--config`` file is always read by ``Settings``."""
    assert quick_import_settings({}, tmp_path / "mailshield.toml") is None
