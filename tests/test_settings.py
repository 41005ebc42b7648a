import json
from pathlib import Path

import pytest

from shared.settings import (
    REQUIRED_SETTING_NAMES,
    SETTING_NAMES,
    Settings,
    SettingsError,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = {
    "DATABASE_URL": "postgresql://u@127.0.0.1:5432/db",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
}
# Alternatives to the connection string, used only with managed identity in Azure.
IDENTITY_ONLY = {"AzureWebJobsStorage__accountName", "AzureWebJobsStorage__clientId"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _set(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_missing_database_url_names_the_setting(clean_env):
    _set(clean_env, {"AzureWebJobsStorage": "UseDevelopmentStorage=true"})
    with pytest.raises(SettingsError, match=r"DATABASE_URL: missing \(required\)"):
        load_settings()


def test_missing_storage_names_both_alternatives(clean_env):
    _set(clean_env, {"DATABASE_URL": MINIMAL["DATABASE_URL"], "AzureWebJobsStorage": ""})
    with pytest.raises(SettingsError, match="AzureWebJobsStorage__accountName"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: .*postgresql://"),
        ("LOAD_QUEUE", "Bad_Queue", "LOAD_QUEUE: .*queue names"),
        ("DUMP_SCHEDULE", "0 3 * * *", "DUMP_SCHEDULE: .*6 fields"),
        ("RELEASE_SCOPE", "some", "RELEASE_SCOPE"),
        ("DISCOGS_REQUESTS_PER_MINUTE", "61", "DISCOGS_REQUESTS_PER_MINUTE"),
        ("CHUNK_TARGET_BYTES", "ten", "CHUNK_TARGET_BYTES"),
        ("RUNS_TABLE", "runs-table", "RUNS_TABLE"),
    ],
)
def test_invalid_values_name_the_setting(clean_env, name, value, message):
    _set(clean_env, {**MINIMAL, name: value})
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_identity_based_storage_is_accepted_without_a_connection_string(clean_env):
    _set(
        clean_env,
        {
            "DATABASE_URL": MINIMAL["DATABASE_URL"],
            "AzureWebJobsStorage": "",
            "AzureWebJobsStorage__accountName": "cratedigger",
            "AzureWebJobsStorage__clientId": "abc",
        },
    )
    settings = load_settings()
    assert settings.storage_connection_string is None
    assert settings.storage_account_name == "cratedigger"


def test_lists_and_secrets(clean_env):
    _set(clean_env, {**MINIMAL, "SYNC_USERS": " alice, bob ,,", "DISCOGS_TOKEN": "s3cret"})
    settings = load_settings()
    assert settings.sync_users == ["alice", "bob"]
    assert "s3cret" not in repr(settings)
    assert settings.discogs_token.get_secret_value() == "s3cret"


def test_only_the_database_url_is_strictly_required():
    assert REQUIRED_SETTING_NAMES == ("DATABASE_URL",)


def test_example_settings_list_every_setting_with_a_valid_value(clean_env):
    values = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    missing = set(SETTING_NAMES) - IDENTITY_ONLY - set(values)
    assert not missing, f"local.settings.example.json lacks {sorted(missing)}"
    _set(clean_env, values)
    settings = load_settings()
    defaults = Settings.model_construct()
    # The example documents the defaults: it must not silently diverge from them.
    for field in ("dump_schedule", "load_queue", "dumps_container", "runs_table"):
        assert getattr(settings, field) == getattr(defaults, field)
