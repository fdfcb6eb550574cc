"""The gathering transport under ``mailshield serve``: one write per answer, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from mailshield.interfaces.cli.serve_http import DIRECT_BYTES, GatheringTransport, HttpProtocol


class Recording(asyncio.Transport):
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.wrote = asyncio.Event()
        self.closing = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))
        self.wrote.set()

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


BIG = b"x" * DIRECT_BYTES

Steps = Callable[[GatheringTransport, Recording], None]


def _write_two(gathering: GatheringTransport, _inner: Recording) -> None:
    gathering.write(b"head")
    gathering.write(b"body")


def _small_then_big(gathering: GatheringTransport, _inner: Recording) -> None:
    gathering.write(b"head")
    gathering.write(BIG)


def _write_then_close(gathering: GatheringTransport, _inner: Recording) -> None:
    gathering.write(b"head")
    gathering.close()


def _write_then_abort(gathering: GatheringTransport, _inner: Recording) -> None:
    gathering.write(b"head")
    gathering.abort()


def _peer_gone(gathering: GatheringTransport, inner: Recording) -> None:
    gathering.write(b"head")
    inner.closing = True


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(_write_two, [b"headbody"], id="two-writes-one-turn"),
        pytest.param(_small_then_big, [b"head", BIG], id="large-write-at-once-after-pending"),
        pytest.param(_write_then_close, [b"head"], id="close-sends-pending-first"),
        pytest.param(_write_then_abort, [], id="abort-drops-pending"),
        pytest.param(_peer_gone, [], id="closing-transport-gets-nothing"),
    ],
)
async def test_writes_reach_the_transport(steps: Steps, expected: list[bytes]) -> None:
    """What the real transport receives once the loop turn ends, in order."""
    inner = Recording()
    gathering = GatheringTransport(inner, asyncio.get_running_loop())
    steps(gathering, inner)
    await asyncio.sleep(0)  # let the end-of-turn flush run
    assert inner.writes == expected


async def test_pending_bytes_count_in_the_buffer_size() -> None:
    """Flow control sees gathered bytes as buffered until they are handed on."""
    inner = Recording()
    gathering = GatheringTransport(inner, asyncio.get_running_loop())
    gathering.write(b"12345")
    assert gathering.get_write_buffer_size() == 5
    await asyncio.sleep(0)
    assert gathering.get_write_buffer_size() == 0


async def json_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app answering every request with a small JSON body after its headers."""
    assert scope["type"] == "http"
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


async def test_an_answer_leaves_in_one_write() -> None:
    """uvicorn's two writes (head, then body) reach the socket's transport as one."""
    config = uvicorn.Config(json_app, http=HttpProtocol, access_log=False, log_level="warning")
    protocol = HttpProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    inner = Recording()
    protocol.connection_made(inner)
    protocol.data_received(b"POST /tlsrpt HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
    await asyncio.wait_for(inner.wrote.wait(), 10)  # the app runs as a task
    protocol.connection_lost(None)
    assert len(inner.writes) == 1
    head, _, body = inner.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201 ")
    assert body == b"{}"
