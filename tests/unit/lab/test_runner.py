"""How the lab explains a failure to listen: what went wrong and what to do."""

from __future__ import annotations

import errno
import os

import pytest

from mailshield.lab.runner import explain_bind_error

CASES = [
    pytest.param(errno.EACCES, "Ports below 1024 need root", id="permission-denied"),
    pytest.param(errno.EPERM, "[lab.unprivileged]", id="not-permitted"),
    pytest.param(errno.EADDRINUSE, "address in use (is this lab already running?)", id="in-use"),
    pytest.param(errno.EADDRNOTAVAIL, "address not available", id="no-such-address"),
    pytest.param(errno.ENOBUFS, "No buffer space", id="other"),
]


@pytest.mark.parametrize(("code", "advice"), CASES)
def test_bind_errors_name_the_address_and_the_remedy(code: int, advice: str) -> None:
    """Each bind failure names the service and address, and says what to do."""
    message = explain_bind_error(OSError(code, os.strerror(code)), "DNS 127.53.0.1:53")
    assert message.startswith("cannot listen on DNS 127.53.0.1:53: ")
    assert advice in message
