"""Fixtures of the API tests: the real 2020-08-06 samples loaded once through the real CLI loader
(chunks, ledger, finalize with search documents, swap) into a template database cloned per test,
and a fake Discogs account synced through the real sync code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import database_url_for
from tests.support import services as local_services

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data" / "discogs" / "20200806"


@pytest.fixture(scope="session")
def loaded_template(services: local_services.Services, template_database: str) -> Iterator[str]:
    """A migrated database with the four 2020-08-06 sample files loaded and finalized."""
    name = f"cd_api_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(services.database_url, name),
        "AzureWebJobsStorage": services.storage_connection_string,
    }
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "load", "--json", *sorted(SAMPLES.glob("*.xml.gz"))],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["rows_per_table"]["releases"] == 1000
    yield name
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def database_url(services: local_services.Services, loaded_template: str) -> Iterator[str]:
    """Each API test gets its own copy of the loaded samples."""
    name = f"cd_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(loaded_template)
            )
        )
    yield database_url_for(services.database_url, name)
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
