"""Fixtures for the account sync tests: a fake Discogs on 127.0.0.1 and settings pointing at it.

Time is scaled: the fake's "minute" and the client's limiter window are WINDOW seconds, and every
backoff shrinks by the same factor, so the production semantics (60 per moving minute on the
server, a budget of 50 on our side) hold while the tests run in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from shared.discogs.client import Pacing
from shared.settings import Settings
from tests.support.fake_discogs import FakeDiscogs

WINDOW = 3.0
PACING = Pacing().scaled(WINDOW / 60)
TOKEN = "test-discogs-token"


@pytest.fixture
def fake() -> Iterator[FakeDiscogs]:
    with FakeDiscogs(token=TOKEN, window_seconds=WINDOW) as server:
        yield server


@pytest.fixture
def sync_env(settings_env: dict[str, str], fake: FakeDiscogs, monkeypatch) -> dict[str, str]:
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


@pytest.fixture
def sync_settings(sync_env: dict[str, str], settings: Settings) -> Settings:
    return settings


@pytest.fixture
def db(sync_settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(sync_settings.database_url.get_secret_value(), autocommit=True) as conn:
        yield conn
