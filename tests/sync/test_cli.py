import json
import uuid

from shared.cli.__main__ import main
from shared.db.connection import connect
from shared.sync import jobs
from shared.sync.service import request_sync


def test_cli_sync_json_prints_one_summary_and_progress_on_stderr(fake, sync_settings, capsys):
    fake.add_user("digger", collection=230, wants=5)
    fake.set_value("digger", 1, 2, 3)
    assert main(["sync", "digger", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["state"] == "succeeded"
    assert summary["added"] == 235
    assert summary["requests_used"] == len(fake.requests) == 3 + 3 + 1 + 1 + 1
    assert {"updated", "removed", "unchanged", "duration_seconds", "errors"} <= set(summary)
    assert "collection" in err and "pages 3/" in err


def test_cli_full_reconcile_with_scope_prints_a_readable_summary(fake, sync_settings, capsys):
    user = fake.add_user("digger", collection=120)
    assert main(["sync", "digger", "--scope", "collection"]) == 0
    user.collection.pop()
    capsys.readouterr()
    assert main(["sync", "digger", "--scope", "collection", "--full"]) == 0
    out, _ = capsys.readouterr()
    assert "removed 1" in out and "(full)" in out


def test_cli_bad_input_and_conflicts(fake, sync_settings, capsys):
    assert main(["sync", "../etc", "--json"]) == 2
    assert "invalid Discogs username" in capsys.readouterr().err
    assert main(["sync", "digger", "--scope", "collection,records"]) == 2
    assert "unknown scope" in capsys.readouterr().err
    job, _ = request_sync(sync_settings, "digger", ("collection",), enqueue=False)
    with connect(sync_settings, autocommit=True) as conn:
        jobs.claim(conn, job.id, str(uuid.uuid4()), lease_seconds=60)
    assert main(["sync", "digger", "--scope", "collection"]) == 3
    assert "already running" in capsys.readouterr().err
    assert fake.requests == []
    fake.add_user("shy", collection=3, private=True)
    assert main(["sync", "shy", "--scope", "collection", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["state"] == "partial"


def test_ctrl_c_gives_the_job_back_and_the_next_run_resumes(
    fake, sync_settings, capsys, db, monkeypatch
):
    from shared.sync import store

    fake.add_user("digger", collection=350)
    real_apply = store.apply_page
    calls = {"n": 0}

    def interrupt_third_page(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(store, "apply_page", interrupt_third_page)
    assert main(["sync", "digger", "--scope", "collection"]) == 130
    monkeypatch.setattr(store, "apply_page", real_apply)
    assert "run the same command again" in capsys.readouterr().err
    row = db.execute("SELECT state, pages_done, lease_token FROM account.sync_jobs").fetchone()
    assert row == ("running", 2, None)
    assert main(["sync", "digger", "--scope", "collection", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["added"] == 350 and summary["pages_done"] == 4
    assert db.execute("SELECT count(*) FROM account.sync_jobs").fetchone() == (1,)
