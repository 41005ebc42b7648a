from decimal import Decimal

import pytest

from shared.sync.service import run_foreground
from tests.sync.conftest import PACING


def _listings(db):
    return {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT listing_id, status, price, currency, sold_at, removed_at, release_id "
            "FROM account.inventory_listings WHERE username = 'seller'"
        )
    }


def test_inventory_added_changed_price_sold_and_removed(fake, sync_settings, db):
    user = fake.add_user("seller", listings=230, curr_abbr="EUR")
    job = run_foreground(sync_settings, "seller", ("inventory",), pacing=PACING)
    assert job.counts["inventory"]["added"] == 230
    first = _listings(db)
    some = user.listings[5]
    assert first[some["id"]][1] == Decimal(str(some["price"]["value"]))
    assert first[some["id"]][2] == "EUR"

    repriced, sold, gone = user.listings[10], user.listings[11], user.listings.pop(12)
    repriced["price"]["value"] = 99.99
    sold["status"] = "Sold"
    new = fake.add_listings("seller", 2)
    incremental = run_foreground(sync_settings, "seller", ("inventory",), pacing=PACING)
    assert incremental.counts["inventory"]["added"] == 2  # newest listings come first
    job = run_foreground(sync_settings, "seller", ("inventory",), True, pacing=PACING)
    assert job.counts["inventory"] == {"added": 0, "updated": 2, "removed": 1, "unchanged": 229}
    stored = _listings(db)
    assert stored[repriced["id"]][1] == Decimal("99.99")
    assert stored[sold["id"]][0] == "Sold" and stored[sold["id"]][3] is not None
    assert stored[gone["id"]][4] is not None  # kept with its removal time
    assert all(stored[listing["id"]][4] is None for listing in new)


def test_wantlist_sync_with_notes_and_removal(fake, sync_settings, db):
    user = fake.add_user("digger", wants=140)
    run_foreground(sync_settings, "digger", ("wantlist",), pacing=PACING)
    want = user.wants[0]
    want["notes"], want["rating"] = "changed my mind", 2
    gone = user.wants.pop(50)
    job = run_foreground(sync_settings, "digger", ("wantlist",), True, pacing=PACING)
    assert job.counts["wantlist"] == {"added": 0, "updated": 1, "removed": 1, "unchanged": 138}
    row = db.execute(
        "SELECT notes, rating FROM account.wantlist_items WHERE release_id = %s", (want["id"],)
    ).fetchone()
    assert row == ("changed my mind", 2)
    removed = db.execute(
        "SELECT removed_at IS NOT NULL FROM account.wantlist_items WHERE release_id = %s",
        (gone["id"],),
    ).fetchone()
    assert removed == (True,)


@pytest.mark.parametrize(
    ("currency", "amounts"),
    [
        ("USD", ("1234.56", "5678.90", "12345.67")),
        ("GBP", ("2.50", "100.25", "1999.00")),
        ("EUR", ("10.00", "1234.56", "9876.54")),
        ("JPY", ("1500", "123457", "9000000")),
        ("CAD", ("5.00", "50.00", "500.00")),
    ],
)
def test_collection_value_strings_are_parsed_per_currency(
    fake, sync_settings, db, currency, amounts
):
    fake.add_user("digger", collection=3, curr_abbr=currency)
    fake.set_value("digger", *(float(a) for a in amounts))
    job = run_foreground(sync_settings, "digger", ("value",), pacing=PACING)
    assert job.state == "succeeded", job.errors
    row = db.execute(
        "SELECT minimum, median, maximum, currency, raw FROM account.collection_values"
    ).fetchone()
    assert row[:3] == tuple(Decimal(a) for a in amounts)
    assert row[3] == currency
    assert row[4]["minimum"].startswith(("$", "£", "€", "¥", "CA$"))


def test_value_over_time_keeps_every_reading(fake, sync_settings, db):
    fake.add_user("digger", collection=3)
    fake.set_value("digger", 1, 2, 3)
    run_foreground(sync_settings, "digger", ("value",), pacing=PACING)
    fake.set_value("digger", 2, 3, 4)
    run_foreground(sync_settings, "digger", ("value",), pacing=PACING)
    medians = [
        r[0] for r in db.execute("SELECT median FROM account.collection_values ORDER BY fetched_at")
    ]
    assert medians == [Decimal("2.00"), Decimal("3.00")]


def test_referenced_release_ids_view(fake, sync_settings, db):
    user = fake.add_user("digger", collection=5, wants=4, listings=3)
    fake.set_value("digger", 1, 2, 3)
    job = run_foreground(sync_settings, "digger", pacing=PACING)
    assert job.state == "succeeded", job.errors
    gone = user.collection.pop(0)
    run_foreground(sync_settings, "digger", ("collection",), True, pacing=PACING)
    ids = {r[0] for r in db.execute("SELECT release_id FROM account.referenced_release_ids")}
    expected = {i["id"] for i in user.collection} | {w["id"] for w in user.wants}
    expected |= {listing["release"]["id"] for listing in user.listings}
    assert ids == expected
    assert gone["id"] not in ids
