"""``mailshield domains``: host MTA-STS policies from the terminal.

Domains added here belong to the operator account (created on first use); the dashboard adds
real users. Every sub-command takes ``--json``. Exit codes: 0 done, 1 refused or a domain is
misconfigured, 2 usage or configuration error, 3 waiting for DNS (``verify``: nothing wrong,
records not all published yet).

Storage and the service are imported inside the commands, so other commands start quickly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mailshield.interfaces.cli import domains_render as render
from mailshield.interfaces.cli.context import settings_from

if TYPE_CHECKING:
    from mailshield.services.hosting import HostingService
    from mailshield.services.hosting_views import DomainView

T = TypeVar("T")
EXIT_REFUSED, EXIT_CONFIG, EXIT_PENDING = 1, 2, 3


class HostingFailure(click.ClickException):
    """A refused hosting request: the reason, each problem, and what ``--force`` risks."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, problems: Sequence[str] = (), risk: str = "") -> None:
        super().__init__(message)
        self.problems = tuple(problems)
        self.risk = risk

    def format_message(self) -> str:
        lines = [self.message, *(f"  - {p}" for p in self.problems)]
        if self.risk:
            lines.append(f"--force would override this. It risks: {self.risk}")
        return "\n".join(lines)


class HostingConfigFailure(HostingFailure):
    """The settings lack what the request needs."""

    exit_code = EXIT_CONFIG


def run_hosting(ctx: click.Context, action: Callable[[HostingService, int], Awaitable[T]]) -> T:
    """Run ``action`` with the hosting service and the operator account's id."""
    from mailshield.interfaces.cli.serve import ensure_schema
    from mailshield.interfaces.hosting_assembly import build_hosting
    from mailshield.services.hosting_errors import HostingError
    from mailshield.storage.database import Database

    settings = settings_from(ctx)

    async def main() -> T:
        async with Database(settings.effective_database_url) as db:
            await ensure_schema(db, auto_migrate=settings.auto_migrate)
            try:
                service = build_hosting(settings, db)
                return await action(service, await service.operator_account())
            except HostingError as exc:
                raise _failure(exc) from exc
            except ValueError as exc:  # a setting that cannot be used
                raise HostingConfigFailure(str(exc)) from exc

    return asyncio.run(main())


def _failure(exc: Exception) -> HostingFailure:
    from mailshield.services.hosting_errors import EnforceBlocked, NotConfigured, Refused

    if isinstance(exc, EnforceBlocked):
        return HostingFailure(str(exc), exc.problems, exc.risk)
    if isinstance(exc, Refused):
        return HostingFailure(str(exc), exc.problems)
    if isinstance(exc, NotConfigured):
        return HostingConfigFailure(str(exc))
    return HostingFailure(str(exc))


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def domains() -> None:
    """Host MTA-STS policies: onboard, verify, change and remove domains."""


