"""The one typed settings object.

Values come, highest priority first, from keyword arguments, ``MAILSHIELD_*`` environment
variables, a TOML file (``MAILSHIELD_CONFIG`` or ``--config``), then the defaults below.
Every field is documented in the README's configuration table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "MAILSHIELD_CONFIG"


class Settings(BaseSettings):
    """MailShield configuration; lab-only options are off by default."""

    model_config = SettingsConfigDict(env_prefix="MAILSHIELD_", extra="forbid")

    data_dir: Path = Field(
        Path("mailshield-data"), description="Folder for the SQLite file and state."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default: SQLite file in data_dir. PostgreSQL: postgresql+asyncpg://…",
    )
    auto_migrate: bool = Field(False, description="Apply pending migrations when `serve` starts.")
    host: str = Field("127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(8080, description="Port `serve` listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8080", description="URL users reach the dashboard at."
    )

    resolvers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="DNS resolvers as IP or IP:PORT; default: the nameservers of /etc/resolv.conf.",
    )
    dns_timeout: float = Field(3.0, description="Seconds per DNS query attempt.")
    check_timeout: float = Field(10.0, description="Seconds for one HTTPS or SMTP probe.")
    concurrency: int = Field(50, description="Domains checked at once in bulk mode.")
    smtp_probe: bool = Field(True, description="Connect to MX hosts to test STARTTLS.")
    smtp_port: int = Field(25, description="SMTP port probed (change only in labs).")
    ca_bundle: Path | None = Field(None, description="Extra trusted roots (PEM), e.g. a lab CA.")
    allow_private: bool = Field(
        False, description="Let probes contact loopback/private addresses (labs only)."
    )

    @field_validator("resolvers", mode="before")
    @classmethod
    def _split_resolvers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'mailshield.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get(CONFIG_ENV)
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, an optional TOML file and explicit overrides."""
    if config_file is not None:
        if not config_file.is_file():
            raise FileNotFoundError(f"configuration file not found: {config_file}")
        os.environ[CONFIG_ENV] = str(config_file)
    return Settings(**overrides)
