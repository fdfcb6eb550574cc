"""The MTA-STS TXT record: selection among TXT records and the §3.1 grammar."""

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.model import Finding, Status
from mailshield.core.records.mta_sts import is_valid_id, parse_record, select_record

NAME = "_mta-sts.example.com"


def codes(found: Sequence[Finding]) -> list[str]:
    return [f.code for f in found]


@pytest.mark.parametrize(
    ("txts", "record_id"),
    [
        pytest.param([b"v=STSv1; id=20240501T120000Z;"], "20240501T120000Z", id="reference"),
        pytest.param([b"v=STSv1; id=abc"], "abc", id="no-trailing-delim"),
        pytest.param([b"v=STSv1;id=abc"], "abc", id="no-space"),
        pytest.param([b"v=STSv1;\tid=abc\t;\t"], "abc", id="tabs-around-delims"),
        pytest.param(["v=STSv1; id=" + "a" * 32], "a" * 32, id="id-32-chars"),
        pytest.param(
            [b"v=spf1 -all", b"v=STSv1; id=1", b"google-site-verification=xyz"],
            "1",
            id="unrelated-txt-beside",
        ),
        # A TXT split into several strings arrives joined with no separator.
        pytest.param([b"v=STSv1; id=2019" + b"0101"], "20190101", id="split-strings-joined"),
    ],
)
def test_valid_records_have_no_findings(txts: list[bytes], record_id: str) -> None:
    """A valid record beside anything else is selected, parsed, and raises no finding."""
    parse = select_record(txts, NAME)
    assert parse.valid
    assert parse.findings == ()
    assert parse.record is not None
    assert parse.record.id == record_id


def test_unrelated_records_are_kept_as_ignored() -> None:
    """Other TXT records at the name are listed as ignored, not reported."""
    parse = select_record([b"v=spf1 -all", b"v=STSv1; id=1"], NAME)
    assert parse.ignored == ("v=spf1 -all",)
    assert parse.candidates == ("v=STSv1; id=1",)


def test_space_before_semicolon_is_lenient_with_a_warning() -> None:
    """`v=STSv1 ;` is grammar-valid but fails prefix selection: accepted, warned (erratum 6285)."""
    parse = select_record([b"v=STSv1 ; id=1"], NAME)
    assert parse.valid
    assert codes(parse.findings) == ["mta_sts.record.lenient_version"]
    assert parse.findings[0].status is Status.WARN


@pytest.mark.parametrize(
    ("txt", "problem"),
    [
        # The classic: a timestamp id with punctuation matches the extension grammar only.
        pytest.param(
            "v=STSv1; id=2024-05-01T12:00:00Z", "1 to 32 letters and digits", id="id-punct"
        ),
        pytest.param("v=STSv1; id=" + "a" * 33, "1 to 32 letters", id="id-33-chars"),
        pytest.param("v=STSv1; id=", "1 to 32 letters", id="id-empty"),
        pytest.param("v=STSv1; id = 1", "whitespace around '='", id="space-around-equals"),
        pytest.param("v=STSv1;", "id field is missing", id="no-fields"),
        pytest.param("v=STSv1; foo=bar", "id field is missing", id="no-id"),
        pytest.param("v=STSv1; id=1;; foo=bar", "two ';'", id="empty-field"),
        pytest.param("v=STSv1; id=1; junk", "has no '='", id="field-without-equals"),
        pytest.param("v=STSv1; id=1; -x=1", "not a valid field name", id="bad-ext-name"),
        pytest.param("v=STSv1; id=1; x=a=b", "value of 'x'", id="bad-ext-value"),
        pytest.param("v=STSv1; Id=1", "id field is missing", id="id-case-sensitive"),
    ],
)
def test_invalid_records(txt: str, problem: str) -> None:
    """Each grammar violation makes the record invalid, with the reason in the finding."""
    parse = select_record([txt.encode()], NAME)
    assert not parse.valid
    invalid = [f for f in parse.findings if f.code == "mta_sts.record.invalid"]
    assert invalid, parse.findings
    assert any(problem in str(f.params["problem"]) for f in invalid), invalid
    assert all(f.status is Status.FAIL and f.subject == NAME for f in invalid)


def test_non_ascii_record_is_invalid() -> None:
    """§3.1 requires US-ASCII: other bytes make the record invalid."""
    parse = select_record(["v=STSv1; id=1; x=é".encode()], NAME)
    assert not parse.valid
    assert any("non-ASCII" in str(f.params["problem"]) for f in parse.findings)


@pytest.mark.parametrize(
    "txt",
    [
        pytest.param(b"v=stsv1; id=1", id="lower-case-version"),
        pytest.param(b"v=STSV1; id=1", id="upper-case-version"),
        pytest.param(b" v=STSv1; id=1", id="leading-space"),
        pytest.param(b"v = STSv1; id=1", id="spaces-around-equals"),
        pytest.param(b"v=STSv1", id="no-semicolon"),
    ],
)
def test_near_misses_are_reported(txt: bytes) -> None:
    """Records a sender silently discards are shown as invalid, not as missing."""
    parse = select_record([txt], NAME)
    assert parse.record is None
    assert parse.candidates == ()
    assert codes(parse.findings) == ["mta_sts.record.invalid"]
    assert "does not begin exactly" in str(parse.findings[0].params["problem"])


def test_no_candidate_has_no_finding() -> None:
    """Without any v=STSv1 record the parser stays silent (the evaluator says "missing")."""
    parse = select_record([b"v=spf1 -all"], NAME)
    assert parse.record is None
    assert parse.findings == ()
    assert not parse.valid


def test_multiple_records() -> None:
    """Two v=STSv1 records mean no policy for senders (§3.1)."""
    parse = select_record([b"v=STSv1; id=1", b"v=STSv1; id=2"], NAME)
    assert parse.record is None
    assert not parse.valid
    assert codes(parse.findings) == ["mta_sts.record.multiple"]
    assert parse.findings[0].params["count"] == 2


def test_duplicate_id_and_unknown_field() -> None:
    """A repeated id warns (first wins); an unknown well-formed field is information."""
    record, found = parse_record(b"v=STSv1; id=first; id=second; ext=1", NAME)
    assert record.id == "first"
    assert [(f.code, f.status) for f in found] == [
        ("mta_sts.record.duplicate_field", Status.WARN),
        ("mta_sts.record.unknown_field", Status.INFO),
    ]


@pytest.mark.parametrize(
    ("value", "valid"),
    [("a", True), ("A1b2", True), ("a" * 32, True), ("", False), ("a" * 33, False), ("a-b", False)],
)
def test_is_valid_id(value: str, valid: bool) -> None:
    """An id is 1-32 ASCII letters and digits."""
    assert is_valid_id(value) is valid


@given(st.lists(st.binary(max_size=120), max_size=4))
def test_select_never_raises(txts: list[bytes]) -> None:
    """For any TXT records the selection returns a result and never raises."""
    parse = select_record(txts, NAME)
    assert parse.valid in (True, False)


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=120))
def test_parse_never_raises_and_valid_means_id(text: str) -> None:
    """Any text parses without raising; a record without failures always has an id."""
    record, found = parse_record("v=STSv1;" + text, NAME)
    if not any(f.status is Status.FAIL for f in found):
        assert record.id is not None
        assert is_valid_id(record.id)
