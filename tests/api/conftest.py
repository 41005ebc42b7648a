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

from tests.support import services as local_services
from tests.support.reset import database_copy, database_url_for, drop_database

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
    drop_database(services.database_url, name)


@pytest.fixture
def database_url(services: local_services.Services, loaded_template: str) -> Iterator[str]:
    """Each API test gets its own copy of the loaded samples."""
    with database_copy(services.database_url, loaded_template) as url:
        yield url


# --- a synced fake account ----------------------------------------------------------------------

from tests.sync.conftest import PACING, TOKEN, fake, sync_settings  # noqa: E402, F401


@pytest.fixture
def sync_env(settings_env: dict[str, str]) -> dict[str, str]:
    return settings_env


@pytest.fixture
def settings_env(settings_env, fake, monkeypatch):  # noqa: F811
    """Every API test's app points at a fake Discogs, whichever fixture asks for settings first."""
    extra = {
        "DISCOGS_TOKEN": TOKEN,
        "DISCOGS_API_BASE_URL": fake.base_url,
        "DISCOGS_TIMEOUT_SECONDS": "1",
        "DISCOGS_REQUESTS_PER_MINUTE": "50",
    }
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    settings_env.update(extra)
    return settings_env


USERNAME = "Digger"
UNKNOWN_RELEASES = (990000001, 990000002, 990000003)


def _snapshot(conn: psycopg.Connection, release_id: int) -> dict:
    """Discogs' basic_information for a release, built from the loaded dump row (or made up)."""
    row = conn.execute(
        "SELECT r.title, r.released_year, r.genres, r.styles, r.master_id,"
        " (SELECT coalesce(jsonb_agg(jsonb_build_object('name', f.name, 'qty', f.qty,"
        "   'descriptions', f.descriptions) ORDER BY f.sequence), '[]')"
        "  FROM discogs.release_formats f WHERE f.release_id = r.id),"
        " (SELECT coalesce(jsonb_agg(jsonb_build_object('name', l.name, 'catno', l.catno,"
        "   'id', l.label_id) ORDER BY l.sequence), '[]')"
        "  FROM discogs.release_labels l WHERE l.release_id = r.id),"
        " (SELECT coalesce(jsonb_agg(jsonb_build_object('name', a.name, 'id', a.artist_id,"
        "   'anv', coalesce(a.anv, ''), 'join', coalesce(a.\"join\", ''), 'role', '',"
        "   'tracks', '') ORDER BY a.sequence), '[]')"
        "  FROM discogs.release_artists a WHERE a.release_id = r.id AND NOT a.extra)"
        " FROM discogs.releases r WHERE r.id = %s",
        (release_id,),
    ).fetchone()
    if row is None:
        return {
            "id": release_id,
            "master_id": 0,
            "title": f"Unknown {release_id}",
            "year": 1994,
            "formats": [{"name": "Cassette", "qty": "1"}],
            "labels": [{"name": "Tape Label", "catno": "T1", "id": 1}],
            "artists": [{"name": "Nobody", "id": 1}],
            "genres": ["Rock"],
            "styles": ["Punk"],
            "resource_url": f"https://api.discogs.com/releases/{release_id}",
        }
    title, year, genres, styles, master_id, formats, labels, artists = row
    return {
        "id": release_id,
        "master_id": master_id or 0,
        "title": title,
        "year": year or 0,
        "formats": formats,
        "labels": labels,
        "artists": artists,
        "genres": genres,
        "styles": styles,
        "resource_url": f"https://api.discogs.com/releases/{release_id}",
    }


