"""The check's settings: equal to ``Settings``' whenever they are read without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.services.check_settings import CHECK_DEFAULTS, CheckSettings, quick_check_settings
from mailshield.services.settings import load_settings

_OVERRIDES = st.fixed_dictionaries(
    {},
    optional={
        "resolvers": st.none() | st.lists(st.sampled_from(["127.0.0.1", "[::1]:5300"]), max_size=2),
        "check_timeout": st.none() | st.floats(0.1, 60),
        "dnssec_validation": st.none() | st.sampled_from(["auto", "yes", "no"]),
        "concurrency": st.none() | st.integers(1, 10_000),
        "smtp_probe": st.none() | st.just(False),
        "smtp_per_address": st.none() | st.integers(1, 1000),
        "allow_private": st.none() | st.just(True),
        "smtp_port": st.none() | st.integers(1, 65535),
    },
)


def test_defaults_are_the_settings_defaults() -> None:
    """With nothing set, the check reads exactly the defaults ``Settings`` has."""
    with mock.patch.dict(os.environ, {}, clear=True):
        assert CheckSettings.of(load_settings()) == CHECK_DEFAULTS


@given(_OVERRIDES)
def test_quick_settings_equal_full_settings(overrides: dict[str, Any]) -> None:
    """The command line's options alone give what ``Settings`` would give with them."""
    quick = quick_check_settings({}, None, overrides)
    given_ = {name: value for name, value in overrides.items() if value is not None}
    with mock.patch.dict(os.environ, {}, clear=True):
        assert quick == CheckSettings.of(load_settings(**given_))


@pytest.mark.parametrize(
    ("environ", "config"),
    [
        pytest.param({"MAILSHIELD_DNS_TIMEOUT": "9"}, None, id="a-setting-variable"),
        pytest.param({"mailshield_concurrency": "3"}, None, id="lower-case-variable"),
        pytest.param({"MAILSHIELD_CONFIG": "/etc/mailshield.toml"}, None, id="config-variable"),
        pytest.param({}, Path("mailshield.toml"), id="config-option"),
    ],
)
def test_anything_that_could_change_a_field_needs_settings(
    environ: dict[str, str], config: Path | None
) -> None:
    """A configuration file or any ``MAILSHIELD_*`` variable leaves the answer to ``Settings``."""
    assert quick_check_settings(environ, config, {"concurrency": 5}) is None


def test_other_variables_do_not_matter() -> None:
    """Variables of other programs are not settings."""
    quick = quick_check_settings({"HOME": "/root", "PATH": "/bin"}, None, {})
    assert quick == CHECK_DEFAULTS


def test_a_check_does_not_load_pydantic(tmp_path: Path) -> None:
    """``mailshield check -f`` in a plain environment starts without pydantic."""
    domains = tmp_path / "domains.txt"
    domains.write_text("# nothing to check\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from mailshield.interfaces.cli.main import cli\n"
        f"args = ['check', '-f', {str(domains)!r}, '--resolver', '127.0.0.1', '--no-smtp']\n"
        "result = CliRunner().invoke(cli, args)\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("MAILSHIELD_")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=environ, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
