"""checkov over infrastructure/, from its own virtual environment.

checkov's many pinned dependencies clash with the app's, so it lives in `.local/checkov`, built by
the Makefile rule `checkov` (pinned version), which `make test` depends on.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.infrastructure.terraform_config import INFRASTRUCTURE, ROOT

CHECKOV = ROOT / ".local" / "checkov" / "bin" / "checkov"
MIN_REASON_LENGTH = 40  # a skip must explain itself, not just name the check


def _run_checkov(var_file: str | None) -> dict:
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make checkov` (make test does it for you)"
    command = [
        str(CHECKOV),
        "--directory",
        str(INFRASTRUCTURE),
        "--framework",
        "terraform",
        "--skip-download",  # no network: never ask the Prisma Cloud API for metadata
        "--output",
        "json",
    ]
    if var_file:
        command += ["--var-file", str(INFRASTRUCTURE / "environments" / var_file)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLOR": "1"}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=240, check=False, env=env
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    assert isinstance(report, dict) and "results" in report, f"unexpected report: {report}"
    return report


@pytest.mark.parametrize("var_file", [None, "small.tfvars", "full.tfvars"])
def test_checkov_finds_no_failed_check(var_file):
    report = _run_checkov(var_file)
    results = report["results"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in results["failed_checks"]
    ]
    assert not failed, "checkov failures:\n" + "\n".join(failed)
    # checkov really looked at the configuration (an unparsable file yields no checks at all).
    assert len(results["passed_checks"]) >= 20
    for check in results["skipped_checks"]:
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) >= MIN_REASON_LENGTH, (
            f"{check['check_id']} on {check['resource']} is skipped without a real reason"
        )


def test_checkov_is_the_pinned_version():
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make checkov` (make test does it for you)"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pinned = next(
        line.split(":=", 1)[1].strip()
        for line in makefile.splitlines()
        if line.startswith("CHECKOV_VERSION")
    )
    version = subprocess.run(
        [str(CHECKOV), "--version"], capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    assert version == pinned
