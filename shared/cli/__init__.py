"""Command line for one-box use and operations: `python -m shared.cli COMMAND`."""
