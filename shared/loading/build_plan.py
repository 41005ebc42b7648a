"""The finalize build of a month as steps that can run on several sessions at once (pure logic).

`finalize_indexes.sql` is cut into one step per statement. A table's primary key comes first (it
takes an ACCESS EXCLUSIVE lock, so nothing else may touch that table meanwhile); its secondary
indexes follow, each its own step (CREATE INDEX takes a SHARE lock: several builds on one table run
side by side); ANALYZE of the table comes last (its lock conflicts with CREATE INDEX, and it samples
the expression indexes too).

The API's structures (`api_structures.sql`, issue 6) are planned the same way, statement by
statement: each `CREATE TABLE ... AS` is a step after the keys of the entity tables it reads (a
key build locks its table; CREATE INDEX and ANALYZE let readers in) and after the API tables it
reads; its key, indexes and ANALYZE follow as for the entity tables. So credit roles, playing
times, master years and the search documents build side by side, and the search documents'
indexes too, instead of one long transaction. A key added `USING INDEX` is a unique index built
beside the other indexes (no table lock while it builds), made the key after all of them.
`DROP TABLE IF EXISTS` lines only matter for running the script whole
(shared/queries/finalize.py); here a table that exists was committed complete by its step, and a
resumed build keeps it.

The largest API tables are built in slices: the script creates the table empty and fills it with
`INSERT` statements, each marked by a comment line `-- finalize slices: <entity table>`. Run
whole, each INSERT fills its part at once. Here each one becomes a `fill` step per range of that
entity table's ids (`slice_counts`, `slice_ranges`): every `BETWEEN -9223372036854775808 AND
9223372036854775807` (every id) in the statement is replaced by the range, so the slices run side
by side and together insert exactly what the whole statement inserts. The table's key waits for
all its fills, and so does every statement that reads the table. A fill commits its rows together
with a marker (loader.finalize_slices), so a resumed build runs exactly the slices not committed.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

_PRIMARY_KEY = re.compile(r"^ALTER TABLE (\w+) ADD PRIMARY KEY ", re.IGNORECASE)
_INDEX = re.compile(r"^CREATE (?:UNIQUE )?INDEX (\w+)\s+ON (\w+)\s", re.IGNORECASE)
_CREATE_TABLE_AS = re.compile(r"^CREATE TABLE (\w+) AS\s", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"^CREATE TABLE (\w+)\s*\(", re.IGNORECASE)
_PRIMARY_KEY_USING_INDEX = re.compile(
    r"^ALTER TABLE (\w+)\s+ADD CONSTRAINT \w+\s+PRIMARY KEY USING INDEX \w+$", re.IGNORECASE
)
_INSERT = re.compile(r"^INSERT INTO (\w+)\s", re.IGNORECASE)
_SLICES = re.compile(r"^--\s*finalize slices:\s*(\w+)\s*$", re.IGNORECASE)
_DROP_TABLE = re.compile(r"^DROP TABLE IF EXISTS (\w+)$", re.IGNORECASE)
_ANALYZE = re.compile(r"^ANALYZE (\w+)$", re.IGNORECASE)

# The id range of an INSERT run whole (every bigint); a slice step replaces it with its own range.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
ALL_IDS = f"BETWEEN {BIGINT_MIN} AND {BIGINT_MAX}"
# Slices of all sliced entity tables together, shared out by rows (slice_counts). Fixed, not
# derived from FINALIZE_PARALLELISM: the slices must come out the same when a build is resumed
# with other settings. 16 is twice the 8 sessions of the target server, so the uneven slices
# (ids are not spread evenly, records differ in size) even out over the sessions, while each
# slice is still large enough (a month: ~2 M records) that its fixed cost does not matter.
TOTAL_SLICES = 16


@dataclass(frozen=True)
class BuildStep:
    """One unit of finalize work, run in one transaction on one session.

    kind: `primary_key` / `index` (one statement of finalize_indexes.sql or api_structures.sql),
    `analyze`, `create` (a `CREATE TABLE` of api_structures.sql) or `fill` (one slice of an
    `INSERT` into an API table). `after`: names of the steps that must have committed first.
    `weight`: how big the work is (table size); the ready step heading the heaviest chain of
    weights starts first (remaining_chains) so the longest chain does not start last. `fills`:
    for the create step of a table built in slices, the names of all its fill steps (a resumed
    build whose slices differ starts the table over).
    """

    name: str
    kind: str
    table: str | None
    statement: str
    after: frozenset[str]
    weight: int = 0
    fills: frozenset[str] = frozenset()


def remaining_chains(steps: list[BuildStep]) -> dict[str, int]:
    """Per step: its weight plus the heaviest chain of steps that wait for it (its "bottom
    level"). Handing out the ready step with the heaviest remaining chain first starts the
    longest chain early, so it does not end after everything else (critical-path list
    scheduling). Names in `after` that are not among `steps` are ignored."""
    waiting: dict[str, list[BuildStep]] = {step.name: [] for step in steps}
    for step in steps:
        for name in step.after & waiting.keys():
            waiting[name].append(step)
    chains: dict[str, int] = {}

    def chain(step: BuildStep) -> int:
        if step.name not in chains:  # plans are a few steps deep: no deep recursion
            chains[step.name] = step.weight + max(map(chain, waiting[step.name]), default=0)
        return chains[step.name]

    for step in steps:
        chain(step)
    return chains


def handout_ranks(steps: list[BuildStep]) -> dict[str, tuple[int, int]]:
    """Per step, its rank among ready steps (the lowest is handed out first): the heaviest
    remaining chain first, plan order among equals. The scheduler (parallel_build) and the
    benchmark's simulation of it share this rule."""
    chains = remaining_chains(steps)
    return {step.name: (-chains[step.name], position) for position, step in enumerate(steps)}


def split_statements(script: str) -> list[str]:
    """The statements of a DDL script of one statement per `;`-terminated line group, comments
    dropped (finalize_indexes.sql holds no string literal or function body with a `;`)."""
    return [statement for statement, _ in annotated_statements(script)]


def annotated_statements(script: str) -> list[tuple[str, str | None]]:
    """split_statements, each statement with the table of the `-- finalize slices: <table>`
    comment line among the lines before it (since the previous statement), or None."""
    statements: list[tuple[str, str | None]] = []
    lines: list[str] = []
    sliced_by: str | None = None
    for line in script.splitlines():
        if line.lstrip().startswith("--"):
            if match := _SLICES.match(line.strip()):
                sliced_by = match.group(1)
            continue
        lines.append(line)
        if ";" not in line:
            continue
        *complete, rest = "\n".join(lines).split(";")
        for part in complete:
            if part.strip():
                statements.append((part.strip(), sliced_by))
                sliced_by = None
        lines = [rest] if rest.strip() else []
    if "\n".join(lines).strip():
        statements.append(("\n".join(lines).strip(), sliced_by))
    return statements


def slice_counts(rows: dict[str, int], total: int = TOTAL_SLICES) -> dict[str, int]:
    """Slices per entity table: `total` shared out by rows, at least one each, so that the
    slices of all tables hold about the same number of records."""
    every = sum(rows.values())
    if every == 0:
        return dict.fromkeys(rows, 1)
    per_slice = -(-every // total)  # ceil
    return {table: max(1, -(-count // per_slice)) for table, count in rows.items()}


def slice_ranges(low: int, high: int, count: int) -> list[tuple[int, int]]:
    """`count` contiguous id ranges splitting [low, high] evenly; the first starts at the
    smallest bigint and the last ends at the largest, so together they cover every id exactly
    once, whatever the data (`ALL_IDS`, the range of the statement run whole)."""
    count = max(1, min(count, high - low + 1))
    cuts = [low + (high - low + 1) * number // count for number in range(1, count)]
    starts = [BIGINT_MIN, *cuts]
    ends = [cut - 1 for cut in cuts] + [BIGINT_MAX]
    return list(zip(starts, ends, strict=True))


def plan_build(
    index_script: str,
    tables: tuple[str, ...],
    table_weights: dict[str, int],
    record_tables: dict[str, str],
    api_script: str = "",
    id_ranges: dict[str, tuple[int, int, int]] | None = None,
) -> list[BuildStep]:
    """The steps of a month's build: keys, indexes and ANALYZE per table, then the API tables.

    `record_tables` maps each child table to its entity's record table (release_tracks →
    releases): a child's key is built after the record table's, so duplicate records are reported
    as duplicate ids of the entity (the validation), not as a duplicate of whichever child key
    happened to finish first. `id_ranges`: per entity table (min id, max id, rows), for the
    slices of the API tables' INSERTs; a table missing there or empty gets one slice.
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
    steps += _plan_api_tables(api_script, keyed, sum(table_weights.values()), id_ranges or {})
    names = {step.name for step in steps}
    if len(names) != len(steps):
        raise ValueError("finalize step names are not unique")
    for step in steps:
        if not step.after <= names:
            raise ValueError(f"{step.name} waits for unknown steps {sorted(step.after - names)}")
    return steps


def _plan_api_tables(
    script: str,
    entity_keys: dict[str, str],
    weight: int,
    id_ranges: dict[str, tuple[int, int, int]],
) -> list[BuildStep]:
    """Steps of api_structures.sql. Every step gets the weight of all entity tables together (a
    table built in slices: per slice for its fills, times its slices for the steps over the whole
    table), so the API tables, the longest chains of the build, start first."""
    steps: list[BuildStep] = []
    ready: dict[str, set[str]] = {}  # API table → the steps that complete its rows
    last: dict[str, set[str]] = {}  # API table → steps ANALYZE must wait for
    keyed: dict[str, str] = {}
    counts = slice_counts({table: rows for table, (_, _, rows) in id_ranges.items()})

    def reads(statement: str, own: str) -> frozenset[str]:
        """The steps a statement reading these tables waits for: the keys of the entity tables
        it names (a key build locks its table) and the rows (and key, if planned) of the API
        tables it names."""
        named = {table for table in {*entity_keys, *ready} if _names(statement, table)}
        waits = {entity_keys[table] for table in named if table in entity_keys}
        for table in named - {own}:
            waits |= ready.get(table, set()) | ({keyed[table]} if table in keyed else set())
        return frozenset(waits)

    for statement, sliced_by in annotated_statements(script):
        if _DROP_TABLE.match(statement):
            continue
        if match := _CREATE_TABLE_AS.match(statement) or _CREATE_TABLE.match(statement):
            table = match.group(1)
            name = f"create_{table}"
            # An empty table (filled by INSERTs) reads nothing; CREATE TABLE ... AS reads.
            after = reads(statement, table) if match.re is _CREATE_TABLE_AS else frozenset()
            steps.append(BuildStep(name, "create", table, statement, after, weight))
            ready[table] = {name}
            last[table] = {name}
            continue
        if match := _INSERT.match(statement):
            table = match.group(1)
            if table not in ready or table in keyed or last[table] != ready[table]:
                raise ValueError(
                    f"INSERT into {table} outside its table's build: {statement[:80]!r}"
                )
            if sliced_by is None:
                raise ValueError(
                    f"INSERT without `-- finalize slices: <table>`: {statement[:80]!r}"
                )
            if ALL_IDS not in statement:
                raise ValueError(f"sliced INSERT without the range {ALL_IDS}: {statement[:80]!r}")
            after = reads(statement, table) | {f"create_{table}"}
            fills = _fill_steps(statement, table, sliced_by, id_ranges, counts, after, weight)
            steps += fills
            ready[table] |= {fill.name for fill in fills}
            last[table] = set(ready[table])
            continue
        if (match := _PRIMARY_KEY_USING_INDEX.match(statement)) and match.group(1) in ready:
            # The key's unique index was built beside the other indexes (a step of its own);
            # making it the key only takes a moment, but under a lock that would queue behind
            # the index builds, so after all of them.
            table = match.group(1)
            name = f"{table}_primary_key"
            after = frozenset(last[table])
            steps.append(BuildStep(name, "primary_key", table, statement, after, weight))
            last[table] = {name}
            continue
        match = (
            _PRIMARY_KEY.match(statement) or _INDEX.match(statement) or _ANALYZE.match(statement)
        )
        table = match.group(match.lastindex or 1) if match else None
        if match is None or table not in ready:
            raise ValueError(f"API structures statement not understood: {statement[:80]!r}")
        if match.re is _PRIMARY_KEY:
            name = f"{table}_pkey"
            after = frozenset(ready[table])
            steps.append(BuildStep(name, "primary_key", table, statement, after, weight))
            keyed[table] = name
            last[table] = {name}
        elif match.re is _INDEX:
            after = frozenset({keyed[table]} if table in keyed else ready[table])
            steps.append(BuildStep(match.group(1), "index", table, statement, after, weight))
            last[table].add(match.group(1))
        else:
            after = frozenset(last[table])
            steps.append(BuildStep(f"analyze_{table}", "analyze", table, "", after, weight))
    # Each create step of a table built in slices knows all its fills (see BuildStep.fills).
    # The slices hold about the same number of records each, so a table's size is about its
    # number of slices: its key, indexes and ANALYZE weigh that many slices (the search
    # documents' indexes, after 16 slices, outweigh the credit roles' after 9).
    fills_of: dict[str, frozenset[str]] = {}
    for step in steps:
        if step.kind == "fill" and step.table:
            fills_of[step.table] = fills_of.get(step.table, frozenset()) | {step.name}
    planned = []
    for step in steps:
        fills = fills_of.get(step.table or "", frozenset())
        if step.kind == "create":
            step = dataclasses.replace(step, fills=fills)
        elif step.kind in ("primary_key", "index", "analyze") and fills:
            step = dataclasses.replace(step, weight=step.weight * len(fills))
        planned.append(step)
    return planned


def _fill_steps(
    statement: str,
    table: str,
    sliced_by: str,
    id_ranges: dict[str, tuple[int, int, int]],
    counts: dict[str, int],
    after: frozenset[str],
    weight: int,
) -> list[BuildStep]:
    """One step per id range of `sliced_by` (one step running the statement whole if that table
    is empty or unknown)."""
    low, high, rows = id_ranges.get(sliced_by, (0, 0, 0))
    ranges = slice_ranges(low, high, counts.get(sliced_by, 1)) if rows else []
    if len(ranges) <= 1:
        return [BuildStep(f"fill_{table}_{sliced_by}", "fill", table, statement, after, weight)]
    return [
        BuildStep(
            f"fill_{table}_{sliced_by}_{number}of{len(ranges)}",
            "fill",
            table,
            statement.replace(ALL_IDS, f"BETWEEN {start} AND {end}"),
            after,
            weight,
        )
        for number, (start, end) in enumerate(ranges, start=1)
    ]


def _names(statement: str, table: str) -> bool:
    return re.search(rf"\b{table}\b", statement) is not None
