"""What the API needs built into a dump month before it is served.

`shared/loading/finalize.py` runs `sql/api_structures.sql` (search documents, credit roles) inside
the month's import schema right after its keys and indexes, in the same transaction, so the swap
brings them in with the month and readers never see one without the other.
`build_api_structures` does the same for an already served schema (a month loaded before this
existed, or a rebuild).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from shared.queries import load_sql


def build_api_structures(conn: psycopg.Connection, schema: str = "discogs") -> None:
    """(Re)build the API's structures of `schema` (search documents, credit roles, release facts...)
    in one transaction."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))
        conn.execute(load_sql("api_structures"))
