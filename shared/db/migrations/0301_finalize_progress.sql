-- Parallel finalize (issue 4): the validation and the collection pruning of a month commit before
-- its keys and indexes are built on several sessions, so a retried finalize must know that the
-- rows are already final (pruned rows no longer match the ledger's sums) and skip straight to the
-- build, which resumes where it stopped.
ALTER TABLE loader.months ADD COLUMN prepared_at timestamptz;
