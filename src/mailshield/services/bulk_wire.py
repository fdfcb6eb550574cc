"""Messages between a bulk run and its worker processes: pickled values, each framed by its
length (4 bytes, big-endian), on a stream socket pair.

Framing is ours rather than ``multiprocessing.Connection``'s so that both ends can read what
has arrived without blocking mid-message: the worker's event loop (uvloop makes a watched
socket non-blocking) and the parent's wait on every worker at once. :class:`Deframer` takes
bytes as they come and returns every whole message (the h11 way: no I/O here). The peers are
this program's own processes on a private socket pair, so unpickling is safe.
"""

from __future__ import annotations

import pickle
from typing import Any

_HEADER = 4


def frame(message: object) -> bytes:
    """``message`` pickled, behind its length."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(_HEADER, "big") + body


class Deframer:
    """Turns a byte stream back into the messages framed into it."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        """Every message completed by ``data`` (none while one is still partial)."""
        self._buffer += data
        messages = []
        start = 0
        while len(self._buffer) - start >= _HEADER:
            size = int.from_bytes(self._buffer[start : start + _HEADER], "big")
            end = start + _HEADER + size
            if len(self._buffer) < end:
                break
            messages.append(pickle.loads(self._buffer[start + _HEADER : end]))  # noqa: S301 - our own child
            start = end
        del self._buffer[:start]
        return messages

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete."""
        return len(self._buffer)
