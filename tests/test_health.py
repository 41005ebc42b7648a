import httpx
import pytest

from shared.db.migrations import latest_version
from shared.health import check_health, redact
from shared.settings import get_settings, reset_settings_cache
from tests.support.funchost import LocalFunctionHost


def test_all_parts_ok_with_the_migration_version(settings):
    report = check_health(settings)
    assert report.status == "ok", report
    assert report.checks["database"].detail == {"migration_version": latest_version()}


def test_unreachable_database_is_503_naming_the_part_and_hiding_secrets(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://admin:hunter2@127.0.0.1:9/nowhere")
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_SECONDS", "2")
    reset_settings_cache()
    settings = get_settings()
    from function_app import app

    try:
        with LocalFunctionHost(app, settings, queues=False, timers=False) as host:
            response = httpx.get(f"{host.base_url}/api/health", timeout=30)
    finally:
        reset_settings_cache()
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "fail"
    assert report["checks"]["database"]["status"] == "fail"
    assert {report["checks"][p]["status"] for p in ("blob", "queue", "table")} == {"ok"}
    assert "hunter2" not in response.text
    assert "devstoreaccount1" not in response.text
    assert "AccountKey" not in response.text


def test_missing_queue_is_reported_as_the_failing_part(settings):
    from shared.storage import clients

    clients.queue_service(settings).delete_queue(settings.load_queue)
    report = check_health(settings)
    assert report.failing == ["queue"]
    assert (
        settings.load_queue in report.checks["queue"].error
        or "NotFound" in report.checks["queue"].error
    )


@pytest.mark.parametrize(
    "message",
    [
        "connection to postgresql://u:pw@host:5432/db failed",
        "AccountName=x;AccountKey=abc123==;EndpointSuffix=core",
        "GET https://acct.blob.core.windows.net/c?sig=abcd&se=1 failed",
        "password=hunter2 host=db",
    ],
)
def test_redaction_removes_secrets(message):
    cleaned = redact(message)
    for secret in ("pw@", "abc123", "abcd", "hunter2"):
        assert secret not in cleaned
