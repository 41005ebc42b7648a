"""Terraform itself on infrastructure/: formatting, variable values and validations, and the
expressions behind names, app settings and storage names (provider-less, see terraform_cli)."""

from __future__ import annotations

import re
import subprocess

import pytest

from shared.settings import SETTING_NAMES, Settings, load_settings
from shared.storage.clients import POISON_SUFFIX
from tests.infrastructure.terraform_cli import evaluate_locals, plan_variables, terraform_binary
from tests.infrastructure.terraform_config import INFRASTRUCTURE


def test_terraform_fmt_is_clean():
    terraform = terraform_binary()
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(INFRASTRUCTURE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"run `terraform fmt -recursive infrastructure`:\n{result.stdout}"
    )


@pytest.mark.parametrize("var_file", [None, "small.tfvars", "full.tfvars"])
def test_variable_values_pass_their_types_and_validations(tmp_path, var_file):
    arguments = [f"-var-file={INFRASTRUCTURE / 'environments' / var_file}"] if var_file else []
    result = plan_variables(tmp_path, *arguments)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "assignment",
    [
        "release_scope=some",
        "instance_memory_mb=1024",
        "network_mode=hybrid",
        "postgresql_backup_retention_days=3",
        "python_version=3.13",
        "discogs_token=",
        "dump_blob_retention_days=30",
        "chunk_blob_retention_days=1",
        "postgresql_storage_mb=50000",
        'postgresql_extra_entra_admins={"id"={name="x",type="Robot"}}',
    ],
)
def test_variable_validations_reject_bad_values(tmp_path, assignment):
    result = plan_variables(tmp_path, "-var", assignment)
    assert result.returncode != 0
    assert "Invalid value for variable" in result.stdout + result.stderr


# Naming rules of the globally unique resources (Azure resource-name rules; Flex Consumption
# recommends function app names of at most 32 characters to avoid host id collisions).
NAME_RULES = {
    "storage_account_name": r"[a-z0-9]{3,24}",
    "key_vault_name": r"(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]",
    "function_app_name": r"[a-z0-9][a-z0-9-]{0,30}[a-z0-9]",
    "postgresql_server_name": r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
    "resource_group_name": r"[-\w.()]{1,89}[-\w()]",
}


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"name": "abcdefghijklmnop", "environment": "abcdefgh"},  # longest accepted inputs
        {"name": "a-b-c-d-e-f-g-h-", "environment": "x"},  # hyphens where names are cut
        {"name": "cd9", "environment": "p"},  # shortest
    ],
)
def test_generated_names_follow_the_azure_naming_rules(tmp_path, variables):
    if variables.get("name", "").endswith("-"):
        # var.name may not end with a hyphen: the validation must say so.
        result = plan_variables(tmp_path, "-var", f"name={variables['name']}")
        assert "Invalid value for variable" in result.stdout + result.stderr
        variables = {**variables, "name": variables["name"].rstrip("-")}
    names = evaluate_locals(tmp_path, "main.tf", variables)
    for local_name, rule in NAME_RULES.items():
        assert re.fullmatch(rule, names[local_name]), (local_name, names[local_name])
    assert names["private_network"] is True and names["pgbouncer_available"] is True


def test_generated_names_differ_per_environment(tmp_path):
    (tmp_path / "small").mkdir()
    (tmp_path / "full").mkdir()
    small = evaluate_locals(tmp_path / "small", "main.tf", {"environment": "small"})
    full = evaluate_locals(tmp_path / "full", "main.tf", {"environment": "full"})
    for local_name in NAME_RULES:
        assert small[local_name] != full[local_name], local_name


@pytest.mark.parametrize("var_file", [None, "small.tfvars", "full.tfvars"])
def test_app_settings_rendered_by_terraform_are_valid_settings(tmp_path, monkeypatch, var_file):
    # The settings exactly as Terraform renders them (resource attributes as placeholders) must
    # pass the app's own validation, so a deployment never starts with settings it rejects.
    rendered = evaluate_locals(tmp_path, "functionapp.tf", {}, var_file)
    app_settings = rendered["app_settings"]
    assert all(isinstance(value, str) for value in app_settings.values())
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in app_settings.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.storage_connection_string is None
    assert settings.storage_account_name == "placeholder"
    assert settings.database_auth == "entra"
    assert settings.database_url.get_secret_value().endswith("?sslmode=require")
    if var_file == "small.tfvars":
        assert settings.release_scope == "collection"
    assert rendered["queue_concurrency_settings"] == {}


def test_queue_concurrency_overrides_become_host_settings(tmp_path):
    rendered = evaluate_locals(tmp_path, "functionapp.tf", {"queue_batch_size": "4"})
    assert rendered["queue_concurrency_settings"] == {
        "AzureFunctionsJobHost__extensions__queues__batchSize": "4"
    }


def test_storage_names_evaluated_by_terraform_are_the_codes(tmp_path):
    # The code's own lists (what ensure_storage creates locally) against Terraform's evaluation.
    code = Settings.model_construct()
    rendered = evaluate_locals(tmp_path, "storage.tf", {})
    assert sorted(rendered["app_containers"]) == sorted(code.container_names)
    assert sorted(rendered["app_tables"]) == sorted(code.table_names)
    expected_queues = [name for q in code.queue_names for name in (q, q + POISON_SUFFIX)]
    assert sorted(rendered["all_queues"]) == sorted(expected_queues)
