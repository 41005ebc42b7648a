"""The Terraform configuration agrees with the code: settings, storage names, identity, roles, TLS.

Everything the code side contributes is derived from `shared.settings` (and the migrations) at test
time, so a new setting, queue, container, table, secret or extension without its Terraform
counterpart fails here.
"""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import pytest
from pydantic import SecretStr

from shared.settings import SETTING_NAMES, Settings, setting_name
from tests.infrastructure.terraform_config import (
    ENVIRONMENTS,
    INFRASTRUCTURE,
    ROOT,
    TerraformConfig,
    load_config,
    parse_file,
    references,
    single_block,
    var_reference,
)

# Settings only the local runner (the stand-in for `func start`) reads; in Azure the Functions host
# checks function keys itself, so these must NOT be configured there.
LOCAL_ONLY_SETTINGS = {"LOCAL_FUNCTION_KEY", "LOCAL_ADMIN_KEY"}
# Host settings the app's Settings object does not read but identity-based storage needs.
HOST_STORAGE_SETTINGS = {"AzureWebJobsStorage__credential"}
# Settings that moved into functionAppConfig on Flex Consumption and must not be app settings.
FLEX_FORBIDDEN = (
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
)
FIELD_BY_SETTING = {setting_name(name): name for name in Settings.model_fields}
APP_IDENTITY = "azurerm_user_assigned_identity.app"
STORAGE_ACCOUNT = "azurerm_storage_account.main"


@pytest.fixture(scope="module")
def tf() -> TerraformConfig:
    return load_config()


@pytest.fixture(scope="module")
def app_settings(tf: TerraformConfig) -> dict[str, Any]:
    settings = tf.locals["app_settings"]
    assert isinstance(settings, dict) and settings, "local.app_settings must be a literal map"
    return settings


@pytest.fixture(scope="module")
def function_app(tf: TerraformConfig) -> dict[str, Any]:
    return tf.resource("azurerm_function_app_flex_consumption", "main")


def _fields_ending(suffix: str) -> list[str]:
    return [name for name in Settings.model_fields if name.endswith(suffix)]


def _code_default(field: str) -> object:
    value = Settings.model_fields[field].get_default(call_default_factory=True)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _same_value(terraform_default: object, code_default: object) -> bool:
    if isinstance(code_default, bool) or isinstance(terraform_default, bool):
        return terraform_default is code_default
    if isinstance(code_default, int | float) and isinstance(terraform_default, int | float):
        return float(terraform_default) == float(code_default)
    return terraform_default == code_default


# --- every setting of the code is set on the function app --------------------------------------


def test_local_only_settings_still_exist_in_the_code():
    # Guards the exclusion list: a renamed local-only setting must not hide a missing one.
    assert set(SETTING_NAMES) >= LOCAL_ONLY_SETTINGS


def test_every_setting_of_the_settings_object_is_an_app_setting(app_settings):
    missing = set(SETTING_NAMES) - LOCAL_ONLY_SETTINGS - set(app_settings)
    assert not missing, f"set these in infrastructure/functionapp.tf local.app_settings: {missing}"


def test_app_settings_name_only_real_settings(app_settings):
    unknown = set(app_settings) - set(SETTING_NAMES) - HOST_STORAGE_SETTINGS
    assert not unknown, f"app settings the code never reads (typo?): {sorted(unknown)}"
    assert not set(app_settings) & LOCAL_ONLY_SETTINGS, "local-runner keys must not reach Azure"


def test_function_app_receives_the_app_settings(function_app, tf):
    merged = str(function_app["app_settings"])
    assert references(merged, "local.app_settings")
    assert references(merged, "local.platform_settings")
    forbidden = [
        key
        for source in ("app_settings", "platform_settings")
        for key in tf.locals[source]
        if key in FLEX_FORBIDDEN or key.startswith("WEBSITE_CONTENT")
    ]
    assert not forbidden, f"Flex Consumption rejects these as app settings: {forbidden}"


