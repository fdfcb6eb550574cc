"""Shared test configuration."""

import os

# Never let a test reach the host's resolver configuration by accident.
os.environ.pop("MAILSHIELD_CONFIG", None)

pytest_plugins = ["tests.support.databases"]
