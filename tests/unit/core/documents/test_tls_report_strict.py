"""The strict fast paths give exactly the tolerant parse whenever they take a report."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailshield.core.documents import tls_report
from mailshield.core.documents.archive import ArchiveKind, Expanded, expand
from mailshield.core.documents.tls_report import DEFAULT_LIMITS, ReportLimits, parse_tls_report
from mailshield.core.documents.tls_report_strict import STRICT_DEPTH, inflate_strict, read_strict

CORPUS = Path(__file__).parents[3] / "data" / "tlsrpt"
SAMPLES = Path(__file__).parents[4].parent / "shared" / "data" / "report-samples" / "tlsrpt"


class Members(list[tuple[str, Any]]):
    """A JSON object as written: its members in order, repeated names allowed."""


def _render(value: Any, spaced: bool, ascii_only: bool) -> str:
    """JSON text of ``value``; ``Members`` may repeat names, ``spaced`` puts blanks around
    the colons, ``ascii_only`` writes non-ASCII text as escapes."""
    if isinstance(value, Members):
        colon = " : " if spaced else ":"
        return "{" + ",".join(
            json.dumps(key, ensure_ascii=ascii_only) + colon + _render(item, spaced, ascii_only)
            for key, item in value
        ) + "}"  # fmt: skip
    if isinstance(value, list):
        return "[" + ", ".join(_render(item, spaced, ascii_only) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def _tolerant(data: bytes, limits: ReportLimits) -> tls_report.TlsReportParse:
    """The parse without the strict path: the tolerant walk alone."""
    with mock.patch.object(tls_report, "read_strict", return_value=None):
        return parse_tls_report(data, limits)


# --- documents: canonical values, and values the tolerant walk changes or refuses ---------------

CLEAN_TEXT = st.sampled_from(["Org", "Google Inc.", "r-1", "2024-05-01_x", "a b"])
START = st.just("2024-05-01T00:00:00Z")  # a well-formed range starts before its end
CLEAN_HOST = st.sampled_from(["example.com", "mx1.example.com", "d0001.example"])
CLEAN_IP = st.sampled_from(["192.0.2.1", "203.0.113.140", "2001:db8::1", "::ffff:192.0.2.1"])
CLEAN_COUNT = st.integers(min_value=0, max_value=5000)
ABSENT = object()  # a member left out

# Values the tolerant walk changes, notes or refuses, by member name ("" for any member).
ODD_TEXT = ["", " ", " Org ", "x" * 40, "\u00e9t\u00e9", "a\u0000b", 'a"b', 7, None, [], {}]
ODD_HOST = ["Example.COM", "example.com.", "b\u00fccher.example", "a..b", "-", "*.example.com"]
ODD_IP = ["2001:DB8:0::1", "01.2.3.4", " 192.0.2.1 ", "x", "::ffff:c000:201", "1.2.3.4" + " " * 70]
ODD_COUNT = [-1, 2**53, "5", 5.0, True, 10**30]
TLSA_JSON = '{"usage": 3, "selector": 1, "matchingtype": 1, "data": "ab12"}'
ODD: dict[str, list[Any]] = {
    "": ODD_TEXT,
    "start-datetime": ["2024-05-01T00:00:00", "2024-05-01", "2024-05-01t00:00:00z", 1714521600,
                       "2024-06-01T00:00:00Z"],
    "end-datetime": ["2024-04-01T00:00:00Z", "2024-05-01 23:59:59Z"],
    "policy-type": ["STS", " sts", "other", "tlsa", "tlsa"],
    "policy-domain": ODD_HOST,
    "policy-string": ["mode: testing", [TLSA_JSON], [TLSA_JSON], [" a ", ""], ["x"] * 3],
    "mx-host": ["mx1.example.com", ["mx.example.com."], ["*.example.com", "Mx.Example"], ["a"] * 3],
    "result-type": ["Validation-Failure", " validation-failure", "new-type", "", 3],
    "sending-mta-ip": ODD_IP,
    "receiving-ip": ODD_IP,
    "receiving-mx-hostname": ODD_HOST,
    "total-successful-session-count": ODD_COUNT,
    "total-failure-session-count": [*ODD_COUNT, 1],
    "failed-session-count": ODD_COUNT,
    "policies": [{}, [], "x"],
    "failure-details": [[], [{}], {}, None],
    "receiving-mx-helo": ["", " ", "x" * 3000, 7],
    "additional-information": ["", "x" * 3000, []],
    "failure-reason-code": ["", "x" * 3000, {}],
}  # fmt: skip
UNKNOWN = ["extra", "additional-info-uri", "mx-host-pattern"]


@st.composite
def _members(draw: st.DrawFn, fields: list[tuple[str, Any]]) -> Members:
    """An object of ``fields`` (name, strategy); a value ``ABSENT`` leaves its member out."""
    out = Members()
    for name, strategy in fields:
        value = draw(strategy)
        if value is not ABSENT:
            out.append((name, value))
    return out


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(ABSENT), st.none(), strategy)


DETAIL = _members(
    [
        ("result-type", st.sampled_from(["validation-failure", "tlsa-invalid"])),
        ("sending-mta-ip", CLEAN_IP),
        ("receiving-mx-hostname", CLEAN_HOST),
        ("receiving-mx-helo", _optional(CLEAN_TEXT)),
        ("receiving-ip", CLEAN_IP),
        ("failed-session-count", CLEAN_COUNT),
        ("additional-information", _optional(CLEAN_TEXT)),
        ("failure-reason-code", _optional(CLEAN_TEXT)),
    ]
)
POLICY = _members(
    [
        ("policy-type", st.sampled_from(["sts", "tlsa", "no-policy-found"])),
        ("policy-string", _optional(st.lists(CLEAN_TEXT, max_size=4))),
        ("policy-domain", CLEAN_HOST),
        ("mx-host", _optional(st.lists(CLEAN_HOST | st.just("*.example.com"), max_size=3))),
    ]
)
SUMMARY = _members(
    [("total-successful-session-count", CLEAN_COUNT), ("total-failure-session-count", CLEAN_COUNT)]
)
ENTRY = _members(  # failed sessions need their details to go unnoted: always a list here
    [("policy", POLICY), ("summary", SUMMARY), ("failure-details", st.lists(DETAIL, max_size=3))]
)
END = START | st.sampled_from(["2024-05-01T23:59:59Z", "2024-05-02T00:00:00+02:00"])
DATES = _members([("start-datetime", START), ("end-datetime", END)])
WELL_FORMED = _members(
    [
        ("organization-name", CLEAN_TEXT),
        ("date-range", DATES),
        ("contact-info", CLEAN_TEXT),
        ("report-id", CLEAN_TEXT),
        ("policies", st.lists(ENTRY, min_size=1, max_size=3)),
    ]
)


def _objects(value: Any) -> list[Members]:
    """Every object in ``value``, outermost first."""
    if isinstance(value, Members):
        return [value] + [inner for _, item in value for inner in _objects(item)]
    if isinstance(value, list):
        return [inner for item in value for inner in _objects(item)]
    return []


@st.composite
def _mutated(draw: st.DrawFn) -> Members:
    """A well-formed report with one to three changes: a member given an odd value (the member
    drawn first, so that each kind of oddity is met often), or a member dropped, repeated or
    joined by an unknown one."""
    doc = draw(WELL_FORMED)
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        kind = draw(st.sampled_from(["odd", "odd", "odd", "drop", "repeat", "unknown"]))
        name = draw(st.sampled_from(sorted(ODD))) if kind == "odd" else None
        places = [
            (target, index)
            for target in _objects(doc)
            for index, (member, _) in enumerate(target)
            if name in (None, "", member)
        ]
        if not places:
            continue
        target, index = draw(st.sampled_from(places))
        member, value = target[index]
        if kind == "odd":
            target[index] = (member, draw(st.sampled_from(ODD.get(member, ODD[""]))))
        elif kind == "drop":
            del target[index]
        elif kind == "repeat":
            again = draw(st.sampled_from([value, "x"]))
            target.insert(draw(st.integers(0, len(target))), (member, again))
        else:
            target.insert(index, (draw(st.sampled_from(UNKNOWN)), "x"))
    return doc


# Mostly the defaults (a low limit sends most reports to the walk), else one limit lowered.
LIMITS = st.one_of(
    st.just(DEFAULT_LIMITS),
    st.just(DEFAULT_LIMITS),
    st.sampled_from(
        [
            ReportLimits(max_depth=STRICT_DEPTH - 1),
            ReportLimits(max_depth=STRICT_DEPTH),
            ReportLimits(max_policies=1),
            ReportLimits(max_policies=2),
            ReportLimits(max_failure_details=1),
            ReportLimits(max_list_items=2),
            ReportLimits(max_string_length=5),
        ]
    ),
)


# --- the differential properties -----------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=600)
@given(_mutated() | WELL_FORMED, st.booleans(), st.booleans(), st.booleans(), LIMITS)
def test_strict_path_equals_the_tolerant_parse(
    doc: Members, spaced: bool, ascii_only: bool, packed: bool, limits: ReportLimits
) -> None:
    """Whatever the report holds, the parse equals the tolerant walk's, notes included."""
    data = _render(doc, spaced, ascii_only).encode()
    data = gzip.compress(data, mtime=0) if packed else data
    assert parse_tls_report(data, limits) == _tolerant(data, limits)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(_mutated() | WELL_FORMED, st.booleans(), LIMITS)
