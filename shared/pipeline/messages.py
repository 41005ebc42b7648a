"""Queue messages between the pipeline's functions: small JSON references, never data.

A message names a run (dump date), the run's attempt, and what to work on; workers find
everything else in the run store and in Blob Storage. Messages of an older attempt are ignored, so
a restarted run cannot be disturbed by leftovers of the previous one.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.pipeline.entities import Entity, FileKind

# Storage rejects messages over 64 KB after base64 (+33 %); ours are ~150 bytes.
MAX_MESSAGE_BYTES = 48 * 1024


class MessageError(ValueError):
    """A message that is not one of ours: it is logged and dropped, never retried."""


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run: str = Field(pattern=r"^\d{8}$")
    attempt: int = Field(ge=1)

    def to_json(self) -> str:
        text = self.model_dump_json(exclude_defaults=False)
        if len(text.encode()) > MAX_MESSAGE_BYTES:
            raise MessageError(f"{type(self).__name__} is {len(text)} bytes, over the limit")
        return text


M = TypeVar("M", bound=_Message)


class FetchMessage(_Message):
    kind: Literal["fetch"] = "fetch"
    file: FileKind
    # How many times this file was rescheduled after errors (429s do not count).
    tries: int = Field(0, ge=0)


class SplitMessage(_Message):
    kind: Literal["split"] = "split"
    entity: Entity


class LoadMessage(_Message):
    kind: Literal["load"] = "load"
    entity: Entity
    seq: int = Field(ge=0)
    blob: str = Field(max_length=512)
    # Where the chunk's first record starts in the decompressed file (for quarantine entries).
    offset: int | None = Field(None, ge=0)


def parse_message(model: type[M], body: str | bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise MessageError(f"not a {model.__name__}: {exc.errors()[:3]}") from exc
