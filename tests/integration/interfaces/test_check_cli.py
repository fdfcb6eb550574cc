"""`mailshield check` as a user runs it, in a separate process against a lab: the text report,
`--json` against the schema in docs/json.md, `--format csv|jsonl`, bulk runs with resume, exit
codes, and the SSRF guard without `--allow-private`."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from tests.integration.checker.checker_lab import HTTPS_PORT, running_lab, scenario
from tests.integration.checker.ssrf_canary import DOMAIN as CANARY_DOMAIN
from tests.integration.checker.ssrf_canary import Canary, canary_world

from mailshield.core.checks import CHECK_ORDER, CHECK_TITLES
from mailshield.interfaces.cli.render import csv_header
from mailshield.lab.endpoint import free_port
from mailshield.lab.runner import Lab

DOCS = Path(__file__).parents[3] / "docs"
DOMAINS = ("good.test", "bad.test", "untested.test")
EXIT_CODES = {"good.test": 0, "bad.test": 1, "untested.test": 3}


def mailshield(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the mailshield command in a new process, as wide as a big terminal."""
    argv = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("MAILSHIELD_CONFIG", None)
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def documented_schema() -> dict[str, Any]:
    """The JSON Schema block under "## Schema" in docs/json.md."""
    text = (DOCS / "json.md").read_text(encoding="utf-8")
    section = text.split("## Schema", 1)[1]
    match = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert match is not None, "docs/json.md has no schema block"
    schema: dict[str, Any] = json.loads(match[1])
    return schema


def documented_example() -> dict[str, Any]:
    """The example report under "## Example" in docs/json.md."""
    section = (DOCS / "json.md").read_text(encoding="utf-8").split("## Example", 1)[1]
    match = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert match is not None, "docs/json.md has no example"
    example: dict[str, Any] = json.loads(match[1])
    return example


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(scenario("cli"), tmp_path_factory.mktemp("cli")) as running:
        yield running


@pytest.fixture(scope="module")
def lab_options(lab: Lab) -> list[str]:
    """The options that point the command at the lab (the plain lab DNS does not validate, and
    its zones are unsigned: insecure is the truth there)."""
    return [
        *("--resolver", lab.resolvers[0], "--ca-bundle", str(lab.ca_path), "--allow-private"),
        *("--smtp-port", str(lab.ports.smtp), "--timeout", "5", "--dnssec-validation", "yes"),
    ]