def test_variable_defaults_equal_the_code_defaults(tf, app_settings):
    compared = set()
    for setting, expression in app_settings.items():
        variable = var_reference(expression)
        field = FIELD_BY_SETTING.get(setting)
        if variable is None or field is None:
            continue
        assert variable in tf.variables, f"{setting} uses undeclared var.{variable}"
        declared = tf.variables[variable]
        if "default" not in declared:
            continue
        code_default = _code_default(field)
        assert _same_value(declared["default"], code_default), (
            f"var.{variable} defaults to {declared['default']!r}, the code to {code_default!r}"
        )
        compared.add(setting)
    # The names and schedules at least must be compared, or this test proves nothing.
    names_and_schedules = {
        setting_name(f)
        for suffix in ("_queue", "_container", "_table", "_schedule")
        for f in _fields_ending(suffix)
    }
    assert names_and_schedules <= compared, names_and_schedules - compared


# --- every queue, container and table the code uses is provisioned -----------------------------


@pytest.mark.parametrize(
    ("suffix", "local_name", "resource_type"),
    [
        ("_container", "app_containers", "azurerm_storage_container"),
        ("_queue", "app_queues", "azurerm_storage_queue"),
        ("_table", "app_tables", "azurerm_storage_table"),
    ],
)
def test_every_storage_name_of_the_code_is_provisioned(
    tf, app_settings, suffix, local_name, resource_type
):
    fields = _fields_ending(suffix)
    assert fields, f"no *{suffix} settings found: did the naming convention change?"
    defaults = Settings.model_construct()
    code_names = {"_container": defaults.container_names, "_queue": defaults.queue_names}.get(
        suffix, defaults.table_names
    )
    # The settings' own list of names must be exactly these fields (the code provisions them
    # locally through ensure_storage from that list).
    assert sorted(code_names) == sorted(_code_default(f) for f in fields)

    provisioned = tf.locals[local_name]
    for field in fields:
        variable = var_reference(app_settings[setting_name(field)])
        assert variable, f"{setting_name(field)} must come from a variable"
        assert f"${{var.{variable}}}" in provisioned, f"var.{variable} is not in local.{local_name}"

    source = "all_queues" if suffix == "_queue" else local_name
    resources = tf.resources_of(resource_type)
    assert any(references(body.get("for_each"), f"local.{source}") for body in resources.values())


def test_every_queue_has_its_poison_queue(tf):
    all_queues = tf.locals["all_queues"]
    assert references(all_queues, "local.app_queues")
    assert "-poison" in all_queues


def test_containers_are_private_and_the_deployment_container_exists(tf, function_app):
    containers = tf.resources_of("azurerm_storage_container")
    assert containers, "no containers"
    for name, body in containers.items():
        assert body.get("container_access_type") == "private", name
    endpoint = function_app["storage_container_endpoint"]
    assert "azurerm_storage_container.deployment.name" in endpoint


def test_lifecycle_rules_delete_old_dumps_and_chunks(tf):
    policy = tf.resource("azurerm_storage_management_policy", "main")
    prefixes = {
        prefix
        for rule in policy["rule"]
        for prefix in single_block(rule["filters"])["prefix_match"]
        if single_block(single_block(rule["actions"])["base_blob"]).get(
            "delete_after_days_since_modification_greater_than"
        )
    }
    assert "${var.dumps_container}/" in prefixes
    assert "${var.chunks_container}/" in prefixes


# --- identity-based storage, no keys -------------------------------------------------------------


def test_host_storage_is_identity_based(app_settings, function_app):
    assert app_settings["AzureWebJobsStorage"] == "", "must be an explicit empty override"
    assert app_settings["AzureWebJobsStorage__accountName"] == f"${{{STORAGE_ACCOUNT}.name}}"
    assert app_settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert app_settings["AzureWebJobsStorage__clientId"] == f"${{{APP_IDENTITY}.client_id}}"

    identity = single_block(function_app["identity"])
    assert identity["type"] == "UserAssigned"
    assert f"${{{APP_IDENTITY}.id}}" in identity["identity_ids"]
    assert function_app["storage_authentication_type"] == "UserAssignedIdentity"
    assert function_app["storage_user_assigned_identity_id"] == f"${{{APP_IDENTITY}.id}}"
    assert function_app["key_vault_reference_identity_id"] == f"${{{APP_IDENTITY}.id}}"


