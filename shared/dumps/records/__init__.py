"""Per-entity extraction: one lxml record element in, COPY rows appended to an `Output`."""
