"""Migration scripts and schema status, without a database."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from mailshield.storage import migrate
from mailshield.storage.migrate import SchemaStatus, script_directory, status_of

VERSIONS = migrate.MIGRATIONS_DIR / "versions"


def test_history_is_linear_with_one_head() -> None:
    """Every revision has at most one parent and one child, so there is a single head."""
    scripts = script_directory()
    assert len(scripts.get_heads()) == 1
    for revision in scripts.walk_revisions():
        assert isinstance(revision.down_revision, str | None)


def test_revision_files_are_numbered_in_order() -> None:
    """File NNNN_slug.py holds revision NNNN, whose parent is NNNN - 1."""
    for revision in script_directory().walk_revisions():
        assert revision.path is not None
        match = re.fullmatch(r"(\d{4})_\w+\.py", Path(revision.path).name)
        assert match is not None
        assert match.group(1) == revision.revision
        expected_parent = (
            None if revision.revision == "0001" else f"{int(revision.revision) - 1:04d}"
        )
        assert revision.down_revision == expected_parent


@pytest.mark.parametrize(
    ("current", "up_to_date", "behind", "known", "says"),
    [
        pytest.param(None, False, True, True, "mailshield db upgrade", id="empty"),
        pytest.param("HEAD", True, False, True, "up to date", id="at-head"),
        pytest.param("9999", False, False, False, "newer version", id="from-the-future"),
    ],
)
def test_status_of_a_database(
    current: str | None, up_to_date: bool, behind: bool, known: bool, says: str
) -> None:
    """Status says whether migrations are pending, done, or from a newer MailShield."""
    if current == "HEAD":
        current = script_directory().get_current_head()
    status = status_of(current)
    assert (status.up_to_date, status.behind, status.known) == (up_to_date, behind, known)
    assert says in status.describe()


def test_behind_a_later_head() -> None:
    """A database one revision behind the head is behind and told to upgrade."""
    status = SchemaStatus(current="0001", head="0002", known=True)
    assert status.behind
    assert "0001" in status.describe()
    assert "0002" in status.describe()


@pytest.fixture
def migrations_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped migrations copied to a scratch folder, which migrate then uses."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    return copy


def test_new_revision_is_numbered_after_the_head(migrations_copy: Path) -> None:
    """A new revision gets the next number, the message as its slug and the head as parent."""
    head = migrate.head_revision()
    path = migrate.new_revision("add alert rules")
    number = f"{int(head) + 1:04d}"
    assert path == migrations_copy / "versions" / f"{number}_add_alert_rules.py"
    scripts = ScriptDirectory(str(migrations_copy))
    assert scripts.get_current_head() == number
    assert scripts.get_revision(number).down_revision == head
