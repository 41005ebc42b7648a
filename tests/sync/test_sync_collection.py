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


def _collection(db, username="digger"):
    return {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT instance_id, rating, folder_id, notes, removed_at "
            "FROM account.collection_items WHERE username = %s",
            (username,),
        )
    }


def test_incremental_after_3_additions_fetches_only_the_first_pages(fake, sync_settings, db):
    fake.add_user("digger", collection=1234)
    run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    fake.clear_requests()
    new = fake.add_collection_items("digger", 3)
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert job.state == "succeeded", job.errors
    # page 1 holds the 3 new items (plus 97 known): then page 2 is all known → stop
    assert fake.count("/collection/folders/0/releases") == 2
    assert job.counts["collection"] == {"added": 3, "updated": 0, "removed": 0, "unchanged": 197}
    assert job.requests_used == 1 + 2  # profile + 2 pages; folders/fields are known
    stored = _collection(db)
    assert len(stored) == 1237
    assert all(item["instance_id"] in stored for item in new)


def test_unchanged_collection_costs_two_requests(fake, sync_settings):
    fake.add_user("digger", collection=1234)
    run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    fake.clear_requests()
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert job.requests_used == 2 == len(fake.requests)  # profile + first page
    assert job.counts["collection"]["unchanged"] == 100
    assert job.summary()["added"] == job.summary()["updated"] == 0


def test_full_reconcile_records_rating_change_and_removal(fake, sync_settings, db):
    user = fake.add_user("digger", collection=1234)
    run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    rated, moved, annotated = user.collection[10], user.collection[20], user.collection[30]
    gone = user.collection.pop(500)
    rated["rating"] = 5 if rated["rating"] != 5 else 1
    moved["folder_id"] = 3 if moved["folder_id"] != 3 else 2
    annotated["notes"] = [{"field_id": 3, "value": "new note"}]
    # An incremental sync cannot see any of this (date_added unchanged, old items).
    incremental = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert incremental.summary()["updated"] == incremental.summary()["removed"] == 0
    fake.clear_requests()
    job = run_foreground(sync_settings, "digger", ("collection",), True, pacing=PACING)
    assert job.state == "succeeded", job.errors
    assert job.counts["collection"] == {
        "added": 0,
        "updated": 3,
        "removed": 1,
        "unchanged": 1230,
    }
    stored = _collection(db)
    assert stored[rated["instance_id"]][0] == rated["rating"]
    assert stored[moved["instance_id"]][1] == moved["folder_id"]
    assert stored[annotated["instance_id"]][2] == {"3": "new note"}
    assert stored[gone["instance_id"]][3] is not None  # kept, with a removal time
    assert sum(1 for row in stored.values() if row[3] is None) == 1233
    # profile + folders + fields + 13 pages
    assert job.requests_used == 16 == len(fake.requests)
    # Custom field values are joined with their names.
    named = db.execute(
        "SELECT field_name, value FROM account.collection_item_fields WHERE instance_id = %s",
        (annotated["instance_id"],),
    ).fetchall()
    assert named == [("Notes", "new note")]


def test_removed_item_that_returns_is_counted_as_added(fake, sync_settings, db):
    user = fake.add_user("digger", collection=150)
    run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    gone = user.collection.pop(3)
    run_foreground(sync_settings, "digger", ("collection",), True, pacing=PACING)
    user.collection.insert(3, gone)
    job = run_foreground(sync_settings, "digger", ("collection",), True, pacing=PACING)
    assert job.counts["collection"]["added"] == 1
    assert _collection(db)[gone["instance_id"]][3] is None


def test_inconsistent_walk_never_marks_removals(fake, sync_settings, db):
    user = fake.add_user("digger", collection=250)
    run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    user.collection.pop(0)  # removed before the walk: would be detected...
    original = fake.handle
    calls = {"n": 0}

    def add_during_walk(path, query, headers):
        if "/releases" in path:
            calls["n"] += 1
            if calls["n"] == 2:  # ...but the collection changes while we walk it
                fake.add_collection_items("digger", 1)
        return original(path, query, headers)

    fake.handle = add_during_walk
    job = run_foreground(sync_settings, "digger", ("collection",), True, pacing=PACING)
    assert job.state == "partial"
    assert job.counts["collection"]["removed"] == 0
    assert [e["kind"] for e in job.errors] == ["IncompleteWalk"]
    assert all(row[3] is None for row in _collection(db).values())


def test_invalid_items_are_reported_and_block_removals(fake, sync_settings, db):
    user = fake.add_user("digger", collection=120)
    run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    broken = user.collection[7]
    del broken["basic_information"]
    job = run_foreground(sync_settings, "digger", ("collection",), True, pacing=PACING)
    kinds = [e["kind"] for e in job.errors]
    assert kinds == ["InvalidItem", "IncompleteWalk"]
    assert str(broken["instance_id"]) in job.errors[0]["message"]
    stored = _collection(db)
    assert stored[broken["instance_id"]][3] is None  # nothing already stored is lost
    assert len(stored) == 120


def test_short_pages_and_new_folders_and_fields(fake, sync_settings, db):
    user = fake.add_user("digger", collection=300)
    user.short_pages = {1: 47, 2: 49}
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert job.summary()["added"] == 300
    assert job.pages_total == {"collection": 5}  # 47 + 49 + 100 + 100 + 4
    # A new folder and field appear in an incremental sync: their definitions are refetched.
    user.folders[9] = "Jazz"
    user.fields.append({"id": 4, "name": "Shelf", "type": "textarea", "position": 4})
    item = fake.add_collection_items("digger", 1)[0]
    item["folder_id"] = 9
    item["notes"] = [{"field_id": 4, "value": "B3"}]
    fake.clear_requests()
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert fake.count("/collection/folders") - fake.count("/releases") == 1
    assert fake.count("/collection/fields") == 1
    folders = dict(db.execute("SELECT folder_id, name FROM account.collection_folders"))
    assert folders[9] == "Jazz"
    assert 0 not in folders  # "All" is virtual, never stored
    fields = db.execute(
        "SELECT field_id, name, field_type FROM account.collection_fields "
        "WHERE removed_at IS NULL ORDER BY position"
    ).fetchall()
    assert fields[-1] == (4, "Shelf", "textarea") and len(fields) == len(user.fields)
    named = db.execute(
        "SELECT field_name, value FROM account.collection_item_fields WHERE instance_id = %s",
        (item["instance_id"],),
    ).fetchall()
    assert named == [("Shelf", "B3")]


def test_usernames_are_stored_in_discogs_spelling(fake, sync_settings, db):
    fake.add_user("CrateDigger", collection=5)
    first = run_foreground(sync_settings, "cratedigger", ("collection",), pacing=PACING)
    second = run_foreground(sync_settings, "CRATEDIGGER", ("collection",), pacing=PACING)
    assert first.username == second.username == "CrateDigger"
    assert second.counts["collection"]["unchanged"] == 5
    users = db.execute("SELECT DISTINCT username FROM account.collection_items").fetchall()
    assert users == [("CrateDigger",)]
    assert db.execute("SELECT username FROM account.users").fetchall() == [("CrateDigger",)]
