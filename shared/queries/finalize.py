"""What the API needs built into a dump month before it is served.

`shared/loading/finalize.py` builds `sql/api_structures.sql` (search documents, credit roles, ...)
inside the month's import schema, statement by statement on several sessions, the large tables in
slices side by side (shared/loading/build_plan.py), so the swap brings them in with the month.
`build_api_structures` runs the same script whole, in one transaction, for an already served
schema (a month loaded before a structure existed, or a rebuild): the same rows.
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
