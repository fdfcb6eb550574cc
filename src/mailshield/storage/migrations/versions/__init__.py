"""One module per schema revision, numbered in order (``0001_…``, ``0002_…``)."""
