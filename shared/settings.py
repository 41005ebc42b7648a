"""The one settings object: every value cratedigger reads from its environment.

Read and validated once per process (`get_settings`). Field names map to environment variables
(upper case) unless an alias says otherwise; `SETTING_NAMES` lists them all, so the example settings
file and the Terraform app settings can be checked against this module.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_QUEUE_NAME = re.compile(
    r"^(?!.*--)[a-z0-9][a-z0-9-]{1,54}[a-z0-9]$"
)  # ≤ 56 leaves room for "-poison"
_CONTAINER_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,62}$")
_NCRONTAB_FIELDS = 6


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names every offending setting."""


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", frozen=True, populate_by_name=True
    )

    # --- PostgreSQL -------------------------------------------------------------------------
    database_url: SecretStr = Field(description="PostgreSQL connection URL (libpq URI).")
    database_auth: Literal["password", "entra"] = Field(
        "password",
        description=(
            "How to log in to PostgreSQL. 'password': DATABASE_URL as is (local, tests). "
            "'entra' (Azure): DATABASE_URL has no password; a Microsoft Entra access token of the "
            "app's managed identity (AZURE_CLIENT_ID), scope "
            "https://ossrdbms-aad.database.windows.net/.default, is the password of each new "
            "connection."
        ),
    )
    database_connect_timeout_seconds: int = Field(10, ge=1, le=120)
    database_statement_timeout_ms: int = Field(
        15_000, ge=100, description="Statement timeout for API reads."
    )
    run_migrations_on_start: bool = Field(
        True, description="Apply pending migrations on first database use in each process."
    )
    loader_max_connections: int = Field(
        8, ge=1, le=1000, description="Upper bound on concurrent loader database connections."
    )
    finalize_parallelism: int = Field(
        0,
        ge=0,
        le=64,
        description=(
            "Database sessions that build a month's keys and indexes at once during finalize; "
            "0 derives min(LOADER_MAX_CONNECTIONS, 8) (see finalize_sessions)."
        ),
    )

    # --- Storage (host storage account; connection string locally, identity in Azure) -------
    storage_connection_string: str | None = Field(None, alias="AzureWebJobsStorage")
    storage_account_name: str | None = Field(None, alias="AzureWebJobsStorage__accountName")
    storage_client_id: str | None = Field(None, alias="AzureWebJobsStorage__clientId")
    dumps_container: str = "dumps"
    chunks_container: str = "chunks"
    fetch_queue: str = "cratedigger-fetch"
    split_queue: str = "cratedigger-split"
    load_queue: str = "cratedigger-load"
    sync_queue: str = "cratedigger-sync"
    runs_table: str = "ingestions"
    rate_limit_table: str = "ratelimit"

    # --- Schedules (NCRONTAB, 6 fields, UTC) ------------------------------------------------
    dump_schedule: str = "0 0 3 * * *"
    sync_schedule: str = "0 0 * * * *"
    reconcile_schedule: str = "0 30 4 * * *"

    # --- Discogs ----------------------------------------------------------------------------
    discogs_token: SecretStr = Field(SecretStr(""), description="Personal access token.")
    discogs_user_agent: str = "cratedigger/0.1 +https://github.com/cratedigger/cratedigger"
    discogs_api_base_url: str = "https://api.discogs.com"
    discogs_dump_base_url: str = "https://data.discogs.com"
    discogs_requests_per_minute: int = Field(50, ge=1, le=60)
    discogs_timeout_seconds: float = Field(30.0, gt=0, le=120)
    sync_users: CommaList = Field(default_factory=list)

    # --- Dump processing --------------------------------------------------------------------
    chunk_target_bytes: int = Field(32 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    release_scope: Literal["all", "collection"] = "all"
    dump_retention_months: int = Field(2, ge=0, le=120)
    quarantine_raw_max_bytes: int = Field(64 * 1024, ge=0, le=10 * 1024 * 1024)

    # --- HTTP API ---------------------------------------------------------------------------
    cors_allowed_origins: CommaList = Field(default_factory=list)
    api_auth_level: Literal["FUNCTION", "ANONYMOUS"] = Field(
        "FUNCTION",
        description="Auth level of the read endpoints (fixed when the app indexes its functions).",
    )

    # --- Local runner only (the stand-in for `func start`) ----------------------------------
    local_function_key: SecretStr | None = None
    local_admin_key: SecretStr | None = None

    _split_lists = field_validator("sync_users", "cors_allowed_origins", mode="before")(_comma_list)

    @field_validator("api_auth_level", mode="before")
    @classmethod
    def _upper_auth_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("storage_connection_string", "storage_account_name", "storage_client_id")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        # Terraform sets AzureWebJobsStorage="" on purpose when identity-based storage is used.
        return value or None

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("fetch_queue", "split_queue", "load_queue", "sync_queue")
    @classmethod
    def _queue_name(cls, value: str) -> str:
        if not _QUEUE_NAME.match(value):
            raise ValueError("queue names are 3-56 lower-case letters, digits and single hyphens")
        return value

    @field_validator("dumps_container", "chunks_container")
    @classmethod
    def _container_name(cls, value: str) -> str:
        if not _CONTAINER_NAME.match(value):
            raise ValueError("container names are 3-63 lower-case letters, digits and hyphens")
        return value

    @field_validator("runs_table", "rate_limit_table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not _TABLE_NAME.match(value):
            raise ValueError("table names are 3-63 letters and digits, starting with a letter")
        return value

    @field_validator("dump_schedule", "sync_schedule", "reconcile_schedule")
    @classmethod
    def _ncrontab(cls, value: str) -> str:
        if len(value.split()) != _NCRONTAB_FIELDS:
            raise ValueError("NCRONTAB needs 6 fields: second minute hour day month day-of-week")
        return value

    @field_validator("discogs_api_base_url", "discogs_dump_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _storage_configured(self) -> Settings:
        if not (self.storage_connection_string or self.storage_account_name):
            raise ValueError(
                "storage is not configured: set AzureWebJobsStorage (connection string) "
                "or AzureWebJobsStorage__accountName (managed identity)"
            )
        return self

    @property
    def finalize_sessions(self) -> int:
        """Sessions of the parallel finalize. Finalize runs when every loader is done, so it reuses
        the loaders' connection budget; 8 is the vCore count of the target server (one index build
        per core: more sessions only queue on the CPU)."""
        return self.finalize_parallelism or min(self.loader_max_connections, 8)

    @property
    def queue_names(self) -> list[str]:
        return [self.fetch_queue, self.split_queue, self.load_queue, self.sync_queue]

    @property
    def container_names(self) -> list[str]:
        return [self.dumps_container, self.chunks_container]

    @property
    def table_names(self) -> list[str]:
        return [self.runs_table, self.rate_limit_table]


def setting_name(field: str) -> str:
    """The environment variable that feeds a field."""
    info = Settings.model_fields[field]
    return info.alias or field.upper()


SETTING_NAMES: tuple[str, ...] = tuple(setting_name(name) for name in Settings.model_fields)
REQUIRED_SETTING_NAMES: tuple[str, ...] = tuple(
    setting_name(name) for name, info in Settings.model_fields.items() if info.is_required()
)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (plus overrides), with errors that name the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = setting_name(field) if field in Settings.model_fields else field or "settings"
            reason = "missing (required)" if error["type"] == "missing" else error["msg"]
            problems.append(f"{name}: {reason}")
        raise SettingsError("Invalid settings: " + "; ".join(problems)) from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated on first use (never at import)."""
    return load_settings()


def read_api_auth_level() -> Literal["FUNCTION", "ANONYMOUS"]:
    """API_AUTH_LEVEL alone, for the one place that must read a setting at import time.

    An HTTP trigger's auth level is part of its binding, fixed when the host indexes the app
    (importing function_app), before any request; it cannot be a `%SETTING%` expression. So this
    reads only that variable, never fails (other settings may be missing while indexing), and
    falls back to the stricter FUNCTION level on an unknown value; `get_settings()` still rejects
    that value with a clear error on the first request.
    """
    value = os.environ.get("API_AUTH_LEVEL", "FUNCTION").strip().upper()
    return "ANONYMOUS" if value == "ANONYMOUS" else "FUNCTION"


def reset_settings_cache() -> None:
    get_settings.cache_clear()