def test_strict_path_takes_only_what_the_walk_reads_without_notes(
    doc: Members, spaced: bool, limits: ReportLimits
) -> None:
    """A report the strict path takes is one the tolerant walk reads, identically, unnoted."""
    text = _render(doc, spaced, ascii_only=False)
    strict = read_strict(text, limits, "f")
    if strict is not None:
        tolerant = _tolerant(text.encode(), limits).report
        assert tolerant is not None
        assert not tolerant.notes
        assert strict == tolerant.__class__(**{**_fields(tolerant), "fingerprint": "f"})


def _fields(report: Any) -> dict[str, Any]:
    return {name: getattr(report, name) for name in report.__slots__}


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(WELL_FORMED, st.booleans())
def test_strict_path_takes_well_formed_reports(doc: Members, spaced: bool) -> None:
    """A report made of canonical values only is taken by the strict path (so it is used)."""
    assert read_strict(_render(doc, spaced, ascii_only=False), DEFAULT_LIMITS, "f") is not None


# --- examples ------------------------------------------------------------------------------------


def _clean_text() -> str:
    return json.dumps(json.loads((CORPUS / "conformant.json").read_bytes()))


def _edited(edit: Any) -> Any:
    """A change of the text made on its parsed document (then written compactly again)."""

    def change(text: str) -> str:
        doc = json.loads(text)
        edit(doc, doc["policies"][0])
        return json.dumps(doc)

    return change


