"""``mailshield lab``: a local internet on loopback for demos, tests and benchmarks."""

from __future__ import annotations

import click


@click.group()
def lab() -> None:
    """Start, stop and inspect a lab scenario."""
