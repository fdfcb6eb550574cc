"""MailShield: check, host and monitor inbound email transport security."""

__version__ = "0.1.0"
