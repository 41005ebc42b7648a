"""The finalize build of a month as steps that can run on several sessions at once (pure logic).

`finalize_indexes.sql` is cut into one step per statement. A table's primary key comes first (it
takes an ACCESS EXCLUSIVE lock, so nothing else may touch that table meanwhile); its secondary
indexes follow, each its own step (CREATE INDEX takes a SHARE lock: several builds on one table run
side by side); ANALYZE of the table comes last (its lock conflicts with CREATE INDEX, and it samples
the expression indexes too). The API's structures (`api_structures.sql`, issue 6) are one opaque
step after every primary key: they only read the entity tables, which CREATE INDEX and ANALYZE
allow, and they run as one transaction exactly as in the sequential finalize.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PRIMARY_KEY = re.compile(r"^ALTER TABLE (\w+) ADD PRIMARY KEY ", re.IGNORECASE)
_INDEX = re.compile(r"^CREATE (?:UNIQUE )?INDEX (\w+) ON (\w+) ", re.IGNORECASE)
API_STRUCTURES_STEP = "api_structures"


@dataclass(frozen=True)
class BuildStep:
    """One unit of finalize work, run in one transaction on one session.

    kind: `primary_key` / `index` (one statement of finalize_indexes.sql), `analyze`, or `script`
    (an opaque SQL file). `after`: names of the steps that must have committed first. `weight`:
    how big the work is (table size); the heaviest ready step starts first so the longest chain
    does not start last.
    """

    name: str
    kind: str
    table: str | None
    statement: str
    after: frozenset[str]
    weight: int = 0


def split_statements(script: str) -> list[str]:
    """The statements of a DDL script of one statement per `;`-terminated line group, comments
    dropped (finalize_indexes.sql holds no string literal or function body with a `;`)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def plan_build(
    index_script: str,
    tables: tuple[str, ...],
    table_weights: dict[str, int],
    record_tables: dict[str, str],
) -> list[BuildStep]:
    """The steps of a month's build: keys, indexes and ANALYZE per table, then the API step.

    `record_tables` maps each child table to its entity's record table (release_tracks →
    releases): a child's key is built after the record table's, so duplicate records are reported
    as duplicate ids of the entity (the validation), not as a duplicate of whichever child key
    happened to finish first.
    """
    steps: list[BuildStep] = []
    keyed: dict[str, str] = {}
    indexes: dict[str, list[str]] = {}
    for statement in split_statements(index_script):
        if match := _PRIMARY_KEY.match(statement):
            table = match.group(1)
            name = f"{table}_pkey"
            if table in keyed:
                raise ValueError(f"two primary keys for {table}")
            keyed[table] = name
            weight = table_weights.get(table, 0)
            parent = record_tables.get(table)
            after = frozenset({f"{parent}_pkey"}) if parent and parent != table else frozenset()
            steps.append(BuildStep(name, "primary_key", table, statement, after, weight))
        elif match := _INDEX.match(statement):
            name, table = match.group(1), match.group(2)
            after = frozenset({keyed[table]}) if table in keyed else frozenset()
            weight = table_weights.get(table, 0)
            steps.append(BuildStep(name, "index", table, statement, after, weight))
            indexes.setdefault(table, []).append(name)
        else:
            raise ValueError(f"finalize statement not understood: {statement[:80]!r}")
    for table in tables:
        after = frozenset(indexes.get(table, [])) | (
            frozenset({keyed[table]}) if table in keyed else frozenset()
        )
        steps.append(
            BuildStep(f"analyze_{table}", "analyze", table, "", after, table_weights.get(table, 0))
        )
    api_weight = sum(table_weights.values())
    steps.append(
        BuildStep(API_STRUCTURES_STEP, "script", None, "", frozenset(keyed.values()), api_weight)
    )
    names = {step.name for step in steps}
    if len(names) != len(steps):
        raise ValueError("finalize step names are not unique")
    for step in steps:
        if not step.after <= names:
            raise ValueError(f"{step.name} waits for unknown steps {sorted(step.after - names)}")
    return steps
