"""Turning what people type into a domain name to check or add.

People paste URLs, e-mail addresses, upper case and Unicode: ``https://Bücher.example/shop``,
``ops@example.com``, ``example.com.``. The scheme, path, port and an address's local part are
dropped; the rest must be an RFC 5321 domain of at least two labels whose top-level label is
not all digits (RFC 3696 §2), which also rules out IP addresses. Names are returned as
lower-case A-labels (IDNA 2008, RFC 5891).
"""

from __future__ import annotations

import re

from mailshield.core.names import InvalidName, hostname_problem, to_alabel
from mailshield.services.account_errors import InvalidInput

_SCHEME = re.compile(r"\A[a-z][a-z0-9+.-]*://", re.IGNORECASE)
MAX_INPUT = 1024


def parse_domain(text: str) -> str:
    """The domain ``text`` names, as a lower-case A-label; InvalidInput with the reason if none."""
    candidate = _host_part(text)
    if not candidate:
        raise InvalidInput("Enter a domain name, like example.com.", field="domain")
    try:
        name = to_alabel(candidate)
    except InvalidName as exc:
        raise InvalidInput(f"“{candidate}” is not a valid domain name ({exc}).", "domain") from None
    problem = hostname_problem(name)
    if problem is None and "." not in name:
        problem = "a domain has at least two labels, like example.com"
    if problem is None and name.rpartition(".")[2].isdigit():
        problem = "IP addresses cannot be checked; enter the domain that receives the mail"
    if problem is not None:
        raise InvalidInput(f"“{candidate}” is not a valid domain name: {problem}.", "domain")
    return name


def _host_part(text: str) -> str:
    value = text.strip()[:MAX_INPUT]
    value = _SCHEME.sub("", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    value = value.rpartition("@")[2]
    if value.count(":") == 1:  # host:port, never an IPv6 literal (more colons)
        value = value.split(":", 1)[0]
    return value.strip()
