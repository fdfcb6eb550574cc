"""Report files are read whole, whatever their size relative to one read call."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailshield.interfaces.cli import report_files
from mailshield.interfaces.cli.report_files import read_file


@pytest.mark.parametrize(
    "size",
    [0, 1, 4095, 1 << 16, (1 << 16) + 1, 3 * (1 << 16) + 7],
    ids=["empty", "one-byte", "small", "one-read", "one-read-and-a-byte", "several-reads"],
)
def test_read_file_returns_every_byte(tmp_path: Path, size: int) -> None:
    """The bytes come back exactly as written, in one piece."""
    path = tmp_path / "report.json.gz"
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path.write_bytes(data)
    assert read_file(str(path)) == data
    assert report_files._READ_SIZE == 1 << 16  # the sizes above straddle it


def test_read_file_of_missing_path_raises(tmp_path: Path) -> None:
    """A file that vanished raises OSError, as ``open`` did."""
    with pytest.raises(FileNotFoundError):
        read_file(str(tmp_path / "gone.json"))
