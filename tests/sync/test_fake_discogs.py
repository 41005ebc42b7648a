"""The fake Discogs itself: the tests above are only as good as its imitation."""

import httpx

from tests.support.fake_discogs import FakeDiscogs
from tests.sync.conftest import TOKEN


def test_the_fake_enforces_its_limit_per_moving_window_with_bare_429s():
    with FakeDiscogs(token=TOKEN, limit=5, window_seconds=30) as fake:
        fake.add_user("digger", collection=3)
        headers = {"Authorization": f"Discogs token={TOKEN}", "User-Agent": "test"}
        answers = [httpx.get(f"{fake.base_url}/users/digger", headers=headers) for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert [a.headers["X-Discogs-Ratelimit-Remaining"] for a in answers[:5]] == [
        "4",
        "3",
        "2",
        "1",
        "0",
    ]
    assert answers[5].content == b"" and "Retry-After" not in answers[5].headers


def test_the_fake_serves_realistic_collection_pages():
    with FakeDiscogs(token=TOKEN) as fake:
        fake.add_user("digger", collection=120)
        headers = {"Authorization": f"Discogs token={TOKEN}"}
        page = httpx.get(
            f"{fake.base_url}/users/digger/collection/folders/0/releases",
            params={"per_page": 100, "sort": "added", "sort_order": "desc"},
            headers=headers,
        ).json()
        unauthenticated = httpx.get(f"{fake.base_url}/users/digger")
        base_url = fake.base_url
    assert page["pagination"]["items"] == 120 and page["pagination"]["pages"] == 2
    assert page["pagination"]["urls"]["next"].startswith(base_url)
    item = page["releases"][0]
    assert {"id", "instance_id", "folder_id", "rating", "date_added", "basic_information"} <= set(
        item
    )
    assert item["date_added"].endswith("-07:00")
    assert page["releases"][0]["date_added"] > page["releases"][-1]["date_added"]
    assert {"master_id", "formats", "labels", "artists", "genres", "styles", "thumb"} <= set(
        item["basic_information"]
    )
    assert unauthenticated.status_code == 401
