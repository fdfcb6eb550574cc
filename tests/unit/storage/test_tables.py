"""The schema definition: portable constraint names and the right types per dialect."""

from __future__ import annotations

import pytest
from sqlalchemy import Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from mailshield.storage.tables import check_reports, domains, metadata, users


def constraint_names(table: Table) -> set[str]:
    names = {str(c.name) for c in table.constraints}
    return names | {str(i.name) for i in table.indexes}


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        pytest.param(users, {"pk_users", "uq_users_email_lower"}, id="users"),
        pytest.param(
            domains,
            {"pk_domains", "fk_domains_owner_id_users", "uq_domains_owner_id_name"},
            id="domains",
        ),
        pytest.param(
            check_reports, {"pk_check_reports", "ix_check_reports_domain_checked_at"}, id="reports"
        ),
    ],
)
def test_every_constraint_has_a_conventional_name(table: Table, expected: set[str]) -> None:
    """Constraints and indexes are named by the convention, so migrations can refer to them."""
    assert constraint_names(table) == expected


def test_metadata_holds_the_core_tables() -> None:
    """The initial schema's users, domains and check reports are on the shared metadata."""
    assert {"users", "domains", "check_reports"} <= set(metadata.tables)


@pytest.mark.parametrize(
    ("dialect", "fragments"),
    [
        pytest.param(
            postgresql.dialect(),
            ["id BIGSERIAL", "report JSONB NOT NULL", "checked_at TIMESTAMP WITH TIME ZONE"],
            id="postgres",
        ),
        pytest.param(
            sqlite.dialect(), ["id INTEGER NOT NULL", "report JSON NOT NULL"], id="sqlite"
        ),
    ],
)
def test_report_table_types_per_dialect(dialect: Dialect, fragments: list[str]) -> None:
    """PostgreSQL gets 64-bit keys, JSONB and timestamptz; SQLite a rowid key and JSON text."""
    ddl = str(CreateTable(check_reports).compile(dialect=dialect))
    for fragment in fragments:
        assert fragment in ddl
