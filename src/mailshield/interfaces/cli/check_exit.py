"""``mailshield check``'s exit codes: the worst status checked, or why the run fell short."""

from __future__ import annotations

from mailshield.core.model import Status

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNTESTED, EXIT_INCOMPLETE = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


def exit_code(worst: Status | None) -> int:
    """0 no failures, 1 some fail, 3 could not test (and nothing failed)."""
    if worst is Status.FAIL:
        return EXIT_FAIL
    if worst is Status.ERROR:
        return EXIT_UNTESTED
    return EXIT_OK
