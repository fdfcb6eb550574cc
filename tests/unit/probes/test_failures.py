"""Translating connection errors into outcomes, in one table."""

import asyncio
import ssl

import pytest

from mailshield.core.observations import ConnectOutcome
from mailshield.probes.failures import Phase, ProtocolViolation, outcome_for


@pytest.mark.parametrize(
    ("exc", "phase", "outcome"),
    [
        pytest.param(TimeoutError(), Phase.CONNECT, ConnectOutcome.TIMEOUT, id="connect-timeout"),
        pytest.param(TimeoutError(), Phase.TLS, ConnectOutcome.TIMEOUT, id="tls-timeout"),
        pytest.param(TimeoutError(), Phase.TALK, ConnectOutcome.TIMEOUT, id="talk-timeout"),
        pytest.param(
            ConnectionRefusedError(111, "refused"),
            Phase.CONNECT,
            ConnectOutcome.REFUSED,
            id="refused",
        ),
        pytest.param(
            OSError(101, "Network is unreachable"),
            Phase.CONNECT,
            ConnectOutcome.REFUSED,
            id="unreachable",
        ),
        pytest.param(
            ssl.SSLError(1, "wrong version number"), Phase.TLS, ConnectOutcome.TLS_FAILED, id="ssl"
        ),
        pytest.param(
            ConnectionResetError(), Phase.TLS, ConnectOutcome.TLS_FAILED, id="reset-in-handshake"
        ),
        pytest.param(
            asyncio.IncompleteReadError(b"", 2),
            Phase.TLS,
            ConnectOutcome.TLS_FAILED,
            id="eof-in-handshake",
        ),
        pytest.param(
            ConnectionResetError(), Phase.TALK, ConnectOutcome.PROTOCOL_ERROR, id="reset-later"
        ),
        pytest.param(
            ProtocolViolation("too long"), Phase.TALK, ConnectOutcome.PROTOCOL_ERROR, id="limit"
        ),
        pytest.param(ValueError("odd"), Phase.TALK, ConnectOutcome.PROTOCOL_ERROR, id="other"),
    ],
)
def test_outcome_for(exc: BaseException, phase: Phase, outcome: ConnectOutcome) -> None:
    """Each error and phase maps to one outcome with a readable reason."""
    mapped, reason = outcome_for(exc, phase)
    assert mapped is outcome
    assert reason


def test_protocol_violation_keeps_its_message() -> None:
    """A violation's own text is the reason, unchanged."""
    assert outcome_for(ProtocolViolation("reply longer than 100 lines"), Phase.TALK) == (
        ConnectOutcome.PROTOCOL_ERROR,
        "reply longer than 100 lines",
    )