@pytest.fixture
def account(fake, sync_settings):  # noqa: F811
    """User `Digger` synced from the fake Discogs: 26 collection copies (two copies of one
    release, two versions of one master, three releases absent from the dump), 5 wants,
    4 listings (one later sold) and two collection values."""
    from datetime import UTC, datetime, timedelta

    from shared.sync.service import run_foreground
    from tests.support.fake_discogs import discogs_time

    user = fake.add_user(USERNAME)
    with psycopg.connect(sync_settings.database_url.get_secret_value()) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM discogs.releases WHERE master_id IS NOT NULL ORDER BY id LIMIT 18"
            )
        ]
        same_master = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM discogs.releases WHERE master_id = 355203 ORDER BY id LIMIT 2"
            )
        ]
        with_tracks = [4497850, 1586374]
        owned = [*ids, *same_master, *with_tracks, 4497850, *UNKNOWN_RELEASES]
        snapshots = {rid: _snapshot(conn, rid) for rid in set(owned)}
        want_ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM discogs.releases WHERE master_id IS NULL ORDER BY id LIMIT 4"
            )
        ] + [UNKNOWN_RELEASES[0] + 10]
        snapshots.update({rid: _snapshot(conn, rid) for rid in want_ids})
    start = datetime(2019, 11, 3, 12, 0, tzinfo=UTC)
    for n, rid in enumerate(owned):
        notes = [{"field_id": 1, "value": "Near Mint (NM or M-)"}] if n % 3 == 0 else []
        if n % 5 == 0:
            notes.append({"field_id": 3, "value": "bought in Berlin"})
        item = {
            "id": rid,
            "instance_id": 700_000 + n,
            "date_added": discogs_time(start + timedelta(days=17 * n)),
            "rating": [0, 5, 4, 3, 0, 5][n % 6],
            "folder_id": [1, 2, 3][n % 3],
            "basic_information": snapshots[rid],
        }
        if notes:
            item["notes"] = notes
        user.collection.append(item)
    for n, rid in enumerate(want_ids):
        user.wants.append(
            {
                "id": rid,
                "rating": n % 6,
                "notes": "any pressing" if n % 2 else "",
                "notes_public": False,
                "date_added": discogs_time(start + timedelta(days=3 * n)),
                "basic_information": snapshots[rid],
            }
        )
    fake.add_listings(USERNAME, 4)
    for n, listing in enumerate(user.listings):
        rid = ids[n]
        listing["release"].update(
            {
                "id": rid,
                "title": snapshots[rid]["title"],
                "year": snapshots[rid]["year"],
                "artist": snapshots[rid]["artists"][0]["name"]
                if snapshots[rid]["artists"]
                else "Various",
            }
        )
        listing["price"]["value"] = [9.5, 25.0, 120.0, 3.99][n]
    fake.set_value(USERNAME, 100.0, 250.5, 900.0)
    scope = ("collection", "wantlist", "inventory", "value")
    job = run_foreground(sync_settings, USERNAME, scope, full=True, pacing=PACING)
    assert job.state == "succeeded", job.errors
    fake.set_value(USERNAME, 110.0, 260.0, 950.0)
    job = run_foreground(sync_settings, USERNAME, ("value",), full=True, pacing=PACING)
    assert job.state == "succeeded", job.errors
    return {"user": user, "owned": owned, "wants": want_ids, "settings": sync_settings}


# --- the API through the local function runner ---------------------------------------------------


class Api:
    """GETs against the running app with the function key; returns httpx responses."""

    def __init__(self, base_url: str, key: str | None) -> None:
        import httpx

        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=30)
        self.key = key

    def get(self, path: str, params: dict | None = None, **headers: str):
        sent = {"x-functions-key": self.key} if self.key else {}
        sent.update(headers)
        return self.client.get("/api/" + path.lstrip("/"), params=params, headers=sent)

    def ok(self, path: str, params: dict | None = None) -> dict:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(function_host) -> Iterator[Api]:
    from tests.conftest import FUNCTION_KEY

    client = Api(function_host.base_url, FUNCTION_KEY)
    yield client
    client.client.close()


@pytest.fixture
def db(settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.database_url.get_secret_value(), autocommit=True) as conn:
        yield conn
