import uuid

import psycopg
import pytest
from psycopg import sql

from shared.db import migrations
from shared.db.migrations import MigrationError, applied_version, apply_migrations, latest_version
from tests.support.reset import database_url_for


def test_template_database_is_fully_migrated(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert applied_version(conn) == latest_version()
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        folded = conn.execute("SELECT fold_text('Björk Guðmundsdóttir ÆON Straße')").fetchone()[0]
    assert "pg_trgm" in extensions
    assert folded == "bjork gudmundsdottir aeon strasse"


def test_fold_text_fallback_without_unaccent(database_url):
    """The translate() variant used where the server has no unaccent extension folds alike."""
    sql_text = migrations.available_migrations()[1].sql
    fallback = sql_text.split("ELSE", 1)[1].split("$sql$")[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA fallback")
        conn.execute(fallback.replace("public.fold_text", "fallback.fold_text"))
        folded = conn.execute(
            "SELECT fallback.fold_text('Björk Guðrún Ægir Œuvre Straße Łódź Ñandú')"
        ).fetchone()[0]
    assert folded == "bjork gudrun aegir oeuvre strasse lodz nandu"


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
