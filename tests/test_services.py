"""make services-up / services-down: start what is missing, stop only what was started."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port_block(size: int) -> int:
    for base in range(21000, 40000, 10):
        if all(_free(base + i) for i in range(size)):
            return base
    raise AssertionError("no free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _services(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.services", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("source", ["system", "pgserver"])
def test_up_starts_missing_services_and_down_stops_only_those(tmp_path, services, source):
    base = _free_port_block(4)
    env = {
        "CRATEDIGGER_PG_SOURCE": source,
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "CRATEDIGGER_LOCAL_DIR": str(tmp_path / "local"),
        "CRATEDIGGER_PG_PORT": str(base + 3),
        "CRATEDIGGER_AZURITE_PORT": str(base),
    }
    started = _services("up", env)
    try:
        assert started.returncode == 0, started.stderr
        info = json.loads(started.stdout)
        assert sorted(info["started"]) == ["azurite", "postgres"]
        with psycopg.connect(info["DATABASE_URL"], autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("cratedigger",)
            conn.execute("CREATE EXTENSION pg_trgm")
            assert conn.execute("SELECT similarity('bjork', 'björk') > 0").fetchone() == (True,)
        assert not _free(base) and not _free(base + 2)

        again = _services("up", env)  # reuses what runs, starts nothing
        assert json.loads(again.stdout)["started"] == []
    finally:
        stopped = _services("down", env)
    assert stopped.returncode == 0, stopped.stderr
    shutil.rmtree((tmp_path / "local" / "pg").resolve(), ignore_errors=True)
    assert all(_free(p) for p in (base, base + 1, base + 2, base + 3))
    # The services of this test run (and anyone else's) are untouched.
    with psycopg.connect(services.database_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not _free(10000) or services.storage_connection_string != "UseDevelopmentStorage=true"


def test_down_with_nothing_recorded_stops_nothing(tmp_path, services):
    env = {**os.environ, "CRATEDIGGER_LOCAL_DIR": str(tmp_path / "empty")}
    result = _services("down", env)
    assert result.returncode == 0
    assert "nothing" in result.stderr
    with psycopg.connect(services.database_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
