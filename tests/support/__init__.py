"""Development tooling shared by the test suite, `make serve` and `make demo` (never deployed)."""
