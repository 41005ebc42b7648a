"""Shared fixtures: real PostgreSQL and real Azurite, started once per run, isolated per test.

Every test that asks for `settings` gets its own database (cloned from a migrated template) and its
own container, queue and table names, exposed through the environment exactly as in production, so
code under test reads them with `get_settings()`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from shared.db.migrations import apply_migrations
from shared.settings import Settings, get_settings, reset_settings_cache
from shared.storage import clients
from tests.support import services as local_services
from tests.support.funchost import LocalFunctionHost
from tests.support.reset import database_copy, database_url_for, delete_storage, drop_database

FUNCTION_KEY = "test-function-key"
ADMIN_KEY = "test-admin-key"


@pytest.fixture(scope="session")
def services() -> Iterator[local_services.Services]:
    running = local_services.up(app_database=None)
    yield running
    if os.environ.get("CRATEDIGGER_KEEP_SERVICES") != "1":
        local_services.down(only=running.started)


@pytest.fixture(scope="session")
def template_database(services: local_services.Services) -> Iterator[str]:
    """A database with every migration applied, cloned per test (faster than migrating each)."""
    name = f"cd_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(database_url_for(services.database_url, name), autocommit=True) as conn:
        apply_migrations(conn)
    yield name
    drop_database(services.database_url, name)


@pytest.fixture
def database_url(services: local_services.Services, template_database: str) -> Iterator[str]:
    with database_copy(services.database_url, template_database) as url:
        yield url


@pytest.fixture
def storage_names() -> dict[str, str]:
    """Unique container, queue and table names for one test."""
    suffix = uuid.uuid4().hex[:10]
    return {
        "DUMPS_CONTAINER": f"dumps-{suffix}",
        "CHUNKS_CONTAINER": f"chunks-{suffix}",
        "FETCH_QUEUE": f"fetch-{suffix}",
        "SPLIT_QUEUE": f"split-{suffix}",
        "LOAD_QUEUE": f"load-{suffix}",
        "SYNC_QUEUE": f"sync-{suffix}",
        "RUNS_TABLE": f"runs{suffix}",
        "RATE_LIMIT_TABLE": f"rate{suffix}",
    }


@pytest.fixture
def settings_env(
    services: local_services.Services,
    database_url: str,
    storage_names: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The environment of one test's app; tests may add to it before asking for `settings`."""
    env = {
        "DATABASE_URL": database_url,
        "AzureWebJobsStorage": services.storage_connection_string,
        "LOCAL_FUNCTION_KEY": FUNCTION_KEY,
        "LOCAL_ADMIN_KEY": ADMIN_KEY,
        **storage_names,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Iterator[Settings]:
    reset_settings_cache()
    current = get_settings()
    clients.ensure_storage(current)
    yield current
    reset_settings_cache()
    delete_storage(current)


@pytest.fixture
def function_host(settings: Settings) -> Iterator[LocalFunctionHost]:
    """The real function app running in the local runner against this test's settings."""
    from function_app import app

    with LocalFunctionHost(app, settings) as host:
        yield host
