"""The hint readers never raise, whatever a stranger sends, and only ever return host names."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.documents.tls_report import ReportLimits
from mailshield.core.names import hostname_problem
from mailshield.services.ingest_hints import file_name_domain, hint_names, path_domains
from mailshield.storage.reports import RawArrival

LIMITS = ReportLimits()
WHEN = datetime(2024, 5, 2, tzinfo=UTC)
contents = st.one_of(
    st.binary(max_size=512),
    st.binary(max_size=512).map(gzip.compress),
    st.text(max_size=200).map(lambda t: b'{"policy-domain": "' + t.encode() + b'"}'),
)
texts = st.text(max_size=120)


@given(
    data=contents,
    filename=texts,
    path=texts,
    header=texts,
    kind=st.sampled_from(["report", "message"]),
)
def test_hint_names_never_raises_and_gives_host_names(
    data: bytes, filename: str, path: str, header: str, kind: str
) -> None:
    """Any bytes and metadata give a short list of valid A-label host names."""
    meta = {"filename": filename, "path": path, "tls-report-domain": header}
    raw = RawArrival(data, "file", WHEN, kind=kind, source=filename, meta=meta)
    names = hint_names(raw, LIMITS, header)
    assert len(names) <= 16
    assert all(hostname_problem(name) is None and name == name.lower() for name in names)


@given(name=texts)
def test_file_name_and_path_readers_never_raise(name: str) -> None:
    """The RFC 8460 §5.1 file name and URL path readers take any text."""
    found = file_name_domain(name)
    assert found is None or hostname_problem(found) is None
    assert all(hostname_problem(n) is None for n in path_domains(name))
