"""Run a command as a child process and report its wall time and peak RSS (of the child and its
own children) as JSON on stdout: `python -m tests.benchmarks._measure -- CMD...`."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    started = time.perf_counter()
    completed = subprocess.run(argv, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "returncode": completed.returncode,
                "seconds": seconds,
                "peak_rss_mb": peak_kib / 1024,
                "stdout": completed.stdout.decode(errors="replace")[-20000:],
                "stderr": completed.stderr.decode(errors="replace")[-4000:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
