"""``mailshield codes``: the finding catalogue (also renders docs/checks.md)."""

from __future__ import annotations

import click

from mailshield.core.checks import CHECK_TITLES
from mailshield.core.findings import FindingSpec, catalogue

DOC_HEADER = """# Finding codes

Every problem MailShield reports carries one of these stable codes (in the CLI output, the JSON
`findings[].code`, the API and the dashboard). The status is the usual one; some checks choose
another in context (for example a certificate problem is `fail` when MTA-STS or DANE covers the
MX host, `warn` otherwise). `error` always means *could not test* and never counts as a failure.

This file is generated: `mailshield codes --markdown > docs/checks.md`.
"""


def _group(code: str) -> str:
    head = code.split(".", 1)[0]
    return {"dnssec": "dane"}.get(head, head)


def render_markdown() -> str:
    """docs/checks.md: one table per protocol."""
    specs = catalogue()
    groups: dict[str, list[FindingSpec]] = {}
    for spec in specs.values():
        groups.setdefault(_group(spec.code), []).append(spec)
    order = [*(g for g in CHECK_TITLES if g in groups), *sorted(set(groups) - set(CHECK_TITLES))]
    lines = [DOC_HEADER]
    for group in order:
        lines += [
            f"## {CHECK_TITLES.get(group, group)}",
            "",
            "| code | status | meaning | rule | fix |",
            "|---|---|---|---|---|",
        ]
        lines += [_row(spec) for spec in groups[group]]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(spec: FindingSpec) -> str:
    return (
        f"| `{spec.code}` | {spec.status.value} | {_cell(spec.title)} | {_cell(spec.rfc)} |"
        f" {_cell(spec.fix)} |"
    )


@click.command()
@click.argument("code", required=False)
@click.option("--markdown", is_flag=True, help="Print the whole catalogue as Markdown.")
def codes(code: str | None, markdown: bool) -> None:
    """List finding codes, or explain one CODE."""
    specs = catalogue()
    if markdown:
        click.echo(render_markdown(), nl=False)
        return
    if code is not None:
        spec = specs.get(code)
        if spec is None:
            raise click.UsageError(f"unknown finding code {code!r}")
        click.echo(f"{spec.code} ({spec.status.value}): {spec.title}")
        if spec.rfc:
            click.echo(f"Rule: {spec.rfc}")
        if spec.fix:
            click.echo(f"Fix: {spec.fix}")
        return
    for spec in specs.values():
        click.echo(f"{spec.code:40} {spec.status.value:15} {spec.title}")
