"""The event loop helper: uvloop unless the standard loop is asked for."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop

from mailshield.services.event_loop import loop_factory, run
from mailshield.services.settings import Settings


async def loop_type() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


@pytest.mark.parametrize(
    ("choice", "is_uvloop"),
    [
        pytest.param("uvloop", True, id="uvloop"),
        pytest.param("asyncio", False, id="asyncio"),
    ],
)
def test_run_uses_the_chosen_loop(choice: str, is_uvloop: bool) -> None:
    """``run`` runs the coroutine on a loop of the chosen kind and returns its value."""
    kind = run(loop_type(), choice=choice)
    assert issubclass(kind, uvloop.Loop) is is_uvloop
    assert issubclass(kind, asyncio.BaseEventLoop) is not is_uvloop


def test_asyncio_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where uvloop cannot be imported, the standard loop is used."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # the import raises ImportError
    assert loop_factory("uvloop") is asyncio.new_event_loop


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param(None, "uvloop", id="default"),
        pytest.param("asyncio", "asyncio", id="asyncio"),
    ],
)
def test_the_setting(
    monkeypatch: pytest.MonkeyPatch, environment: str | None, expected: str
) -> None:
    """``MAILSHIELD_EVENT_LOOP`` picks the loop; uvloop by default."""
    monkeypatch.delenv("MAILSHIELD_CONFIG", raising=False)
    if environment is None:
        monkeypatch.delenv("MAILSHIELD_EVENT_LOOP", raising=False)
    else:
        monkeypatch.setenv("MAILSHIELD_EVENT_LOOP", environment)
    assert Settings().event_loop == expected


def test_an_unknown_loop_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A misspelt loop name is a configuration error, not a silent fallback."""
    monkeypatch.delenv("MAILSHIELD_CONFIG", raising=False)
    monkeypatch.setenv("MAILSHIELD_EVENT_LOOP", "tokio")
    with pytest.raises(ValueError, match="event_loop"):
        Settings()
