"""How a failed TCP/TLS conversation becomes a :class:`ConnectOutcome`.

The HTTPS and SMTP probes record which phase they are in and hand any exception to
:func:`outcome_for`, the single place where socket, ssl and asyncio errors become values:

    TimeoutError                          -> TIMEOUT (any phase)
    OSError while connecting              -> REFUSED (refused, unreachable, reset)
    ssl.SSLError, or EOF/reset during TLS -> TLS_FAILED
    ProtocolViolation, EOF, reset, other  -> PROTOCOL_ERROR
"""

from __future__ import annotations

import asyncio
import enum
import ssl

from mailshield.core.observations import ConnectOutcome


class Phase(enum.StrEnum):
    CONNECT = "connecting"
    TLS = "the TLS handshake"
    TALK = "the conversation"


class ProtocolViolation(Exception):
    """The peer broke the protocol or a bound (too long, too many, closed too early)."""


def outcome_for(exc: BaseException, phase: Phase) -> tuple[ConnectOutcome, str]:
    """The outcome and a human-readable reason for ``exc`` raised during ``phase``."""
    if isinstance(exc, TimeoutError):
        return ConnectOutcome.TIMEOUT, f"timed out during {phase}"
    if phase is Phase.CONNECT and isinstance(exc, OSError):
        return ConnectOutcome.REFUSED, f"could not connect: {_describe(exc)}"
    if isinstance(exc, ssl.SSLError) or (phase is Phase.TLS and _is_drop(exc)):
        return ConnectOutcome.TLS_FAILED, f"TLS handshake failed: {_describe(exc)}"
    if isinstance(exc, ProtocolViolation):
        return ConnectOutcome.PROTOCOL_ERROR, str(exc)
    return ConnectOutcome.PROTOCOL_ERROR, f"failed during {phase}: {_describe(exc)}"


def _is_drop(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | EOFError | asyncio.IncompleteReadError)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
