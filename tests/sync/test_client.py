"""The Discogs client against the fake server: headers, retries, errors, pagination."""

from __future__ import annotations

import pytest

from shared.discogs.client import DiscogsClient
from shared.discogs.errors import (
    BadTokenError,
    DiscogsUnavailableError,
    PrivateResourceError,
    UnexpectedResponseError,
    UnknownResourceError,
)
from shared.settings import get_settings, reset_settings_cache
from tests.support.fake_discogs import Fault
from tests.sync.conftest import PACING


@pytest.fixture
def client(sync_settings):
    with DiscogsClient(sync_settings, pacing=PACING) as discogs:
        yield discogs


def _walk(client: DiscogsClient, url: str, key: str = "releases") -> list[dict]:
    items = []
    while url:
        page = client.page(url, key)
        items += page.items
        url = client.next_page_url(url, page.pagination)
    return items


def test_requests_carry_token_user_agent_and_per_page_100(fake, client, sync_settings):
    seen = {}

    original = fake.handle

    def spy(path, query, headers):
        seen.update(auth=headers.get("Authorization"), ua=headers.get("User-Agent"), query=query)
        return original(path, query, headers)

    fake.handle = spy
    fake.add_user("digger", collection=5)
    client.page(client.collection_url("digger", sort="added", order="desc"), "releases")
    assert seen["auth"] == f"Discogs token={sync_settings.discogs_token.get_secret_value()}"
    assert seen["ua"] == sync_settings.discogs_user_agent
    assert seen["query"]["per_page"] == "100"
    assert seen["query"]["sort"] == "added" and seen["query"]["sort_order"] == "desc"


def test_pagination_follows_next_through_short_pages(fake, client):
    user = fake.add_user("digger", collection=450)
    user.short_pages = {1: 47, 2: 49, 4: 3}
    items = _walk(client, client.collection_url("digger", sort="added", order="desc"))
    assert len(items) == 450
    assert len({i["instance_id"] for i in items}) == 450
    # 47 + 49 + 100 + 3 + 100 + 100 + 51: offsets were never computed from per_page
    assert fake.count("/releases") == 7


@pytest.mark.parametrize(
    "faults",
    [
        [Fault("status", 429)] * 3,
        [Fault("status", 500), Fault("status", 502)],
        [Fault("status", 503)],
        [Fault("invalid_json")],
        [Fault("html", 502)],
        [Fault("slow", delay=1.5)],  # slower than the 1 s timeout: a timeout, retried
    ],
    ids=["429-burst", "500-502", "503", "invalid-json", "html-502", "timeout"],
)
def test_transient_faults_are_retried_with_backoff(fake, client, faults):
    fake.add_user("digger", collection=150)
    fake.inject(*faults)
    items = _walk(client, client.collection_url("digger", sort="added", order="desc"))
    assert len(items) == 150
    assert client.retries == len(faults)
    assert client.requests_used == 2 + len(faults)


def test_slow_answer_within_timeout_is_not_retried(fake, client):
    fake.add_user("digger", collection=10)
    fake.inject(Fault("slow", delay=0.3))
    assert len(_walk(client, client.collection_url("digger", sort="added", order="desc"))) == 10
    assert client.retries == 0


def test_retries_are_bounded(fake, client):
    fake.add_user("digger", collection=10)
    fake.inject(*[Fault("status", 429)] * 10)
    with pytest.raises(DiscogsUnavailableError, match="after 4 attempts: HTTP 429"):
        client.profile("digger")
    assert client.requests_used == 4
    assert fake.count("/users/digger", status=429) == 4


def test_bad_token_is_401_without_retry(fake, sync_env, monkeypatch, settings):
    monkeypatch.setenv("DISCOGS_TOKEN", "wrong")
    reset_settings_cache()
    fake.add_user("digger")
    with (
        DiscogsClient(get_settings(), pacing=PACING) as client,
        pytest.raises(BadTokenError, match="DISCOGS_TOKEN"),
    ):
        client.profile("digger")
    assert len(fake.requests) == 1


def test_private_and_unknown_are_clear_errors_without_retry(fake, client):
    fake.add_user("secretive", collection=3, private=True)
    with pytest.raises(PrivateResourceError, match=r"403.*permission"):
        client.page(client.collection_url("secretive", sort="added", order="desc"), "releases")
    with pytest.raises(UnknownResourceError, match=r"404.*User does not exist"):
        client.profile("nobody")
    fake.inject(Fault("html", 403))
    with pytest.raises(PrivateResourceError, match="403"):
        client.profile("secretive")
    assert client.retries == 0 and len(fake.requests) == 3


def test_next_urls_to_other_hosts_are_refused(client):
    with pytest.raises(UnexpectedResponseError, match="another host"):
        client.get_json("https://evil.example/users/x?page=2")


def test_low_remaining_header_brakes_the_shared_limiter(fake, client):
    fake.add_user("digger")
    fake.limit = 6  # remaining drops to <= 5 on the first request
    client.profile("digger")
    state, _ = client.limiter._read()
    assert client.last_ratelimit_remaining is not None
    assert client.last_ratelimit_remaining <= 5
    assert state.brake_until > 0


def test_connection_errors_are_retried_then_reported(sync_env, settings, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DISCOGS_API_BASE_URL", f"http://127.0.0.1:{port}")
    reset_settings_cache()
    with (
        DiscogsClient(get_settings(), pacing=PACING) as client,
        pytest.raises(DiscogsUnavailableError, match="connection error"),
    ):
        client.profile("digger")
    assert client.requests_used == 4 and client.retries == 3


def test_pagination_without_urls_falls_back_to_page_below_pages(fake, client):
    fake.add_user("digger", collection=250)
    fake.send_page_urls = False
    items = _walk(client, client.collection_url("digger", sort="added", order="desc"))
    assert len({i["instance_id"] for i in items}) == 250
    assert [r.query["page"] for r in fake.requests] == ["1", "2", "3"]
