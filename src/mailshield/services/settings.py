"""The one typed settings object.

Values come, highest priority first, from keyword arguments, ``MAILSHIELD_*`` environment
variables, a TOML file (``MAILSHIELD_CONFIG`` or ``--config``), then the defaults below.
Every field is documented in the README's configuration table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mailshield.services.check_settings import CHECK_DEFAULTS as _CHECK
from mailshield.services.ingest_settings import (
    CONFIG_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_REPORT_MAX_BYTES,
)


class Settings(BaseSettings):
    """MailShield configuration; lab-only options are off by default."""

    model_config = SettingsConfigDict(env_prefix="MAILSHIELD_", extra="forbid")

    data_dir: Path = Field(
        Path(DEFAULT_DATA_DIR), description="Folder for the SQLite file and state."
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
    embedded_worker: bool = Field(
        True,
        description="Run the periodic jobs inside `serve` (off when `mailshield worker` runs).",
    )

    resolvers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="DNS resolvers as IP or IP:PORT; default: the nameservers of /etc/resolv.conf.",
    )
    dns_timeout: float = Field(_CHECK.dns_timeout, description="Seconds per DNS query attempt.")
    dnssec_validation: Literal["auto", "yes", "no"] = Field(
        _CHECK.dnssec_validation,
        description="Whether the resolvers validate DNSSEC; auto asks the root's DNSKEY.",
    )
    check_timeout: float = Field(
        _CHECK.check_timeout, description="Seconds for one HTTPS or SMTP probe."
    )
    concurrency: int = Field(
        _CHECK.concurrency,
        description="Domains checked at once in bulk mode (in total, over all workers).",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        _CHECK.event_loop,
        description="Event loop for checks: uvloop (asyncio's where uvloop is missing) or asyncio.",
    )
    smtp_probe: bool = Field(_CHECK.smtp_probe, description="Connect to MX hosts to test STARTTLS.")
    smtp_port: int = Field(_CHECK.smtp_port, description="SMTP port probed (change only in labs).")
    smtp_per_address: int = Field(
        _CHECK.smtp_per_address,
        ge=1,
        description="SMTP connections at once to one MX address (bulk: total over all workers).",
    )
    ca_bundle: Path | None = Field(None, description="Extra trusted roots (PEM), e.g. a lab CA.")
    allow_private: bool = Field(
        _CHECK.allow_private,
        description="Let probes contact loopback/private addresses (labs only).",
    )

    # -- hosted MTA-STS (policy server, ACME) --------------------------------------------------
    policy_host: str = Field(
        "",
        description="Name customers CNAME mta-sts.<domain> to (e.g. mta-sts.example.net).",
    )
    policy_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Public IPs of the policy servers (A/AAAA 'points here')."
    )
    policy_listen: str = Field("0.0.0.0", description="Address the policy server binds.")  # noqa: S104
    policy_https_port: int = Field(443, description="Policy server HTTPS port.")
    policy_http_port: int = Field(80, description="Policy server HTTP port (ACME HTTP-01).")
    acme_directory: str = Field(
        "https://acme-v02.api.letsencrypt.org/directory", description="ACME directory URL."
    )
    acme_email: str | None = Field(None, description="Contact e-mail for the ACME account.")
    acme_ca_bundle: Path | None = Field(None, description="CA bundle for the ACME API (labs).")
    default_max_age: int = Field(604800, description="max_age proposed for new policies (s).")
    mx_follow: bool = Field(True, description="In testing mode, follow MX changes automatically.")
    delegation_zone: str = Field(
        "", description="Zone for delegated _mta-sts records (RFC 8461 §8.2)."
    )
    dns_update_server: str = Field("", description="IP[:PORT] taking RFC 2136 updates for it.")
    tsig_key_name: str = Field("", description="TSIG key name for RFC 2136 updates.")
    tsig_secret: str = Field("", description="TSIG secret (base64).")
    tsig_algorithm: str = Field("hmac-sha256", description="TSIG algorithm.")

    # -- TLS-RPT reports ----------------------------------------------------------------------
    tlsrpt_rua: str = Field(
        "", description="Report address recommended to customers (mailto: or https:)."
    )
    report_max_bytes: int = Field(DEFAULT_REPORT_MAX_BYTES, description="Largest report accepted.")
    report_retention_days: int = Field(400, description="Days raw reports are kept.")
    smtp_receiver_listen: str = Field("0.0.0.0", description="SMTP report receiver bind address.")  # noqa: S104
    smtp_receiver_port: int = Field(25, description="SMTP report receiver port.")
    smtp_receiver_hostname: str = Field("", description="Name the SMTP receiver greets with.")
    smtp_receiver_cert: Path | None = Field(None, description="STARTTLS certificate (PEM chain).")
    smtp_receiver_key: Path | None = Field(None, description="STARTTLS private key (PEM).")
    imap_host: str = Field("", description="IMAPS server polled for reports (empty: off).")
    imap_port: int = Field(993, description="IMAPS port.")
    imap_user: str = Field("", description="IMAP user.")
    imap_password: str = Field("", description="IMAP password.")
    imap_folder: str = Field("INBOX", description="Folder polled for reports.")
    imap_done_folder: str = Field("Processed", description="Folder stored reports are moved to.")
    imap_quarantine_folder: str = Field("Quarantine", description="Folder for malformed mail.")
    imap_ca_bundle: Path | None = Field(None, description="CA bundle for the IMAP server (labs).")

    # -- accounts and the dashboard ----------------------------------------------------------
    secret_key: str = Field(
        "", description="Signs sessions and tokens; generated into data_dir if empty."
    )
    signup_enabled: bool = Field(True, description="Allow new accounts to sign up.")
    free_plan_domains: int = Field(2, description="Domains allowed on the free plan.")
    mail_host: str = Field("", description="SMTP server for account e-mail (password reset).")
    mail_port: int = Field(25, description="Its port.")
    mail_from: str = Field("mailshield@localhost", description="Sender of account e-mail.")
    mail_starttls: bool = Field(False, description="Use STARTTLS to the mail server.")
    check_rate_limit: int = Field(10, description="Public checks per client address per minute.")

    @field_validator("resolvers", "policy_addresses", mode="before")
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
