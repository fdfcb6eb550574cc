"""The served OpenAPI document, and schemathesis generating requests against every route.

The application runs in a real server (uvicorn in a thread, on a free port); each generated
request carries a valid token. Checked: no 5xx, documented status codes and content types, and
response bodies and headers that match the document.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mailshield.interfaces.api.app import create_app
from mailshield.interfaces.api.container import Overrides
from mailshield.services.api_tokens import ApiTokens
from mailshield.services.passwords import Passwords
from mailshield.services.settings import Settings, load_settings
from mailshield.storage import Database
from mailshield.storage.accounts import AccountStore
from mailshield.storage.migrate import upgrade

from .conftest import CannedChecker

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SPARE_TOKENS = 30  # the fuzzer may revoke low token ids; the one it uses is the last


def document_app() -> Any:
    return create_app(load_settings(data_dir=Path("/nonexistent")))


schema = schemathesis.openapi.from_dict(document_app().openapi()).include(path_regex="^/api/v1/")


def test_the_document_describes_problems_and_bearer_auth() -> None:
    """Every API error answer is documented as problem+json, and auth as an HTTP bearer token."""
    document = document_app().openapi()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token (create one on the dashboard's Account page).",
    }
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            assert operation["security"] == [{"token": []}]
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"]


async def _prepare(settings: Settings) -> str:
    """Migrate the database and create a user with tokens; return the secret to use."""
    async with Database(settings.effective_database_url) as db:
        await upgrade(db)
        store = AccountStore(db)
        user = await store.create_user("fuzz@example.com", "unusable", _now())
        assert user is not None
        from mailshield.services.users import user_from

        actor = user_from(user)
        assert actor is not None
        tokens = ApiTokens(store)
        for n in range(SPARE_TOKENS):
            created = await tokens.create(actor, f"spare {n}")
        return created.secret


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A running server and the Authorization header for it."""
    folder = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    app_settings = load_settings(
        data_dir=folder,
        database_url=f"sqlite+aiosqlite:///{folder / 'mailshield.db'}",
        public_url=f"http://127.0.0.1:{port}",
        policy_host="mta-sts.mailshield.test",
        check_rate_limit=10_000,
    )
    secret = asyncio.run(_prepare(app_settings))
    checker = CannedChecker()
    overrides = Overrides(
        checker=lambda: checker,
        dns=lambda: _NoDns(),
        passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)),
    )
    app = create_app(app_settings, overrides=overrides)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    _wait(server, started)
    try:
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _wait(server: uvicorn.Server, started: threading.Event) -> None:
    """Block until uvicorn says it has started (its own readiness flag), at most 30 s."""
    for _ in range(3000):
        if server.started:
            return
        started.wait(0.01)
    raise AssertionError("uvicorn did not start")


class _NoDns:
    async def query(self, name: str, rdtype: str) -> Any:
        from mailshield.core.observations import DnsAnswer, DnsOutcome

        return DnsAnswer(name, rdtype, DnsOutcome.NXDOMAIN)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_requests(case: Any, live: tuple[str, dict[str, str]]) -> None:
    """Whatever schemathesis sends, the API answers as its document says, and never with a 5xx."""
    base_url, headers = live
    with httpx.Client(base_url=base_url, timeout=30) as client:
        kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
        kwargs.pop("base_url", None)
        kwargs.pop("cookies", None)  # the API takes no cookies
        if isinstance(kwargs.get("data"), bytes | str):  # raw bodies go as content in httpx
            kwargs["content"] = kwargs.pop("data")
        response = client.request(**kwargs)
    case.validate_response(response, checks=CHECKS, headers=headers)