def _tlsa(doc: Any, entry: Any) -> None:
    entry["policy"].update({"policy-type": "tlsa", "policy-string": [TLSA_JSON]})


def _swap(old: str, new: str) -> Any:
    """A change of the text: its first ``old`` becomes ``new``."""
    return lambda text: text.replace(old, new, 1)


ORGANIZATION = '{"organization-name"'
UNUSUAL = {
    "duplicate": _swap(ORGANIZATION, '{"report-id": "x", "organization-name"'),
    "escape": _swap('"Sender', '"\\u0053ender'),
    "unknown-member": _swap(ORGANIZATION, '{"x": 1, "organization-name"'),
    "upper-case": _swap('"sts"', '"STS"'),
    "empty-policies": _edited(lambda doc, entry: doc.update(policies=[])),
    "reversed-dates": _swap("05-01T23:59:59Z", "04-30T23:59:59Z"),
    "failed-without-details": _edited(lambda doc, entry: entry.pop("failure-details")),
    "failure-details-null": _edited(lambda doc, entry: entry.update({"failure-details": None})),
    "tlsa-records-as-json": _edited(_tlsa),
    "empty-helo": _swap('"receiving-mx-helo": "mx2.example.com"', '"receiving-mx-helo": ""'),
    "trailing-dot": _swap('"example.com"', '"example.com."'),
    "count-as-string": _swap('"failed-session-count": 12', '"failed-session-count": "12"'),
}