def check(options: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return mailshield("check", *args, *options)


# -- one domain ----------------------------------------------------------------------------------


def test_text_report_shows_score_grade_sections_and_fixes(lab_options: list[str]) -> None:
    """The terminal report has the score and grade, a section per protocol, each problem with
    its code, and the exact fix under it."""
    done = check(lab_options, "bad.test")
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert re.search(r"bad\.test\s+score \d{1,3}/100\s+grade [A-F]", out), out
    for title in CHECK_TITLES.values():
        assert re.search(rf"^{re.escape(title)}  \S", out, re.M), title
    assert "[spf.all.pass]" in out
    assert "Fix: v=spf1 mx -all" in out
    assert "[mta_sts.mx.not_covered]" in out
    assert "mx: backup.bad.test" in out  # the corrected policy lists the uncovered MX
    assert '_mta-sts.bad.test. IN TXT "v=STSv1; id=' in out


def test_text_report_names_what_could_not_be_tested(lab_options: list[str]) -> None:
    """A check that could not run is shown as such and named as left out of the score."""
    done = check(lab_options, "untested.test")
    assert done.returncode == 3, done.stderr
    assert "could not test" in done.stdout
    assert "Could not test (left out of the score): STARTTLS" in done.stdout


@pytest.mark.parametrize("domain", DOMAINS)
def test_json_matches_the_documented_schema(lab_options: list[str], domain: str) -> None:
    """`--json` output validates against docs/json.md, with every check once, in order; the
    exit code is 0 when nothing failed, 1 when something failed, 3 when something could not be
    tested."""
    done = check(lab_options, domain, "--json")
    assert done.returncode == EXIT_CODES[domain], done.stderr
    report = json.loads(done.stdout)
    jsonschema_rs.validator_for(documented_schema()).validate(report)
    assert report["domain"] == domain
    assert [r["check"] for r in report["results"]] == list(CHECK_ORDER)
    checked_at = dt.datetime.fromisoformat(report["checked_at"])
    assert checked_at.utcoffset() == dt.timedelta(0)


def test_documented_example_matches_the_schema() -> None:
    """The example in docs/json.md is itself a valid report."""
    jsonschema_rs.validator_for(documented_schema()).validate(documented_example())


def test_json_carries_findings_with_their_fixes(lab_options: list[str]) -> None:
    """Findings in the JSON carry code, status, subject, params, message and the exact fix."""
    done = check(lab_options, "bad.test", "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    findings = {f["code"]: f for r in report["results"] for f in r["findings"]}
    spf = findings["spf.all.pass"]
    assert (spf["status"], spf["subject"], spf["fix"]) == ("fail", "bad.test", "v=spf1 mx -all")
    assert spf["params"] == {"term": "+all"}
    assert report["status"] == "fail"


def test_jsonl_is_the_same_report_on_one_line(lab_options: list[str]) -> None:
    """`--format jsonl` prints the JSON report as one line."""
    done = check(lab_options, "good.test", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    jsonschema_rs.validator_for(documented_schema()).validate(json.loads(lines[0]))


def test_csv_is_a_header_and_a_row(lab_options: list[str]) -> None:
    """`--format csv` prints the documented header and one row of statuses and codes."""
    done = check(lab_options, "bad.test", "--format", "csv")
    assert done.returncode == 1, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == csv_header()
    (row,) = rows
    assert (row["domain"], row["status"], row["spf"], row["mta_sts"]) == (
        "bad.test",
        "fail",
        "fail",
        "fail",
    )
    assert set(row["failures"].split()) == {"spf.all.pass", "mta_sts.mx.not_covered"}


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="no-domain"),
        pytest.param(("good.test", "--file", "{file}"), id="domain-and-file"),
        pytest.param(("not a domain!",), id="invalid-name"),
        pytest.param(("good.test", "--format", "xml"), id="unknown-format"),
        pytest.param(("good.test", "--concurrency", "0"), id="bad-concurrency"),
        pytest.param(("good.test", "--resolver"), id="option-without-value"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Mistakes on the command line exit with 2 and a message, before anything is checked."""
    listing = tmp_path / "domains.txt"
    listing.write_text("good.test\n", encoding="utf-8")
    done = mailshield("check", *(a.format(file=listing) for a in args))
    assert done.returncode == 2
    assert "Error" in done.stderr or "Usage" in done.stderr


# -- bulk ----------------------------------------------------------------------------------------


def domains_file(folder: Path) -> Path:
    """A list with the three lab domains, a comment, a blank line and an invalid name."""
    path = folder / "domains.txt"
    path.write_text(
        "# lab domains\ngood.test\n\nbad.test  # fails\nuntested.test\nnot a domain!\n",
        encoding="utf-8",
    )
    return path


def jsonl_domains(path: Path) -> list[str]:
    """The domain of every complete report line in a JSON Lines file."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            found.append(json.loads(line)["domain"])
    return found


def test_bulk_writes_one_report_per_domain(lab_options: list[str], tmp_path: Path) -> None:
    """`-f domains.txt -o results.jsonl` checks each listed domain once, skips comments and
    invalid names, and exits with the worst domain's code."""
    output = tmp_path / "results.jsonl"
    done = check(lab_options, "-f", str(domains_file(tmp_path)), "-o", str(output))
    assert done.returncode == 1, done.stderr
    assert sorted(jsonl_domains(output)) == sorted(DOMAINS)
    assert "3 checked, 0 skipped" in done.stderr
    assert "not a domain!" in done.stderr  # named as skipped, not checked


def test_bulk_resumes_after_an_interrupted_run(lab_options: list[str], tmp_path: Path) -> None:
    """A run cut short leaves complete lines and a partial last one; the next run checks only
    the domains without a complete line and leaves one valid report per domain."""
    output = tmp_path / "results.jsonl"
    first = check(lab_options, "good.test", "--format", "jsonl").stdout
    partial = check(lab_options, "bad.test", "--format", "jsonl").stdout[:40]
    output.write_text(first + partial, encoding="utf-8")  # as a killed run leaves it
    done = check(lab_options, "-f", str(domains_file(tmp_path)), "-o", str(output))
    assert done.returncode == 1, done.stderr
    assert "2 checked, 1 skipped" in done.stderr
    assert sorted(jsonl_domains(output)) == sorted(DOMAINS)
    assert output.read_text(encoding="utf-8").startswith(first)  # kept, not checked again


def test_bulk_csv_summary_resumes_without_repeating(lab_options: list[str], tmp_path: Path) -> None:
    """`-o results.csv` writes a header and a row per domain; running again checks nothing
    and adds nothing."""
    output = tmp_path / "results.csv"
    listing = domains_file(tmp_path)
    first = check(lab_options, "-f", str(listing), "-o", str(output))
    assert first.returncode == 1, first.stderr
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert sorted(row["domain"] for row in rows) == sorted(DOMAINS)
    assert {row["domain"]: row["status"] for row in rows}["untested.test"] == "error"
    before = output.read_text(encoding="utf-8")
    again = check(lab_options, "-f", str(listing), "-o", str(output))
    assert again.returncode == 0, again.stderr  # nothing checked: nothing failed
    assert "0 checked, 3 skipped" in again.stderr
    assert output.read_text(encoding="utf-8") == before


def test_bulk_csv_resume_rechecks_a_cut_row(lab_options: list[str], tmp_path: Path) -> None:
    """A CSV row cut short by an interrupted run does not count as done."""
    output = tmp_path / "results.csv"
    full = check(lab_options, "good.test", "--format", "csv").stdout
    output.write_text(full + "bad.test,6", encoding="utf-8")  # header, a row, a cut row
    done = check(lab_options, "-f", str(domains_file(tmp_path)), "-o", str(output))
    assert "2 checked, 1 skipped" in done.stderr
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    complete = [row["domain"] for row in rows if row["untested"] is not None]
    assert sorted(complete) == sorted(DOMAINS)


# -- the SSRF guard ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def canary_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(canary_world(), tmp_path_factory.mktemp("canary")) as running:
        yield running


def test_without_allow_private_the_canary_hears_nothing(canary_lab: Lab) -> None:
    """Without --allow-private a domain pointing at loopback is reported, not contacted: the
    canary listening there receives no connection, and the command ends normally."""
    smtp_port = free_port("127.13.9.25")
    with contextlib.closing(Canary((smtp_port, HTTPS_PORT))) as canary:
        done = mailshield(
            "check",
            CANARY_DOMAIN,
            "--json",
            *("--resolver", canary_lab.resolvers[0], "--ca-bundle", str(canary_lab.ca_path)),
            *("--smtp-port", str(smtp_port), "--timeout", "5"),
        )
        assert canary.connections() == 0
    assert done.returncode in (1, 3), done.stderr
    report = json.loads(done.stdout)
    reasons = [
        f["message"]
        for r in report["results"]
        for f in r["findings"]
        if f["code"] in ("starttls.unreachable", "mta_sts.policy.fetch_failed")
    ]
    assert reasons
    assert all("not public" in m or "non-public" in m for m in reasons), reasons
