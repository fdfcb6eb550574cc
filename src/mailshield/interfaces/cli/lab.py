"""``mailshield lab``: a local internet on loopback for demos, tests and benchmarks.

``up`` starts a scenario (a bundled name like ``demo``, a TOML file, or ``bulk:N``) as a detached
process and prints how to point the checker at it; ``status`` shows running labs; ``down`` stops
exactly the processes ``up`` started; ``run`` runs a lab in the foreground (what ``up`` detaches).
State lives in ``<data_dir>/lab/<scenario name>/`` unless ``--state-dir`` says otherwise.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mailshield.interfaces.cli.context import settings_from
from mailshield.lab import background
from mailshield.lab.scenario import Scenario, ScenarioError
from mailshield.lab.scenarios import bundled_names, find_scenario

if TYPE_CHECKING:
    from mailshield.lab.runner import Lab

_RUN_LAB = "from mailshield.interfaces.cli.main import main; main()"

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the lab's state, CA and logs (default: <data_dir>/lab/<scenario>).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def listen_options(command: Any) -> Any:
    """``--dns``, ``--smtp-port`` and ``--https-port``: move a scenario's services."""
    command = click.option(
        "--https-port", type=click.IntRange(0, 65535), help="Port of every policy host."
    )(command)
    command = click.option(
        "--smtp-port", type=click.IntRange(0, 65535), help="Port of every MX host."
    )(command)
    return click.option(
        "--dns",
        "dns_listen",
        metavar="IP:PORT",
        help="Where the lab DNS server listens (port 0: any free port).",
    )(command)


@click.group()
def lab() -> None:
    """Start, stop and inspect a lab scenario."""


@lab.command("list")
@json_option
def list_scenarios(as_json: bool) -> None:
    """List the bundled scenarios."""
    scenarios = [find_scenario(name) for name in bundled_names()]
    if as_json:
        click.echo(json.dumps([{"name": s.name, "description": s.description} for s in scenarios]))
        return
    for scenario in scenarios:
        click.echo(f"{scenario.name:10} {scenario.description}")
    click.echo("bulk:N     N healthy synthetic domains (benchmarks)")


@lab.command()
@click.argument("scenario")
@state_dir_option
@listen_options
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the lab.")
@json_option
@click.pass_context
def up(
    ctx: click.Context,
    scenario: str,
    state_dir: Path | None,
    timeout: float,
    as_json: bool,
    dns_listen: str | None,
    smtp_port: int | None,
    https_port: int | None,
) -> None:
    """Start SCENARIO in the background and print how to check against it."""
    listen = _Listen(dns_listen, smtp_port, https_port)
    loaded = _load(scenario, listen)
    folder = state_dir or _default_folder(ctx, loaded.name)
    running = background.running_state(folder)
    if running is not None:
        raise click.ClickException(
            f"lab {loaded.name} is already running (pid {running.process.pid}); "
            f"stop it with: mailshield lab down {shlex.quote(scenario)}"
        )
    argv = [sys.executable, "-c", _RUN_LAB, "lab", "run", _spec_for_child(scenario)]
    argv += ["--state-dir", str(folder.resolve()), *listen.argv()]
    try:
        summary = background.launch(argv, folder, timeout=timeout)
    except background.BackgroundError as exc:
        raise click.ClickException(str(exc)) from exc
    _check_answers(summary, loaded)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_ready(summary, loaded, folder)


