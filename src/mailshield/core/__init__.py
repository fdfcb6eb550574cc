"""Pure protocol logic: parsers, evaluators, scoring. No I/O, no clock, no database."""
