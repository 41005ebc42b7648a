"""Streaming a download into a block blob with bounded memory, resumable from staged blocks.

Each block is staged as soon as it is full (memory ≈ one block), under an id that is the same
length for every block and carries the run attempt, so a restarted fetch can find the contiguous
blocks it already staged (`get_block_list("uncommitted")`) and continue after them, while blocks
left by an older attempt are ignored and discarded at commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobClient

DEFAULT_BLOCK_BYTES = 32 * 1024 * 1024


def block_id(attempt: int, index: int) -> str:
    return f"a{attempt:04d}-b{index:08d}"


@dataclass
class ResumePoint:
    blocks: int  # contiguous blocks 0..blocks-1 already staged
    offset: int  # bytes they hold


def resume_point(blob: BlobClient, attempt: int) -> ResumePoint:
    """How far a previous fetch of this attempt got (0 when nothing usable was staged)."""
    try:
        _, uncommitted = blob.get_block_list("uncommitted")
    except ResourceNotFoundError:
        return ResumePoint(0, 0)
    sizes = {b.id: b.size for b in uncommitted}
    count, offset = 0, 0
    while (size := sizes.get(block_id(attempt, count))) is not None:
        count, offset = count + 1, offset + size
    return ResumePoint(count, offset)


class BlockWriter:
    """Stages fixed-size blocks in order and hashes exactly the bytes that were staged."""

    def __init__(
        self,
        blob: BlobClient,
        attempt: int,
        block_bytes: int,
        start: ResumePoint,
        *,
        hashing: bool,
        on_block: Callable[[int], None] | None = None,
        on_staged: Callable[[bytes], None] | None = None,
    ) -> None:
        self._blob = blob
        self._attempt = attempt
        self._block_bytes = block_bytes
        self.blocks = start.blocks
        self.offset = start.offset
        # SHA-256 is only meaningful when every byte passes through this writer.
        self._hash = hashlib.sha256() if hashing and start.offset == 0 else None
        self._buffer = bytearray()
        self._on_block = on_block
        self._on_staged = on_staged  # sees every staged block's bytes, in order (the split)

    @property
    def sha256(self) -> str | None:
        return self._hash.hexdigest() if self._hash else None

    def write_all(self, pieces: Iterable[bytes]) -> None:
        for piece in pieces:
            self._buffer += piece
            while len(self._buffer) >= self._block_bytes:
                self._stage(bytes(self._buffer[: self._block_bytes]))
                del self._buffer[: self._block_bytes]

    def discard_partial(self) -> None:
        """Forget bytes received after the last staged block (the stream broke)."""
        self._buffer.clear()

    def _stage(self, data: bytes) -> None:
        self._blob.stage_block(block_id(self._attempt, self.blocks), data, length=len(data))
        if self._hash:
            self._hash.update(data)
        self.blocks += 1
        self.offset += len(data)
        if self._on_staged:
            self._on_staged(data)
        if self._on_block:
            self._on_block(self.offset)

    def commit(self) -> int:
        if self._buffer:
            self._stage(bytes(self._buffer))
            self._buffer.clear()
        self._blob.commit_block_list(
            [BlobBlock(block_id=block_id(self._attempt, i)) for i in range(self.blocks)]
        )
        return self.offset