@domains.command()
@click.argument("domain")
@click.option(
    "--mode", type=click.Choice(["testing", "enforce"]), default="testing", show_default=True
)
@click.option("--max-age", type=int, help="Policy max_age in seconds (default: default_max_age).")
@click.option(
    "--mx",
    "extra_mx",
    multiple=True,
    metavar="PATTERN",
    help="Extra mx pattern besides the live MX hosts (repeatable), e.g. *.example.com.",
)
@click.option(
    "--setup",
    type=click.Choice(["cname", "delegated"]),
    default="cname",
    show_default=True,
    help="cname: you publish the TXT id; delegated: _mta-sts CNAME, MailShield rotates the id.",
)
@click.option("--force", is_flag=True, help="With --mode enforce: skip the enforce gate.")
@click.option("--dry-run", is_flag=True, help="Show the proposed policy; host nothing.")
@json_option
@click.pass_context
def add(
    ctx: click.Context,
    domain: str,
    mode: str,
    max_age: int | None,
    extra_mx: tuple[str, ...],
    setup: str,
    force: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Host DOMAIN: propose a policy from its live MX set and print the records to publish."""
    from mailshield.core.hosting.model import Setup

    if dry_run:
        proposal = run_hosting(
            ctx, lambda s, _o: s.propose(domain, mode=mode, max_age=max_age, extra_mx=extra_mx)
        )
        if as_json:
            spec = proposal.spec
            body = spec.body() if spec else None
            _emit(
                {
                    "live_mx": list(proposal.live_mx),
                    "policy_body": body,
                    "problems": list(proposal.problems),
                    "notes": list(proposal.notes),
                }
            )
        else:
            click.echo(render.render_proposal(domain, proposal), nl=False)
        ctx.exit(0 if proposal.ok else EXIT_REFUSED)
    view = run_hosting(
        ctx,
        lambda s, owner: s.add(
            owner,
            domain,
            mode=mode,
            max_age=max_age,
            extra_mx=extra_mx,
            setup=Setup(setup),
            force=force,
        ),
    )
    _show(view.to_dict() if as_json else render.render_onboarding(view), as_json)


@domains.command()
@click.argument("domain", required=False)
@json_option
@click.pass_context
def status(ctx: click.Context, domain: str | None, as_json: bool) -> None:
    """Show hosted domains, or everything about DOMAIN (as last verified)."""
    views = run_hosting(ctx, lambda s, owner: s.status(owner, domain))
    _show_views(views, domain, as_json)


@domains.command()
@click.argument("domain", required=False)
@json_option
@click.pass_context
def verify(ctx: click.Context, domain: str | None, as_json: bool) -> None:
    """Resolve the records of every hosted domain (or DOMAIN) now and update their state."""
    views = run_hosting(ctx, lambda s, owner: s.verify(owner, domain))
    _show_views(views, domain, as_json)
    ctx.exit(_verify_exit(views))


@domains.command()
@click.argument("domain")
@click.option("--max-age", type=int, help="New max_age in seconds.")
@click.option(
    "--mx",
    "extra_mx",
    multiple=True,
    metavar="PATTERN",
    help="Extra mx patterns (replace the current ones).",
)
@click.option("--no-extra-mx", is_flag=True, help="Drop every extra mx pattern.")
@json_option
@click.pass_context
def edit(
    ctx: click.Context,
    domain: str,
    max_age: int | None,
    extra_mx: tuple[str, ...],
    no_extra_mx: bool,
    as_json: bool,
) -> None:
    """Change DOMAIN's policy: a new body is served first under a new id, then publish the id."""
    extras: Sequence[str] | None = () if no_extra_mx else (extra_mx or None)
    change = run_hosting(
        ctx, lambda s, owner: s.edit(owner, domain, max_age=max_age, extra_mx=extras)
    )
    _show(change.to_dict() if as_json else render.render_change(change), as_json)


@domains.command()
@click.argument("domain")
@click.argument("mode", type=click.Choice(["testing", "enforce"]))
@click.option(
    "--force",
    is_flag=True,
    help="Enforce even though the gate found blockers: senders then refuse those MX hosts.",
)
@json_option
@click.pass_context
def mode(ctx: click.Context, domain: str, mode: str, force: bool, as_json: bool) -> None:
    """Move DOMAIN to testing or enforce (enforce only once every MX is covered and valid)."""
    result = run_hosting(ctx, lambda s, owner: s.set_mode(owner, domain, mode, force=force))
    _show(result.to_dict() if as_json else render.render_mode_change(result), as_json)


@domains.command()
@click.argument("domain")
@click.option("--finish", is_flag=True, help="Stop hosting once the safe deletion time passed.")
@click.option("--force", is_flag=True, help="With --finish: stop before it is safe.")
@json_option
@click.pass_context
def remove(ctx: click.Context, domain: str, finish: bool, force: bool, as_json: bool) -> None:
    """Remove DOMAIN safely: serve mode none first, stop hosting once old policies expired."""
    if finish:
        view = run_hosting(ctx, lambda s, owner: s.finish_removal(owner, domain, force=force))
        _show(view.to_dict() if as_json else render.render_finished(view), as_json)
        return
    view = run_hosting(ctx, lambda s, owner: s.remove(owner, domain))
    _show(view.to_dict() if as_json else render.render_removal(view), as_json)


def _show(data: Any, as_json: bool) -> None:
    if as_json:
        _emit(data)
    else:
        click.echo(data, nl=False)


def _show_views(views: Sequence[DomainView], domain: str | None, as_json: bool) -> None:
    if as_json:
        _emit([v.to_dict() for v in views])
    elif domain is not None:
        click.echo("".join(render.render_detail(v) for v in views), nl=False)
    else:
        click.echo(render.render_list(views), nl=False)


def _verify_exit(views: Sequence[DomainView]) -> int:
    states = {v.domain.state.value for v in views}
    if "misconfigured" in states:
        return EXIT_REFUSED
    if "pending_dns" in states:
        return EXIT_PENDING
    return 0