@lab.command()
@click.argument("scenario")
@state_dir_option
@listen_options
@click.option(background.READY_FD_OPTION, "ready_fd", type=int, hidden=True)
@click.pass_context
def run(
    ctx: click.Context,
    scenario: str,
    state_dir: Path | None,
    ready_fd: int | None,
    dns_listen: str | None,
    smtp_port: int | None,
    https_port: int | None,
) -> None:
    """Run SCENARIO in the foreground until interrupted (Ctrl-C or SIGTERM)."""
    from mailshield.lab.runner import LabError, run_until_signalled

    launcher = _Launcher(ready_fd)
    try:
        loaded = _load(scenario, _Listen(dns_listen, smtp_port, https_port))
    except click.ClickException as exc:
        launcher.tell({"error": exc.message})
        raise
    folder = state_dir or _default_folder(ctx, loaded.name)

    def ready(running: Lab) -> None:
        summary = running.summary()
        background.write_state(folder, summary, running.pids)
        if not launcher.tell({"ready": summary}):
            _print_ready(summary, loaded, folder, foreground=True)
        click.echo(f"lab {loaded.name} is running (pid {os.getpid()})", err=True)

    try:
        run_until_signalled(loaded, folder, ready)
    except Exception as exc:
        launcher.tell({"error": str(exc)})
        if isinstance(exc, LabError | ScenarioError):
            raise click.ClickException(str(exc)) from exc
        raise
    finally:
        background.forget_state(folder)


