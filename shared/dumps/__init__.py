"""Discogs dump XML: files, chunking, sanitising and parsing (pure functions, no database).

For the pipeline (queue workers) and the CLI:
- `shared.dumps.files`: `inspect_dump(path, entity=None) -> DumpFile`,
  `open_dump(path, entity=None)` (context manager yielding `(DumpFile, decompressed stream)`),
  `checked_gzip(raw, name, size=None) -> BinaryIO` and `root_entity(head) -> str | None` for
  streams that are not local files; errors are `DumpFileError`.
- `shared.dumps.chunking`: `split_records(stream, entity, target_bytes) -> Iterator[Chunk]`
  (`Chunk.sequence`, `.data`, `.first_byte_offset`, `.record_count`) and
  `chunk_id(dump_date, entity, sequence)`; errors are `ChunkFormatError`.
- `shared.dumps.parser`: `parse_chunk(data, entity, ...) -> ParsedChunk` (COPY rows per table).
"""
