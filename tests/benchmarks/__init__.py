"""Benchmarks: `python -m tests.benchmarks` (or `make bench`) runs every module in this package
whose name does not start with an underscore; each exposes `main() -> None` and writes its own
section of docs/benchmarks.md. Figures are only compared within one run (shared machines vary)."""
