"""The finalize build of a month as steps that can run on several sessions at once (pure logic).

`finalize_indexes.sql` is cut into one step per statement. A table's primary key comes first (it
takes an ACCESS EXCLUSIVE lock, so nothing else may touch that table meanwhile); its secondary
indexes follow, each its own step (CREATE INDEX takes a SHARE lock: several builds on one table run
side by side); ANALYZE of the table comes last (its lock conflicts with CREATE INDEX, and it samples
the expression indexes too).

The API's structures (`api_structures.sql`, issue 6) are planned the same way, statement by
statement: each `CREATE TABLE ... AS` is a step after every entity key (it only reads the entity
tables, which CREATE INDEX and ANALYZE allow) and after the API tables it reads; its key, indexes
and ANALYZE follow as for the entity tables. So credit roles, playing times, master years and the
search documents build side by side, and the search documents' ten indexes too, instead of one
long transaction. `DROP TABLE IF EXISTS` lines only matter for running the script whole
(shared/queries/finalize.py); here a table that exists was committed complete by its step, and a
resumed build keeps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PRIMARY_KEY = re.compile(r"^ALTER TABLE (\w+) ADD PRIMARY KEY ", re.IGNORECASE)
_INDEX = re.compile(r"^CREATE (?:UNIQUE )?INDEX (\w+)\s+ON (\w+)\s", re.IGNORECASE)
_CREATE_TABLE_AS = re.compile(r"^CREATE TABLE (\w+) AS\s", re.IGNORECASE)
_DROP_TABLE = re.compile(r"^DROP TABLE IF EXISTS (\w+)$", re.IGNORECASE)
_ANALYZE = re.compile(r"^ANALYZE (\w+)$", re.IGNORECASE)


@dataclass(frozen=True)
class BuildStep:
    """One unit of finalize work, run in one transaction on one session.

    kind: `primary_key` / `index` (one statement of finalize_indexes.sql or api_structures.sql),
    `analyze`, or `create` (a `CREATE TABLE ... AS` of api_structures.sql). `after`: names of the
    steps that must have committed first. `weight`: how big the work is (table size); the heaviest
    ready step starts first so the longest chain does not start last.
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
    api_script: str = "",
) -> list[BuildStep]:
    """The steps of a month's build: keys, indexes and ANALYZE per table, then the API tables.

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
    steps += _plan_api_tables(api_script, frozenset(keyed.values()), sum(table_weights.values()))
    names = {step.name for step in steps}
    if len(names) != len(steps):
        raise ValueError("finalize step names are not unique")
    for step in steps:
        if not step.after <= names:
            raise ValueError(f"{step.name} waits for unknown steps {sorted(step.after - names)}")
    return steps


def _plan_api_tables(script: str, entity_keys: frozenset[str], weight: int) -> list[BuildStep]:
    """Steps of api_structures.sql. Every step gets the weight of all entity tables together: the
    search documents and their indexes are the longest chain of the build, so they start first."""
    steps: list[BuildStep] = []
    created: dict[str, str] = {}  # API table → its create step
    last: dict[str, set[str]] = {}  # API table → steps ANALYZE must wait for
    keyed: dict[str, str] = {}
    for statement in split_statements(script):
        if _DROP_TABLE.match(statement):
            continue
        if match := _CREATE_TABLE_AS.match(statement):
            table = match.group(1)
            reads = {
                step for other, step in created.items() if re.search(rf"\b{other}\b", statement)
            }
            name = f"create_{table}"
            steps.append(BuildStep(name, "create", table, statement, entity_keys | reads, weight))
            created[table] = name
            last[table] = {name}
            continue
        match = (
            _PRIMARY_KEY.match(statement) or _INDEX.match(statement) or _ANALYZE.match(statement)
        )
        table = match.group(match.lastindex or 1) if match else None
        if match is None or table not in created:
            raise ValueError(f"API structures statement not understood: {statement[:80]!r}")
        if match.re is _PRIMARY_KEY:
            name = f"{table}_pkey"
            steps.append(
                BuildStep(
                    name, "primary_key", table, statement, frozenset({created[table]}), weight
                )
            )
            keyed[table] = name
            last[table] = {name}
        elif match.re is _INDEX:
            after = frozenset({keyed.get(table, created[table])})
            steps.append(BuildStep(match.group(1), "index", table, statement, after, weight))
            last[table].add(match.group(1))
        else:
            after = frozenset(last[table])
            steps.append(BuildStep(f"analyze_{table}", "analyze", table, "", after, weight))
    return steps
