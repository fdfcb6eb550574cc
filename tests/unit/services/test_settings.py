"""Settings: defaults, environment variables and the TOML file, in that order of priority."""

from pathlib import Path

import pytest

from mailshield.services.settings import load_settings


def test_defaults_use_sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without configuration the database is a SQLite file inside the data folder."""
    monkeypatch.delenv("MAILSHIELD_CONFIG", raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'mailshield.db'}"
    assert settings.allow_private is False


def test_environment_overrides_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A MAILSHIELD_* variable wins over the same key in the TOML file."""
    config = tmp_path / "mailshield.toml"
    config.write_text('port = 9000\nresolvers = ["192.0.2.1"]\nconcurrency = 7\n')
    monkeypatch.setenv("MAILSHIELD_CONFIG", str(config))
    monkeypatch.setenv("MAILSHIELD_PORT", "9100")
    settings = load_settings()
    assert settings.port == 9100
    assert settings.concurrency == 7
    assert settings.resolvers == ["192.0.2.1"]


def test_unknown_key_in_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A typo in the configuration file is reported, not silently ignored."""
    config = tmp_path / "mailshield.toml"
    config.write_text("prot = 9000\n")
    monkeypatch.setenv("MAILSHIELD_CONFIG", str(config))
    with pytest.raises(ValueError, match="prot"):
        load_settings()


def test_resolvers_from_environment_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAILSHIELD_RESOLVERS takes a comma-separated list of IP[:PORT]."""
    monkeypatch.delenv("MAILSHIELD_CONFIG", raising=False)
    monkeypatch.setenv("MAILSHIELD_RESOLVERS", "127.0.0.2, 127.0.0.1:5300")
    assert load_settings().resolvers == ["127.0.0.2", "127.0.0.1:5300"]