class _Launcher:
    """The pipe back to `lab up`, used once (its descriptor is closed after the message)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def tell(self, message: dict[str, Any]) -> bool:
        """Send ``message`` if a launcher waits and has not been told yet; whether it was sent."""
        if self._fd is None:
            return False
        fd, self._fd = self._fd, None
        background.announce(fd, message)
        return True


@lab.command()
@click.argument("scenario", required=False)
@state_dir_option
@json_option
@click.pass_context
def status(ctx: click.Context, scenario: str | None, state_dir: Path | None, as_json: bool) -> None:
    """Show whether SCENARIO (or every lab with state) is running, and where."""
    if state_dir is not None:
        folders = [state_dir]
    elif scenario is not None:
        folders = [_default_folder(ctx, _name_of(scenario))]
    else:
        root = settings_from(ctx).data_dir / "lab"
        folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    reports = [_status_of(folder) for folder in folders]
    if as_json:
        click.echo(json.dumps(reports, indent=2))
        return
    if not reports:
        click.echo("no lab has been started here")
    for report in reports:
        click.echo(_status_line(report))
    if (scenario or state_dir) is not None and not reports[0]["running"]:
        ctx.exit(3)  # like `systemctl status`: not running


@lab.command()
@click.argument("scenario")
@state_dir_option
@click.option("--grace", default=10.0, show_default=True, help="Seconds before SIGKILL.")
@click.pass_context
def down(ctx: click.Context, scenario: str, state_dir: Path | None, grace: float) -> None:
    """Stop the lab SCENARIO started with `up` (SIGTERM, then SIGKILL after --grace)."""
    folder = state_dir or _default_folder(ctx, _name_of(scenario))
    stopped = background.stop(folder, grace=grace)
    if stopped:
        pids = ", ".join(str(pid) for pid in stopped)
        click.echo(f"stopped lab {_name_of(scenario)} (pid {pids})")
    else:
        click.echo(f"lab {_name_of(scenario)} is not running")


# -- helpers -------------------------------------------------------------------------------------


def _load(spec: str, listen: _Listen | None = None) -> Scenario:
    """The scenario named by ``spec``, validated down to its records, services moved as asked."""
    from mailshield.lab.zones import build_zones

    try:
        scenario = find_scenario(spec)
        build_zones(scenario)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    return listen.apply(scenario) if listen is not None else scenario


@dataclass(frozen=True)
class _Listen:
    """The ``--dns``, ``--smtp-port`` and ``--https-port`` options of ``up`` and ``run``."""

    dns: str | None = None
    smtp_port: int | None = None
    https_port: int | None = None

    def apply(self, scenario: Scenario) -> Scenario:
        """``scenario`` with its services moved as the options say."""
        ports = scenario.lab.ports_for(privileged=os.geteuid() == 0)
        host = scenario.lab.dns_host
        if self.dns is not None:
            host, ports = _dns_address(self.dns), replace(ports, dns=_dns_port(self.dns))
        if self.smtp_port is not None:
            ports = replace(ports, smtp=self.smtp_port)
        if self.https_port is not None:
            ports = replace(ports, https=self.https_port)
        return scenario.with_ports(ports, dns_host=host)

    def argv(self) -> list[str]:
        """The same options on a command line (for the lab process ``up`` starts)."""
        argv = ["--dns", self.dns] if self.dns is not None else []
        argv += ["--smtp-port", str(self.smtp_port)] if self.smtp_port is not None else []
        argv += ["--https-port", str(self.https_port)] if self.https_port is not None else []
        return argv


def _dns_address(text: str) -> str:
    host = text.rpartition(":")[0]
    try:
        if ipaddress.IPv4Address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise click.BadParameter(f"{text!r}: give a 127.x.y.z address and a port", param_hint="--dns")


def _dns_port(text: str) -> int:
    port = text.rpartition(":")[2]
    if not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{text!r}: the port must be 0-65535", param_hint="--dns")
    return int(port)


def _name_of(spec: str) -> str:
    """The scenario name for ``spec`` without needing the file to still exist."""
    try:
        return find_scenario(spec).name
    except ScenarioError:
        return Path(spec).stem


def _spec_for_child(spec: str) -> str:
    path = Path(spec)
    return str(path.resolve()) if path.is_file() else spec


def _default_folder(ctx: click.Context, name: str) -> Path:
    return settings_from(ctx).data_dir / "lab" / name


def _check_answers(summary: dict[str, Any], scenario: Scenario) -> None:
    """Ask the lab's resolver for the first domain's SOA: the lab must answer, not just run."""
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode

    host, _, port = summary["resolvers"][0].rpartition(":")
    query = dns.message.make_query(scenario.domains[0].name, "SOA")
    try:
        response = dns.query.udp(query, host, port=int(port), timeout=5)
    except (OSError, dns.exception.DNSException) as exc:
        message = f"the lab started but its resolver does not answer: {exc}"
        raise click.ClickException(message) from exc
    if response.rcode() != dns.rcode.NOERROR:
        rcode = dns.rcode.to_text(response.rcode())
        raise click.ClickException(f"the lab started but its resolver answers {rcode}")


def _print_ready(
    summary: dict[str, Any], scenario: Scenario, folder: Path, *, foreground: bool = False
) -> None:
    resolver = summary["resolvers"][0]
    example = "excellent.test" if "excellent.test" in summary["domains"] else summary["domains"][0]
    command = ["mailshield", "check", example, "--resolver", resolver]
    command += ["--ca-bundle", summary["ca"], "--allow-private"]
    # The lab's zones are unsigned unless Unbound validates them: an answer without AD is insecure.
    command += ["--dnssec-validation", "yes"]
    if summary["smtp_port"] not in (0, 25):
        command += ["--smtp-port", str(summary["smtp_port"])]
    click.echo(f"lab {scenario.name} is up: {len(summary['domains'])} domains")
    click.echo(f"  resolver   {resolver}")
    click.echo(f"  CA         {summary['ca']}")
    click.echo(f"  SMTP port  {summary['smtp_port']}    HTTPS port {summary['https_port']}")
    click.echo(f"  state      {folder}")
    click.echo("try:")
    click.echo("  " + shlex.join(command))
    if summary["https_port"] != 443:
        click.echo(
            f"  (policy hosts listen on port {summary['https_port']}, not 443: run as root "
            "for MTA-STS policy fetches to reach them)"
        )
    if foreground:
        click.echo("stop it with Ctrl-C")
    else:
        click.echo(f"stop it with: mailshield lab down {shlex.quote(scenario.name)}")


def _status_of(folder: Path) -> dict[str, Any]:
    state = background.read_state(folder)
    running = state is not None and state.process.running
    report: dict[str, Any] = {"name": folder.name, "state_dir": str(folder), "running": running}
    if state is not None and running:
        report |= {"pid": state.process.pid, **state.summary}
    return report


def _status_line(report: dict[str, Any]) -> str:
    if not report["running"]:
        return f"{report['name']}: not running"
    return (
        f"{report['name']}: running (pid {report['pid']}), resolver {report['resolvers'][0]}, "
        f"CA {report['ca']}"
    )
