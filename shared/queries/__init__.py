"""The API's SQL: `.sql` files in `sql/` and named query functions, always parameterized.

Every query reads the served dump month in schema `discogs` and the synced account data in
schema `account`; the `.sql` files under `sql/` that finalize runs build what these reads need.
"""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def load_sql(name: str) -> str:
    """The text of `shared/queries/sql/<name>.sql`."""
    return resources.files(__package__).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
