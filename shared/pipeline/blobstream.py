"""A blob as a sequential, hashing, byte-counting file object (for the gzip reader)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator


class HashingReader(io.RawIOBase):
    """Reads byte pieces in order, hashing (SHA-256) and counting what it hands out.

    `hashing=False` for a reader of bytes hashed elsewhere (the split while fetching reads the
    blocks the fetch hashes as it stages them): no second pass over every byte.
    """

    def __init__(self, pieces: Iterator[bytes], *, hashing: bool = True) -> None:
        self._pieces = pieces
        self._pending = memoryview(b"")
        self._hash = hashlib.sha256() if hashing else None
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._pending = memoryview(piece)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        if self._hash is not None:
            self._hash.update(self._pending[:size])
        self._pending = self._pending[size:]
        self.bytes_read += size
        return size

    def drain(self) -> None:
        """Read (and hash) whatever the consumer left unread, e.g. padding after the gzip end."""
        while self.readinto(bytearray(1 << 20)):
            pass

    @property
    def sha256(self) -> str:
        if self._hash is None:
            raise ValueError("this reader was made with hashing=False")
        return self._hash.hexdigest()
