import uuid

import psycopg
import pytest
from psycopg import sql

from shared.db import migrations
from shared.db.migrations import MigrationError, applied_version, apply_migrations, latest_version
from tests.conftest import database_url_for


def test_template_database_is_fully_migrated(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert applied_version(conn) == latest_version()
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
    assert {"pg_trgm", "unaccent"} <= extensions


def test_applying_again_is_a_no_op(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert apply_migrations(conn) == []
        count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == len(migrations.available_migrations())


def test_a_fresh_database_gets_every_migration(services):
    name = f"cd_fresh_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(services.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = database_url_for(services.database_url, name)
        with psycopg.connect(url, autocommit=True) as conn:
            assert applied_version(conn) is None
            applied = apply_migrations(conn)
            assert [m.version for m in applied] == [
                m.version for m in migrations.available_migrations()
            ]
            assert applied_version(conn) == latest_version()
    finally:
        with psycopg.connect(services.database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_an_edited_migration_is_refused(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            apply_migrations(conn)
