"""The TLS-RPT HTTPS receiver: ``POST /tlsrpt`` (and any path below it), RFC 8460 §5.4.

A reporter POSTs one report per request. What is accepted and answered:

======================================  ====================================================
request                                 answer
======================================  ====================================================
``application/tlsrpt+gzip``,            read (streamed, at most ``report_max_bytes``), then
``application/tlsrpt+json``             the intake pipeline decides
``application/gzip``, ``x-gzip``,       accepted too (real senders use them); the parser
``application/json``, ``text/json``,    tells gzip from JSON by its magic bytes, never by
``application/octet-stream``            the label; ``Content-Encoding: gzip`` is accepted
anything else, or no type               415, nothing read
body over ``report_max_bytes``          413 (from Content-Length, or as soon as the stream
                                        passes the cap); its expansion is capped too
empty body                              400
======================================  ====================================================

Outcomes (answered only after the commit, so a 2xx means durably stored): 201 new report, 200
a copy of a stored report (counted), 202 kept in quarantine (could not be parsed; visible with
``mailshield reports quarantine`` and re-processable), 403 no policy domain of the report is
served here (nothing kept: TLS-RPT has no authorisation record, so the receiver must not be
anyone's sink; a reporter retries for a day, §5.5, so a domain added meanwhile still gets it),
503 storage failed (retry). Other methods get 405.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from mailshield.services.ingest import (
    Arrival,
    Channel,
    Disposition,
    IngestOptions,
    IngestOutcome,
    ReportIntake,
)
from mailshield.services.settings import Settings
from mailshield.storage import Database
from mailshield.storage.report_queries import DomainsTable
from mailshield.storage.reports import ReportStore

__all__ = ["ACCEPTED_TYPES", "LeanReceiver", "media_type_problem", "router"]

STRICT_TYPES = frozenset({"application/tlsrpt+gzip", "application/tlsrpt+json"})
ACCEPTED_TYPES = STRICT_TYPES | {
    "application/gzip",
    "application/x-gzip",
    "application/json",
    "text/json",
    "application/octet-stream",
}
ACCEPTED_ENCODINGS = frozenset({"", "identity", "gzip", "x-gzip"})

STATUS = {
    Disposition.STORED: 201,
    Disposition.DUPLICATE: 200,
    Disposition.QUARANTINED: 202,
    Disposition.REFUSED: 403,
    Disposition.TOO_LARGE: 413,
    Disposition.FAILED: 503,
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One intake per process over the app's database, closed (writes drained) at shutdown."""
    settings: Settings = app.state.settings
    database: Database = app.state.database
    intake = ReportIntake(
        ReportStore(database),
        DomainsTable(database),
        IngestOptions.for_max_bytes(settings.report_max_bytes),
    )
    app.state.tlsrpt_intake = intake
    try:
        yield
    finally:
        await intake.aclose()


router = APIRouter(lifespan=lifespan, tags=["tlsrpt"])


