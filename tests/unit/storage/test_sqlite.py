"""Which SQLite URLs name a file whose folder must exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from mailshield.storage.sqlite import database_file

FILE_URLS = [
    pytest.param("sqlite+aiosqlite:////var/lib/ms/m.db", Path("/var/lib/ms/m.db"), id="absolute"),
    pytest.param("sqlite+aiosqlite:///data/m.db", Path("data/m.db"), id="relative"),
    pytest.param("sqlite+aiosqlite://", None, id="memory-default"),
    pytest.param("sqlite+aiosqlite:///:memory:", None, id="memory-named"),
    pytest.param("sqlite+aiosqlite:///file:mem?mode=memory&uri=true", None, id="uri"),
]
"""SQLite URLs and the file each names (``None``: in memory); shared with the plain reading."""


@pytest.mark.parametrize(("url", "expected"), FILE_URLS)
def test_database_file(url: str, expected: Path | None) -> None:
    """File URLs give their path; in-memory and URI forms give none."""
    assert database_file(make_url(url)) == expected
