"""The app's Microsoft Entra credential (its managed identity in Azure), one per process."""

from __future__ import annotations

import functools
from typing import Any

POSTGRES_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"


@functools.lru_cache(maxsize=4)
def app_credential(client_id: str | None) -> Any:
    """DefaultAzureCredential for the user-assigned identity `client_id`; it caches tokens."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=client_id)
