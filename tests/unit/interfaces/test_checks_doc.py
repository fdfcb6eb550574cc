"""docs/checks.md is the generated finding catalogue, and it holds every code the checker issue
requires, each with its meaning, status and RFC section."""

from pathlib import Path

import pytest
from tests.integration.checker.issue_codes import MINIMUM_CODES

from mailshield.core.findings import catalogue
from mailshield.interfaces.cli.codes import render_markdown

DOC = Path(__file__).parents[3] / "docs" / "checks.md"


def test_doc_is_the_generated_catalogue() -> None:
    """The file equals `mailshield codes --markdown` (regenerate it after changing a code)."""
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/checks.md is stale: run `mailshield codes --markdown > docs/checks.md`"
    )


@pytest.mark.parametrize("code", MINIMUM_CODES)
def test_minimum_code_is_catalogued_and_documented(code: str) -> None:
    """Each minimum code of the issue is defined with a meaning and a rule, and has its row."""
    spec = catalogue().get(code)
    assert spec is not None, f"{code} is not in the catalogue"
    assert spec.title
    assert spec.rfc
    assert f"| `{code}` | {spec.status.value} |" in DOC.read_text(encoding="utf-8")
