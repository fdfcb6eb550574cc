"""Bounded decompression of untrusted report bytes: gzip (multi-member), zip, or plain.

Reports arrive from strangers, so nothing here ever produces more than ``max_size`` bytes of
output, whatever the input claims: gzip is inflated through ``zlib.decompressobj`` with
``max_length`` (feeding ``unconsumed_tail`` back in), zip members are read through a capped
``read``. When the output would exceed the cap the answer is a :class:`DecompressionLimit` value,
reached after at most ``max_size + 1`` bytes were produced — a bomb is refused, never expanded.

Outcomes are values, never exceptions::

    expand(data, max_size) -> Expanded | DecompressionLimit | ArchiveError

The container is recognised by its magic bytes, never by a label or file name
(RFC 1952 §2.3.1 for gzip ``1f 8b``; PKWARE APPNOTE §4.3.7 for zip ``PK\\x03\\x04``).
"""

from __future__ import annotations

import enum
import io
import zipfile
import zlib
from dataclasses import dataclass

__all__ = [
    "ArchiveError",
    "ArchiveKind",
    "DecompressionLimit",
    "Expanded",
    "detect_kind",
    "expand",
    "gunzip",
    "unzip",
]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # local file header; end of an empty archive
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # gzip wrapper, header and CRC32/ISIZE trailer checked by zlib


class ArchiveKind(enum.StrEnum):
    """The container an input was recognised as."""

    GZIP = "gzip"
    ZIP = "zip"
    PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class Expanded:
    """Successfully expanded content.

    ``members`` counts gzip members (RFC 1952 §2.2 allows several, concatenated) or zip entries
    present; ``trailing_bytes`` counts bytes after the last gzip member that were ignored
    (zero padding or junk some senders append).
    """

    data: bytes
    kind: ArchiveKind
    members: int = 1
    trailing_bytes: int = 0


@dataclass(frozen=True, slots=True)
class DecompressionLimit:
    """The output would have exceeded ``limit`` bytes; expansion stopped at the cap.

    ``consumed`` is how many compressed bytes had been read when the cap was hit, so
    :attr:`ratio` tells a bomb (hundreds to one) from an honest but large document.
    """

    kind: ArchiveKind
    limit: int
    consumed: int

    @property
    def ratio(self) -> float:
        """Output bytes per compressed byte at the moment the cap was reached."""
        return (self.limit + 1) / max(self.consumed, 1)


@dataclass(frozen=True, slots=True)
class ArchiveError:
    """The container is damaged: ``reason`` is ``bad_gzip`` or ``bad_zip``; ``detail`` says why."""

    reason: str
    detail: str


def detect_kind(data: bytes) -> ArchiveKind:
    """The container ``data`` is in, judged by its first bytes only."""
    if data[:2] == GZIP_MAGIC:
        return ArchiveKind.GZIP
    if data[:4] in ZIP_MAGICS:
        return ArchiveKind.ZIP
    return ArchiveKind.PLAIN


def expand(data: bytes, max_size: int) -> Expanded | DecompressionLimit | ArchiveError:
    """Decompress ``data`` according to its magic bytes, never producing more than ``max_size``.

    Plain input is returned as is (subject to the same cap).
    """
    kind = detect_kind(data)
    if kind is ArchiveKind.GZIP:
        return gunzip(data, max_size)
    if kind is ArchiveKind.ZIP:
        return unzip(data, max_size)
    if len(data) > max_size:
        return DecompressionLimit(ArchiveKind.PLAIN, max_size, max_size + 1)
    return Expanded(bytes(data), ArchiveKind.PLAIN)


def gunzip(data: bytes, max_size: int) -> Expanded | DecompressionLimit | ArchiveError:
    """Inflate every gzip member of ``data`` (RFC 1952 §2.2), at most ``max_size`` bytes in all.

    A member that ends early (truncated upload) or fails its CRC is ``bad_gzip``. After the last
    member, zero padding or junk that does not start with the gzip magic is counted in
    ``trailing_bytes`` and ignored, as the ``gzip`` tool does.
    """
    pieces: list[bytes] = []
    produced = 0
    offset = 0
    members = 0
    view = memoryview(data)
    while offset < len(data) and data[offset : offset + 2] == GZIP_MAGIC:
        step = _inflate_member(view[offset:], max_size - produced)
        if isinstance(step, ArchiveError):
            return step
        if step.overflow:
            return DecompressionLimit(ArchiveKind.GZIP, max_size, offset + step.consumed)
        pieces.append(step.output)
        produced += len(step.output)
        offset += step.consumed
        members += 1
    if members == 0:
        return ArchiveError("bad_gzip", "input does not start with the gzip magic bytes 1f 8b")
    return Expanded(b"".join(pieces), ArchiveKind.GZIP, members, len(data) - offset)


@dataclass(slots=True)
class _Member:
    output: bytes
    consumed: int
    overflow: bool


def _inflate_member(chunk: memoryview, budget: int) -> _Member | ArchiveError:
    """Inflate one gzip member from the start of ``chunk``, producing at most ``budget`` bytes.

    Each call asks zlib for one byte more than the remaining budget, so reaching that byte
    proves the cap would be exceeded without inflating any further.
    """
    inflater = zlib.decompressobj(_GZIP_WBITS)
    out: list[bytes] = []
    produced = 0
    pending: bytes | memoryview = chunk
    try:
        while True:
            piece = inflater.decompress(pending, budget - produced + 1)
            out.append(piece)
            produced += len(piece)
            if produced > budget:
                consumed = len(chunk) - len(inflater.unconsumed_tail)
                return _Member(b"", consumed, overflow=True)
            if inflater.eof:
                break
            pending = inflater.unconsumed_tail
            if not pending:
                return ArchiveError("bad_gzip", "gzip stream is truncated (member never ends)")
    except zlib.error as exc:
        return ArchiveError("bad_gzip", f"gzip stream is damaged: {exc}")
    consumed = len(chunk) - len(inflater.unused_data)
    return _Member(b"".join(out), consumed, overflow=False)


def unzip(data: bytes, max_size: int) -> Expanded | DecompressionLimit | ArchiveError:
    """The first file of a zip archive (DMARC reporters send one), read up to ``max_size`` bytes.

    The entry is read through a capped ``read`` (which inflates incrementally), so the sizes the
    archive declares are never trusted.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [info for info in archive.infolist() if not info.is_dir()]
            if not entries:
                return ArchiveError("bad_zip", "zip archive holds no file")
            first = entries[0]
            if first.compress_type not in _ZIP_METHODS:
                # bzip2/lzma entries are inflated a whole chunk at a time, without a cap
                return ArchiveError("bad_zip", f"zip compression method {first.compress_type}")
            with archive.open(first) as member:
                content = member.read(max_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        return ArchiveError("bad_zip", f"zip archive is damaged: {exc}")
    except (NotImplementedError, RuntimeError) as exc:  # unsupported method, encrypted entry
        return ArchiveError("bad_zip", f"zip entry cannot be read: {exc}")
    if len(content) > max_size:
        return DecompressionLimit(ArchiveKind.ZIP, max_size, max(first.compress_size, 1))
    return Expanded(content, ArchiveKind.ZIP, members=len(entries))
