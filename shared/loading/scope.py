"""Release scope `collection`: which releases the synced accounts reference."""

from __future__ import annotations

import psycopg

REFERENCED_VIEW = "account.referenced_release_ids"


def referenced_release_ids(conn: psycopg.Connection) -> tuple[frozenset[int], bool]:
    """(ids, view_exists). The view is created by the account-sync migrations; without it the
    scope is empty (nothing synced yet), which callers report."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (REFERENCED_VIEW,)).fetchone()
    if not row or not row[0]:
        return frozenset(), False
    ids = conn.execute(
        "SELECT DISTINCT release_id FROM account.referenced_release_ids "
        "WHERE release_id IS NOT NULL"
    ).fetchall()
    return frozenset(int(r[0]) for r in ids), True
