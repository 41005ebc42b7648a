from shared.sync.service import run_foreground
from tests.sync.conftest import PACING


def test_first_sync_of_1234_items_stores_each_once_with_fields(fake, sync_settings, db):
    user = fake.add_user("digger", collection=1234)
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert job.state == "succeeded", job.errors
    rows = db.execute(
        "SELECT instance_id, release_id, folder_id, rating, date_added, notes, "
        "basic_information FROM account.collection_items WHERE username = 'digger'"
    ).fetchall()
    assert len(rows) == 1234
    by_instance = {r[0]: r for r in rows}
    for item in user.collection:
        row = by_instance[item["instance_id"]]
        assert row[1] == item["id"]
        assert row[2] == item["folder_id"]
        assert row[3] == item["rating"]
        assert row[4].isoformat() is not None
        expected_notes = {str(n["field_id"]): n["value"] for n in item.get("notes", [])}
        assert row[5] == expected_notes
        assert row[6] == item["basic_information"]
    # profile + folders + fields + 13 pages of 100
    assert fake.count("/collection/folders/0/releases") == 13
    assert job.requests_used == 3 + 13 == len(fake.requests)
    assert job.summary()["added"] == 1234
    assert job.pages_done == 13
