"""Discogs dump XML: entities, chunking, sanitising and parsing (pure functions, no I/O)."""