def media_type_problem(content_type: str | None, content_encoding: str | None) -> str | None:
    """Why a request with these header values is refused (415), or ``None`` to accept it."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not media:
        return "no Content-Type: send application/tlsrpt+gzip or application/tlsrpt+json"
    if media not in ACCEPTED_TYPES:
        return f"{media} is not a TLS report type (RFC 8460 §5.4: application/tlsrpt+gzip or +json)"
    encoding = (content_encoding or "").strip().lower()
    if encoding not in ACCEPTED_ENCODINGS:
        return f"Content-Encoding {encoding} is not supported (gzip is)"
    return None


@router.post("/tlsrpt", include_in_schema=True, summary="Receive a TLS report (RFC 8460 §5.4)")
@router.post("/tlsrpt/{path:path}", include_in_schema=False)
async def receive_report(request: Request) -> JSONResponse:
    """Store one TLS-RPT report; the status code says what became of it (see module doc)."""
    headers = request.headers
    problem = media_type_problem(headers.get("content-type"), headers.get("content-encoding"))
    if problem is not None:
        return _error(415, problem)
    intake: ReportIntake = request.app.state.tlsrpt_intake
    settings: Settings = request.app.state.settings
    body = await _read_capped(request, settings.report_max_bytes)
    if body is None:
        return _error(413, f"the report is larger than {settings.report_max_bytes} bytes")
    if not body:
        return _error(400, "the request has no body")
    arrival = Arrival(
        Channel.HTTPS,
        source=request.client.host if request.client else None,
        content_type=headers.get("content-type"),
        # A path below /tlsrpt may name the domain: a hint if the report is quarantined.
        meta={"path": request.url.path} if request.url.path != "/tlsrpt" else {},
    )
    outcome = await intake.submit_report(body, arrival)
    return _answer(outcome)


async def _read_capped(request: Request, cap: int) -> bytes | None:
    """The request body, or ``None`` as soon as it is known to exceed ``cap`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


def _answer(outcome: IngestOutcome) -> JSONResponse:
    status = STATUS[outcome.disposition]
    headers = {"Retry-After": "60"} if status == 503 else None
    return JSONResponse(outcome.to_dict(), status_code=status, headers=headers)


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"status": "error", "detail": detail}, status_code=status)


class LeanReceiver:
    """``POST /tlsrpt[/…]`` answered straight from ASGI, in front of the whole application.

    Reporters are machines: the browser-security middleware, cookies, sessions and FastAPI's
    request and response machinery do nothing for them and cost more than the report itself.
    This answers exactly as :func:`receive_report` does (same checks, same statuses, same JSON
    bodies, 2xx only after the commit); the application calls it for the requests
    :meth:`wants` and passes it nothing else, so other methods on ``/tlsrpt`` still reach the
    router (405) and the route stays in the OpenAPI document.

    Per request it reads only the three headers it needs, remembers the verdict on each
    Content-Type / Content-Encoding pair it has seen (a bounded table), and renders the answer
    with one pre-built JSON encoder.
    """

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._verdicts: dict[tuple[bytes, bytes], str | None] = {}

    @staticmethod
    def wants(scope: Scope) -> bool:
        """Whether ``scope`` is a report POST (``/tlsrpt`` or a path below it)."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        path: str = scope["path"]
        return path == "/tlsrpt" or path.startswith("/tlsrpt/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body = await self._receive(scope, receive)
        except _Disconnected:
            return  # the reporter left before its body arrived: nothing was kept
        await _send_json(send, status, body)

    async def _receive(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
        content_type, content_encoding, declared = _report_headers(scope["headers"])
        problem = self._media_problem(content_type, content_encoding)
        if problem is not None:
            return 415, _problem(problem)
        state = self._app.state
        cap: int = state.settings.report_max_bytes
        body = await _read_asgi_capped(receive, declared, cap)
        if body is None:
            return 413, _problem(f"the report is larger than {cap} bytes")
        if not body:
            return 400, _problem("the request has no body")
        client = scope.get("client")
        path = scope["path"]
        arrival = Arrival(
            Channel.HTTPS,
            source=client[0] if client else None,
            content_type=content_type.decode("latin-1") if content_type is not None else None,
            meta={"path": path} if path != "/tlsrpt" else {},
        )
        intake: ReportIntake = state.tlsrpt_intake
        outcome = await intake.submit_report(body, arrival)
        return STATUS[outcome.disposition], outcome.to_dict()

    def _media_problem(self, content_type: bytes | None, encoding: bytes | None) -> str | None:
        """:func:`media_type_problem`, remembered for up to ``_VERDICTS`` header pairs."""
        key = (content_type or b"", encoding or b"")
        try:
            return self._verdicts[key]
        except KeyError:
            pass
        problem = media_type_problem(
            content_type.decode("latin-1") if content_type is not None else None,
            encoding.decode("latin-1") if encoding is not None else None,
        )
        if len(self._verdicts) < _VERDICTS:
            self._verdicts[key] = problem
        return problem


_VERDICTS = 256  # header pairs remembered; senders use a handful, strangers cannot grow it


class _Disconnected(Exception):
    """The client went away before its request body was complete."""


def _report_headers(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[bytes | None, bytes | None, bytes]:
    """Content-Type, Content-Encoding (``None`` when absent) and Content-Length (``b""``);
    the last one wins when a header is repeated."""
    content_type = content_encoding = None
    declared = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type":
            content_type = value
        elif lowered == b"content-encoding":
            content_encoding = value
        elif lowered == b"content-length":
            declared = value
    return content_type, content_encoding, declared


async def _read_asgi_capped(receive: Receive, declared: bytes, cap: int) -> bytes | None:
    """The request body, or ``None`` as soon as it is known to exceed ``cap`` bytes."""
    if declared.isdigit() and int(declared) > cap:
        return None
    message = await receive()
    if message["type"] != "http.request":
        raise _Disconnected
    first: bytes = message.get("body", b"")
    if len(first) > cap:
        return None
    if not message.get("more_body", False):
        return first  # the whole body in one message: the common case, no copy
    body = bytearray(first)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        body += message.get("body", b"")
        if len(body) > cap:
            return None
        if not message.get("more_body", False):
            return bytes(body)


# Rendered like JSONResponse (compact UTF-8); one encoder, not one per answer.
_encode_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_JSON = (b"content-type", b"application/json")
_RETRY = (b"retry-after", b"60")


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    """A JSON answer; a 503 also says when to retry."""
    data = _encode_json(content).encode("utf-8")
    headers = [_JSON, (b"content-length", b"%d" % len(data))]
    if status == 503:
        headers.append(_RETRY)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _problem(detail: str) -> dict[str, Any]:
    return {"status": "error", "detail": detail}