_KEY_MARKERS = (
    "access_key",
    "connection_string",
    "AccountKey",
    "SharedAccessSignature",
    "sas",
)


def test_no_storage_key_anywhere_in_app_settings(tf, function_app):
    for source in ("app_settings", "platform_settings", "queue_concurrency_settings"):
        values = tf.locals[source]
        # Literal maps are checked value by value; an expression (merge(...)) as a whole.
        items = values.items() if isinstance(values, dict) else [(source, values)]
        for key, value in items:
            lowered = str(value).lower()
            assert not any(marker.lower() in lowered for marker in _KEY_MARKERS), (key, value)
    for argument in (
        "storage_access_key",
        "function_app_storage_account_access_key",
        "function_app_storage_account_name",
    ):
        assert argument not in function_app, f"{argument} would put a key in the app settings"
    storage = tf.resource("azurerm_storage_account", "main")
    assert storage["shared_access_key_enabled"] is False
    assert storage["default_to_oauth_authentication"] is True
    assert storage["allow_nested_items_to_be_public"] is False
    assert storage["min_tls_version"] == "TLS1_2"
    assert tf.providers["azurerm"]["storage_use_azuread"] is True


def test_secrets_are_key_vault_references(app_settings):
    # Every secret setting except DATABASE_URL (password-less in Azure, checked below) must come
    # from Key Vault, never as a value in the app settings.
    for name, info in Settings.model_fields.items():
        setting = setting_name(name)
        if setting in LOCAL_ONLY_SETTINGS or name == "database_url":
            continue
        if SecretStr in typing.get_args(info.annotation) or info.annotation is SecretStr:
            assert str(app_settings[setting]).startswith("@Microsoft.KeyVault(SecretUri="), setting


def test_key_vault_uses_rbac_and_purge_protection(tf):
    vault = tf.resource("azurerm_key_vault", "main")
    assert vault["rbac_authorization_enabled"] is True
    assert vault["purge_protection_enabled"] is True
    secret = tf.resource("azurerm_key_vault_secret", "discogs_token")
    assert "value" not in secret, "use value_wo: the token must not be stored in the state"
    assert secret["value_wo"] == "${var.discogs_token}"
    token = tf.variables["discogs_token"]
    assert token["sensitive"] is True and token["ephemeral"] is True


# --- role assignments cover each data plane the code touches -------------------------------------


def _app_role_assignments(tf: TerraformConfig) -> list[tuple[str, str]]:
    """(role, scope) of every role assignment to the app's identity, for_each expanded."""
    found = []
    for body in tf.resources_of("azurerm_role_assignment").values():
        if body.get("principal_id") != f"${{{APP_IDENTITY}.principal_id}}":
            continue
        role = body["role_definition_name"]
        if role == "${each.value}":
            source = re.fullmatch(r"\$\{toset\(local\.(\w+)\)\}", body["for_each"])
            assert source, f"cannot expand for_each {body['for_each']!r}"
            found += [(r, body["scope"]) for r in tf.locals[source[1]]]
        else:
            found.append((role, body["scope"]))
    return found


def test_role_assignments_cover_each_data_plane_the_code_touches(tf):
    assignments = _app_role_assignments(tf)
    account = f"${{{STORAGE_ACCOUNT}.id}}"
    # Data planes derived from the settings: containers -> blob, queues -> queue, tables -> table.
    # The Functions host itself needs Blob Data Owner (deployment package, timer leases).
    needed = {
        "_container": {"Storage Blob Data Owner"},
        "_queue": {"Storage Queue Data Contributor"},
        "_table": {"Storage Table Data Contributor"},
    }
    for suffix, roles in needed.items():
        if _fields_ending(suffix):
            assert {(role, account) for role in roles} <= set(assignments), (suffix, assignments)
    secret_scope = "${azurerm_key_vault_secret.discogs_token.resource_versionless_id}"
    assert ("Key Vault Secrets User", secret_scope) in assignments
    assert (
        "Monitoring Metrics Publisher",
        "${azurerm_application_insights.main.id}",
    ) in assignments


