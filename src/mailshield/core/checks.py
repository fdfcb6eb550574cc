"""The protocol checks of a domain report: their stable names, order and display titles.

Shared by the checker (report order), the CLI, the CSV columns, the docs and the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping

CHECK_TITLES: Mapping[str, str] = {
    "mx": "MX",
    "mta_sts": "MTA-STS",
    "tls_rpt": "TLS-RPT",
    "starttls": "STARTTLS",
    "dane": "DANE / DNSSEC",
    "spf": "SPF",
    "dmarc": "DMARC",
    "dkim": "DKIM",
    "bimi": "BIMI",
}

CHECK_ORDER: tuple[str, ...] = tuple(CHECK_TITLES)
"""The order of results in every report."""


def check_title(check: str) -> str:
    return CHECK_TITLES.get(check, check)
