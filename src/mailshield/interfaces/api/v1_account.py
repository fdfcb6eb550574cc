"""``/api/v1/account`` and ``/api/v1/tokens``: who the token belongs to, and its tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from mailshield.interfaces.api.auth import ApiUser, Services
from mailshield.interfaces.api.schemas import AccountOut, NewTokenOut, TokenIn, TokenList, TokenOut

router = APIRouter(tags=["account"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/account", summary="The account the token belongs to")
async def account(user: ApiUser, app: Services) -> AccountOut:
    """The account, its plan, and how many domains it holds."""
    return AccountOut.of(user, await app.domains.usage(user))


@router.get("/tokens", summary="List API tokens")
async def list_tokens(user: ApiUser, app: Services) -> TokenList:
    """The account's tokens, newest first (never their secrets)."""
    return TokenList(items=[TokenOut.of(t) for t in await app.tokens.list(user)])


@router.post("/tokens", status_code=201, summary="Create an API token")
async def create_token(body: TokenIn, user: ApiUser, app: Services) -> NewTokenOut:
    """A new token; its ``secret`` is in this answer only."""
    return NewTokenOut.of(await app.tokens.create(user, body.name))


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
async def revoke_token(token_id: Id, user: ApiUser, app: Services) -> Response:
    """Revoke one of the account's tokens at once (including the one making this call)."""
    await app.tokens.revoke(user, token_id)
    return Response(status_code=204)
