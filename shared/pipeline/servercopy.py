"""Server-side copy (Copy Blob from a URL): in Azure the file never flows through a function.

The adapter is small so the fetch logic can run against any implementation. Azure probes the
source first and may refuse it (`CannotVerifyCopySource` when the host rejects HEAD or Range, as
data.discogs.com is reported to); Azurite refuses every external URL. Both surface as
`CopyUnavailableError`, and the caller falls back to streaming.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal, Protocol

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobClient

CopyState = Literal["pending", "success", "failed"]


class CopyUnavailableError(RuntimeError):
    pass


@dataclass
class CopyProgress:
    state: CopyState
    copied: int = 0
    total: int | None = None
    detail: str | None = None


class ServerCopy(Protocol):
    def start(self, source_url: str, target: BlobClient) -> str: ...

    def progress(self, target: BlobClient, copy_id: str) -> CopyProgress: ...

    def abort(self, target: BlobClient, copy_id: str) -> None: ...


class BlobServerCopy:
    """Asynchronous Copy Blob (`start_copy_from_url`), polled by rescheduled messages."""

    def start(self, source_url: str, target: BlobClient) -> str:
        try:
            result = target.start_copy_from_url(source_url)
        except AzureError as exc:
            raise CopyUnavailableError(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
        copy_id = result.get("copy_id")
        if not copy_id:
            raise CopyUnavailableError("Copy Blob returned no copy id")
        return str(copy_id)

    def progress(self, target: BlobClient, copy_id: str) -> CopyProgress:
        try:
            copy = target.get_blob_properties().copy
        except AzureError as exc:
            return CopyProgress("failed", detail=f"{type(exc).__name__}: {exc}".splitlines()[0])
        if copy.id and copy.id != copy_id:
            return CopyProgress("failed", detail=f"blob carries another copy ({copy.id})")
        copied, total = 0, None
        if copy.progress and "/" in copy.progress:
            done, _, whole = copy.progress.partition("/")
            copied, total = int(done), int(whole)
        if copy.status == "success":
            return CopyProgress("success", copied, total)
        if copy.status == "pending":
            return CopyProgress("pending", copied, total)
        return CopyProgress("failed", copied, total, copy.status_description or copy.status)

    def abort(self, target: BlobClient, copy_id: str) -> None:
        with contextlib.suppress(AzureError):  # already finished or failed: nothing to stop
            target.abort_copy(copy_id)
