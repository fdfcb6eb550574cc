"""Finding definitions, one module per protocol (``define(...)`` calls only)."""
