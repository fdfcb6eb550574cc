"""Which event loop runs the checks: uvloop (libuv) where it is installed, else asyncio's own.

uvloop does the same work as the standard loop in less CPU (socket readiness, transports, TLS
records, timers), which matters where checks are CPU-bound, as bulk checks are at low DNS
latency. Every probe uses only the public loop API (``add_reader``, ``sock_sendall``,
``create_connection``, ``start_tls``), which both loops implement. The ``event_loop`` setting
(``MAILSHIELD_EVENT_LOOP=asyncio``) picks the standard loop, e.g. to rule uvloop out of a bug.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
EventLoopChoice = Literal["uvloop", "asyncio"]
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(choice: str = "uvloop") -> LoopFactory:
    """A function making a new event loop: uvloop's when ``choice`` is ``uvloop`` and uvloop can
    be imported (it is not built for Windows), else the standard loop's."""
    if choice == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], *, choice: str = "uvloop") -> T:
    """Run ``main`` to completion on a new loop of ``choice`` (as ``asyncio.run`` does: the loop
    is closed afterwards, and a Ctrl-C cancels ``main`` before ``KeyboardInterrupt`` is raised)."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
