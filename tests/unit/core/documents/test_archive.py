"""Bounded decompression: gzip (multi-member), zip and plain input, bombs refused unexpanded."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.documents.archive import (
    ArchiveError,
    ArchiveKind,
    DecompressionLimit,
    Expanded,
    detect_kind,
    expand,
    gunzip,
    unzip,
)

MiB = 1024 * 1024
JSON = b'{"report-id": "r1", "policies": []}\n'


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bomb(expanded_size: int) -> bytes:
    """A gzip member that inflates ``expanded_size`` zero bytes from about 1/1000 of that."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(MiB)
    parts = [compressor.compress(chunk) for _ in range(expanded_size // MiB)]
    return b"".join(parts) + compressor.flush()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(_gz(JSON), ArchiveKind.GZIP, id="gzip-magic"),
        pytest.param(_zip({"r.json": JSON}), ArchiveKind.ZIP, id="zip-local-header"),
        pytest.param(_zip({}), ArchiveKind.ZIP, id="empty-zip"),
        pytest.param(JSON, ArchiveKind.PLAIN, id="json"),
        pytest.param(b"", ArchiveKind.PLAIN, id="empty"),
        pytest.param(b"\x1f", ArchiveKind.PLAIN, id="half-magic"),
    ],
)
def test_detect_kind_reads_magic_bytes(data: bytes, kind: ArchiveKind) -> None:
    """The container is recognised from its first bytes alone."""
    assert detect_kind(data) is kind


@pytest.mark.parametrize(
    ("data", "expected", "members", "trailing"),
    [
        pytest.param(_gz(JSON), JSON, 1, 0, id="one-member"),
        pytest.param(_gz(b"{") + _gz(b"}"), b"{}", 2, 0, id="two-members-concatenated"),
        pytest.param(_gz(JSON) + bytes(8), JSON, 1, 8, id="zero-padding-after"),
        pytest.param(_gz(JSON) + b"\r\n", JSON, 1, 2, id="junk-after"),
        pytest.param(_gz(b""), b"", 1, 0, id="empty-member"),
    ],
)
def test_gunzip_inflates_every_member(
    data: bytes, expected: bytes, members: int, trailing: int
) -> None:
    """All gzip members are inflated in order (RFC 1952 §2.2); trailing bytes are counted."""
    result = gunzip(data, MiB)
    assert result == Expanded(expected, ArchiveKind.GZIP, members, trailing)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(_gz(JSON)[:-12], "truncated", id="truncated-member"),
        pytest.param(_gz(JSON)[:10], "truncated", id="header-only"),
        pytest.param(_gz(JSON)[:-8] + b"\0\0\0\0" + _gz(JSON)[-4:], "damaged", id="bad-crc"),
        pytest.param(b"\x1f\x8b\x08\x00" + bytes(20), "damaged", id="garbage-after-magic"),
        pytest.param(JSON, "magic", id="not-gzip"),
    ],
)
def test_gunzip_reports_damaged_streams(data: bytes, words: str) -> None:
    """A truncated, corrupted or non-gzip stream is a ``bad_gzip`` value, not an exception."""
    result = gunzip(data, MiB)
    assert isinstance(result, ArchiveError)
    assert result.reason == "bad_gzip"
    assert words in result.detail


def test_gunzip_allows_output_exactly_at_the_cap() -> None:
    """Output of exactly ``max_size`` bytes is accepted; one byte more is not."""
    data = bytes(range(256)) * 4
    assert isinstance(gunzip(_gz(data), len(data)), Expanded)
    assert isinstance(gunzip(_gz(data), len(data) - 1), DecompressionLimit)


def test_gunzip_cap_spans_members() -> None:
    """The cap counts the output of all members together."""
    data = _gz(b"a" * 600) + _gz(b"b" * 600)
    result = gunzip(data, 1000)
    assert isinstance(result, DecompressionLimit)
    assert result.limit == 1000


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(_bomb(32 * MiB), id="one-member-32MiB"),
        pytest.param(_gz(bytes(MiB)) * 1024, id="1024-members-1GiB"),
    ],
)
def test_gzip_bomb_is_refused_without_expanding_it(bomb: bytes) -> None:
    """A bomb under a 1 MiB cap stops at the cap: peak memory stays near the cap size."""
    tracemalloc.start()
    try:
        result = gunzip(bomb, MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, DecompressionLimit)
    assert result.ratio > 500
    assert result.consumed < len(bomb)
    assert peak < 8 * MiB


