"""What the API needs built into a dump month before it is served (called by finalize).

`build_api_structures(conn, schema)` runs inside the month's import schema, after the entity
tables have their primary keys and before the swap, so readers only ever see a month whose search
documents and API indexes are complete.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from shared.queries import load_sql

API_STRUCTURE_FILES = ("api_indexes", "search_documents")


def build_api_structures(conn: psycopg.Connection, schema: str) -> None:
    """Build the API's indexes and search documents in `schema` (one transaction)."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))
        for name in API_STRUCTURE_FILES:
            conn.execute(load_sql(name))
