"""The check report repository's rules that need no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.storage import CheckReports, Database
from mailshield.storage.checks import MAX_HISTORY, domain_key


@pytest.mark.parametrize(
    ("given_name", "key"),
    [
        pytest.param("example.com", "example.com", id="plain"),
        pytest.param("Example.COM", "example.com", id="mixed-case"),
        pytest.param("example.com.", "example.com", id="trailing-dot"),
        pytest.param("xn--bcher-kva.example", "xn--bcher-kva.example", id="a-label"),
    ],
)
def test_domain_key(given_name: str, key: str) -> None:
    """Stored names are lower case without the root dot."""
    assert domain_key(given_name) == key


@given(st.text(alphabet="abcXYZ019-.", max_size=30))
def test_domain_key_is_idempotent(name: str) -> None:
    """Normalising a normalised name changes nothing."""
    assert domain_key(domain_key(name)) == domain_key(name)


@pytest.mark.parametrize("limit", [0, -1, MAX_HISTORY + 1])
async def test_history_limit_is_bounded(limit: int) -> None:
    """A limit outside 1..MAX_HISTORY is refused before any query runs."""
    async with Database("sqlite+aiosqlite://") as db:
        with pytest.raises(ValueError, match="limit"):
            await CheckReports(db).history("example.com", limit=limit)