@pytest.mark.parametrize(
    ("method", "name"),
    [
        pytest.param(zipfile.ZIP_DEFLATED, "deflated", id="deflated"),
        pytest.param(zipfile.ZIP_STORED, "stored", id="stored"),
    ],
)
def test_unzip_returns_the_first_file(method: int, name: str) -> None:
    """The first file entry of a zip archive is its content; directories are skipped."""
    data = _zip({"dir/": b"", f"{name}.xml": JSON, "second.xml": b"x"}, method)
    result = unzip(data, MiB)
    assert result == Expanded(JSON, ArchiveKind.ZIP, members=2)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(_zip({}), "no file", id="empty-archive"),
        pytest.param(_zip({"a.json": JSON})[:30], "damaged", id="truncated"),
        pytest.param(_zip({"a.json": JSON}, zipfile.ZIP_BZIP2), "method", id="bzip2-refused"),
        pytest.param(_zip({"a.json": JSON}, zipfile.ZIP_LZMA), "method", id="lzma-refused"),
    ],
)
def test_unzip_reports_unusable_archives(data: bytes, words: str) -> None:
    """Damaged archives and methods that cannot be inflated with a cap are ``bad_zip``."""
    result = unzip(data, MiB)
    assert isinstance(result, ArchiveError)
    assert result.reason == "bad_zip"
    assert words in result.detail


def test_unzip_caps_the_entry() -> None:
    """A zip entry larger than the cap is a limit value, read no further than the cap."""
    result = unzip(_zip({"big.json": bytes(4 * MiB)}), MiB)
    assert isinstance(result, DecompressionLimit)
    assert result.kind is ArchiveKind.ZIP


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(_gz(JSON), ArchiveKind.GZIP, id="gzip"),
        pytest.param(_zip({"r.json": JSON}), ArchiveKind.ZIP, id="zip"),
        pytest.param(JSON, ArchiveKind.PLAIN, id="plain"),
    ],
)
def test_expand_dispatches_on_magic(data: bytes, kind: ArchiveKind) -> None:
    """``expand`` gives the same content whatever container it came in."""
    result = expand(data, MiB)
    assert isinstance(result, Expanded)
    assert (result.data, result.kind) == (JSON, kind)


def test_expand_caps_plain_input() -> None:
    """Plain input above the cap is refused like compressed input."""
    result = expand(bytes(1001), 1000)
    assert result == DecompressionLimit(ArchiveKind.PLAIN, 1000, 1001)


@given(st.binary(max_size=2048))
def test_expand_never_raises(data: bytes) -> None:
    """Any bytes yield one of the three outcome values."""
    assert isinstance(expand(data, 4096), Expanded | DecompressionLimit | ArchiveError)


@given(st.binary(max_size=512))
def test_expand_never_raises_after_gzip_magic(tail: bytes) -> None:
    """Random bytes after the gzip magic are damage, never an exception."""
    result = expand(b"\x1f\x8b\x08" + tail, 4096)
    assert isinstance(result, Expanded | DecompressionLimit | ArchiveError)


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=4))
def test_gunzip_round_trips_members(chunks: list[bytes]) -> None:
    """Concatenated gzip members inflate to the concatenation of their contents."""
    result = gunzip(b"".join(_gz(chunk) for chunk in chunks), MiB)
    assert isinstance(result, Expanded)
    assert result.data == b"".join(chunks)
    assert result.members == len(chunks)


@given(st.binary(min_size=1, max_size=400), st.integers(min_value=1, max_value=40))
def test_truncated_gzip_is_never_accepted(data: bytes, cut: int) -> None:
    """Cutting bytes off the end of a gzip stream is always detected (the trailer is checked)."""
    whole = _gz(data)
    result = gunzip(whole[: max(len(whole) - cut, 2)], MiB)
    assert isinstance(result, ArchiveError)