@pytest.mark.parametrize("change", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_unusual_reports_are_left_to_the_tolerant_walk(change: Any) -> None:
    """Each unusual trait sends the report to the tolerant walk (read_strict gives None)."""
    text = _clean_text()
    assert read_strict(text, DEFAULT_LIMITS, "f") is not None
    changed = change(text)
    assert changed != text
    assert read_strict(changed, DEFAULT_LIMITS, "f") is None
    assert parse_tls_report(changed.encode()).notes or "\\" in changed or '"x"' in changed


def test_depth_cap_below_the_schema_leaves_reports_to_the_walk() -> None:
    """With a depth cap the schema could exceed, the walk decides (and refuses as too deep)."""
    limits = ReportLimits(max_depth=STRICT_DEPTH - 1)
    assert read_strict(_clean_text(), limits, "f") is None


def _corpus_files() -> list[Path]:
    found = sorted(CORPUS.glob("*.json*"))
    return found + (sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else [])


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_corpus_parses_as_the_tolerant_walk_reads_it(path: Path) -> None:
    """Every corpus and shared sample report parses exactly as the tolerant walk reads it."""
    data = path.read_bytes()
    assert parse_tls_report(data) == _tolerant(data, DEFAULT_LIMITS)


# --- the container -------------------------------------------------------------------------------


@st.composite
def _containers(draw: st.DrawFn) -> bytes:
    """Gzip bytes as reporters send them, and as they break: several members, padding or junk
    after the member, a truncated or damaged stream, plain text."""
    body = draw(st.binary(max_size=300) | st.just(_clean_text().encode()))
    data = gzip.compress(body, mtime=0)
    change = draw(st.sampled_from(["none", "members", "zeros", "junk", "cut", "flip", "plain"]))
    if change == "members":
        data += gzip.compress(draw(st.binary(max_size=50)), mtime=0)
    elif change == "zeros":
        data += b"\0" * draw(st.integers(1, 8))
    elif change == "junk":
        data += draw(st.binary(min_size=1, max_size=8))
    elif change == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif change == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif change == "plain":
        data = body
    return data


@given(_containers(), st.sampled_from([0, 10, 200, 10 * 1024 * 1024]))
def test_strict_inflate_gives_what_expand_gives(data: bytes, cap: int) -> None:
    """Whenever the strict inflate takes bytes, expand reads them alike: one gzip member, no
    trailing bytes, within the cap."""
    body = inflate_strict(data, cap)
    if body is not None:
        expanded = expand(data, cap)
        assert isinstance(expanded, Expanded)
        assert (expanded.data, expanded.kind, expanded.trailing_bytes) == (
            body,
            ArchiveKind.GZIP,
            0,
        )


def test_strict_inflate_takes_a_plain_gzip_report() -> None:
    """A report compressed once, as RFC 8460 §5.2 asks, is inflated by the strict path."""
    body = _clean_text().encode()
    assert inflate_strict(gzip.compress(body), DEFAULT_LIMITS.max_decompressed_bytes) == body


@pytest.mark.parametrize("size", [9, 10, 11, 12])
def test_strict_inflate_keeps_the_cap(size: int) -> None:
    """A body one byte over the cap is left to expand (which refuses it), even when the
    stream ends right there."""
    body = inflate_strict(gzip.compress(b"x" * size), 10)
    assert body == (b"x" * size if size <= 10 else None)
