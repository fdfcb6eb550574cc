"""Storage tests use the shared database fixtures in tests.support.databases."""