def test_app_gets_no_broad_roles(tf):
    for role, scope in _app_role_assignments(tf):
        assert role not in {"Owner", "Contributor", "Storage Account Contributor"}, role
        assert "resource_group" not in scope and "subscription" not in scope, scope


def test_application_insights_is_keyless(tf, function_app):
    insights = tf.resource("azurerm_application_insights", "main")
    assert insights["local_authentication_enabled"] is False
    auth = tf.locals["platform_settings"]["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert auth == f"ClientId=${{{APP_IDENTITY}.client_id}};Authorization=AAD"
    site = single_block(function_app["site_config"])
    assert "connection_string" in site["application_insights_connection_string"]


# --- function app --------------------------------------------------------------------------------


def test_function_app_is_https_only_python_311_on_flex(tf, function_app):
    assert function_app["https_only"] is True
    assert function_app["runtime_name"] == "python"
    assert function_app["runtime_version"] == "${var.python_version}"
    assert tf.variables["python_version"]["default"] == "3.11"
    assert function_app["webdeploy_publish_basic_authentication_enabled"] is False
    assert single_block(function_app["site_config"])["minimum_tls_version"] == "1.2"
    assert tf.resource("azurerm_service_plan", "main")["sku_name"] == "FC1"
    assert function_app["instance_memory_in_mb"] == "${var.instance_memory_mb}"
    assert function_app["maximum_instance_count"] == "${var.maximum_instance_count}"


# --- PostgreSQL ----------------------------------------------------------------------------------


def _configuration(tf: TerraformConfig, parameter: str) -> str:
    for body in tf.resources_of("azurerm_postgresql_flexible_server_configuration").values():
        if body["name"] == parameter:
            return body["value"]
    raise AssertionError(f"server parameter {parameter} is not configured")


def test_postgresql_requires_tls(tf, app_settings):
    assert _configuration(tf, "require_secure_transport") == "on"
    assert _configuration(tf, "ssl_min_protocol_version") == "TLSv1.2"
    assert app_settings["DATABASE_URL"].endswith("?sslmode=require")


def test_postgresql_allow_lists_every_extension_the_migrations_create(tf):
    migrations = sorted((ROOT / "shared" / "db" / "migrations").glob("*.sql"))
    created = {
        name.upper()
        for path in migrations
        for name in re.findall(
            r"CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)",
            path.read_text(encoding="utf-8"),
            flags=re.IGNORECASE,
        )
    }
    assert created, "expected the migrations to create extensions (pg_trgm, unaccent)"
    allowed = set(_configuration(tf, "azure.extensions").split(","))
    assert created <= allowed, f"allow-list {created - allowed} in azure.extensions"


def test_app_logs_in_to_postgresql_with_its_entra_identity(tf, app_settings):
    server = tf.resource("azurerm_postgresql_flexible_server", "main")
    auth = single_block(server["authentication"])
    assert auth["active_directory_auth_enabled"] is True
    assert auth["password_auth_enabled"] == "${var.postgresql_password_auth_enabled}"
    assert tf.variables["postgresql_password_auth_enabled"]["default"] is False

    admin = tf.resource("azurerm_postgresql_flexible_server_active_directory_administrator", "app")
    assert admin["object_id"] == f"${{{APP_IDENTITY}.principal_id}}"
    assert admin["principal_name"] == f"${{{APP_IDENTITY}.name}}"
    assert admin["principal_type"] == "ServicePrincipal"

    url = app_settings["DATABASE_URL"]
    userinfo = url.split("://", 1)[1].split("@", 1)[0]
    assert userinfo == f"${{{APP_IDENTITY}.name}}", "no password in DATABASE_URL"
    assert app_settings["DATABASE_AUTH"] == "entra"
    assert "entra" in typing.get_args(Settings.model_fields["database_auth"].annotation)


def test_postgresql_network_is_private_or_firewalled(tf):
    server = tf.resource("azurerm_postgresql_flexible_server", "main")
    assert server["public_network_access_enabled"] == "${!local.private_network}"
    assert tf.variables["network_mode"]["default"] == "private"
    rules = tf.resources_of("azurerm_postgresql_flexible_server_firewall_rule")
    for body in rules.values():
        assert references(body.get("for_each", body.get("count")), "local.private_network")


def test_postgresql_version_sku_backups_and_pgbouncer(tf):
    variables = tf.variables
    assert variables["postgresql_version"]["default"] == "16"
    assert variables["postgresql_sku"]["default"].startswith("GP_")
    assert "B_Standard_B1ms" in variables["postgresql_sku"]["description"]
    server = tf.resource("azurerm_postgresql_flexible_server", "main")
    assert server["backup_retention_days"] == "${var.postgresql_backup_retention_days}"
    pgbouncer = tf.resource("azurerm_postgresql_flexible_server_configuration", "pgbouncer")
    assert pgbouncer["name"] == "pgbouncer.enabled" and pgbouncer["value"] == "true"
    assert references(pgbouncer["count"], "local.pgbouncer_available")


# --- provider, environments, backend -------------------------------------------------------------


def test_azurerm_provider_is_pinned(tf):
    providers = {
        name: spec
        for block in tf.terraform
        for required in block.get("required_providers", [])
        for name, spec in required.items()
    }
    assert providers["azurerm"]["source"] == "hashicorp/azurerm"
    assert re.fullmatch(r"~> 5\.\d+", providers["azurerm"]["version"])


@pytest.mark.parametrize("environment", ["small", "full"])
def test_environment_files_set_only_declared_variables(tf, environment):
    values = parse_file(ENVIRONMENTS / f"{environment}.tfvars")
    unknown = set(values) - set(tf.variables)
    assert not unknown, f"{environment}.tfvars sets undeclared variables {unknown}"
    assert "discogs_token" not in values, "the token belongs in TF_VAR_discogs_token, not a file"


def test_small_and_full_examples_differ_as_documented():
    small = parse_file(ENVIRONMENTS / "small.tfvars")
    full = parse_file(ENVIRONMENTS / "full.tfvars")
    assert small["release_scope"] == "collection" and small["postgresql_sku"].startswith("B_")
    assert full["release_scope"] == "all" and full["postgresql_sku"].startswith("GP_")


def test_remote_state_backend_example_parses():
    example = parse_file(INFRASTRUCTURE / "backend.tf.example")
    backend = single_block(example["terraform"])["backend"]
    azurerm = single_block(backend)["azurerm"]
    assert azurerm["use_azuread_auth"] is True


# --- references resolve (what `terraform validate` would catch, without providers) --------------


def _all_expressions() -> str:
    return "\n".join(json.dumps(parse_file(path)) for path in sorted(INFRASTRUCTURE.glob("*.tf")))


def test_every_reference_resolves_and_every_variable_is_used(tf):
    text = _all_expressions()
    variables = set(re.findall(r"\bvar\.([a-z0-9_]+)", text))
    assert variables <= set(tf.variables), f"undeclared variables: {variables - set(tf.variables)}"
    assert set(tf.variables) <= variables, f"unused variables: {set(tf.variables) - variables}"
    locals_used = set(re.findall(r"\blocal\.([a-z0-9_]+)", text))
    assert locals_used <= set(tf.locals), f"undeclared locals: {locals_used - set(tf.locals)}"
    assert set(tf.locals) <= locals_used, f"unused locals: {set(tf.locals) - locals_used}"
    resources = set(re.findall(r"(?<![\w.])(azurerm_[a-z0-9_]+)\.([a-z0-9_]+)", text))
    undeclared = resources - set(tf.resources)
    assert not undeclared, f"references to undeclared resources: {sorted(undeclared)}"
    data_sources = set(re.findall(r"\bdata\.(azurerm_[a-z0-9_]+)\.([a-z0-9_]+)", text))
    assert data_sources <= tf.data_sources, data_sources - tf.data_sources
