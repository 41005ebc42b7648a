-- Parallel finalize (issue 4): the slices of the API tables built in slices (credit roles, search
-- documents, release facts; see shared/loading/build_plan.py) that have committed. A slice's rows
-- and its row here commit in one transaction, so a resumed build runs exactly the slices whose
-- rows are not in the table: none twice, none lost. Keyed by the filled table's OID: a table
-- dropped and built again (a month loaded again, a changed plan) starts with no slice done.
CREATE TABLE loader.finalize_slices (
    table_oid oid NOT NULL,
    step text NOT NULL,
    done_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_oid, step)
);
