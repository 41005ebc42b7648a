"""`terraform fmt` and checkov over infrastructure/, as in `make test`.

checkov runs from its own virtual environment (`.local/checkov`, built by the Makefile rule
`checkov`, which `make test` depends on) because its dependencies clash with the app's pins.
Terraform providers cannot be downloaded here, so nothing calls `terraform init` or `validate`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from shared.settings import SETTING_NAMES, Settings, load_settings
from shared.storage.clients import POISON_SUFFIX
from tests.infrastructure.terraform_config import INFRASTRUCTURE, ROOT, parse_file

CHECKOV = ROOT / ".local" / "checkov" / "bin" / "checkov"
MIN_REASON_LENGTH = 40  # a skip must explain itself, not just name the check


def test_terraform_fmt_is_clean():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed: `terraform fmt -check -recursive` not run")
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


def _terraform_plan_of_variables(tmp_path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`terraform plan` of a module holding only variables.tf: type-checks values and runs every
    validation rule without providers (which cannot be downloaded here) or a cloud account."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed: variable values not type-checked")
    shutil.copy(INFRASTRUCTURE / "variables.tf", tmp_path / "variables.tf")
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "TF_VAR_discogs_token": "example-token",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [terraform, "plan", "-refresh=false", "-lock=false", "-no-color", *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.mark.parametrize("var_file", [None, "small.tfvars", "full.tfvars"])
def test_variable_values_pass_their_types_and_validations(tmp_path, var_file):
    arguments = [f"-var-file={INFRASTRUCTURE / 'environments' / var_file}"] if var_file else []
    result = _terraform_plan_of_variables(tmp_path, *arguments)
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
    result = _terraform_plan_of_variables(tmp_path, "-var", assignment)
    assert result.returncode != 0
    assert "Invalid value for variable" in result.stdout + result.stderr


def _run_checkov(var_file: str | None) -> dict:
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make checkov` (make test does it for you)"
    command = [
        str(CHECKOV),
        "--directory",
        str(INFRASTRUCTURE),
        "--framework",
        "terraform",
        "--skip-download",  # no network: never ask the Prisma Cloud API for metadata
        "--output",
        "json",
    ]
    if var_file:
        command += ["--var-file", str(INFRASTRUCTURE / "environments" / var_file)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLOR": "1"}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=240, check=False, env=env
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    assert isinstance(report, dict) and "results" in report, f"unexpected report: {report}"
    return report


@pytest.mark.parametrize("var_file", [None, "small.tfvars", "full.tfvars"])
def test_checkov_finds_no_failed_check(var_file):
    report = _run_checkov(var_file)
    results = report["results"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in results["failed_checks"]
    ]
    assert not failed, "checkov failures:\n" + "\n".join(failed)
    # checkov really looked at the configuration (an unparsable file yields no checks at all).
    assert len(results["passed_checks"]) >= 20
    for check in results["skipped_checks"]:
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) >= MIN_REASON_LENGTH, (
            f"{check['check_id']} on {check['resource']} is skipped without a real reason"
        )


def test_checkov_is_the_pinned_version():
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make checkov` (make test does it for you)"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pinned = next(
        line.split(":=", 1)[1].strip()
        for line in makefile.splitlines()
        if line.startswith("CHECKOV_VERSION")
    )
    version = subprocess.run(
        [str(CHECKOV), "--version"], capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    assert version == pinned


# Naming rules of the globally unique resources (Azure resource-name rules; Flex Consumption
# recommends function app names of at most 32 characters to avoid host id collisions).
NAME_RULES = {
    "storage_account_name": r"[a-z0-9]{3,24}",
    "key_vault_name": r"(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]",
    "function_app_name": r"[a-z0-9][a-z0-9-]{0,30}[a-z0-9]",
    "postgresql_server_name": r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
    "resource_group_name": r"[-\w.()]{1,89}[-\w()]",
}


PLACEHOLDER = '"placeholder"'
_RESOURCE_ATTRIBUTE = re.compile(
    r"(?<![\w.\"])(?:data\.)?azurerm_[a-z0-9_]+\.[a-z0-9_]+(?:\.[a-z0-9_]+)*"
)


def _hcl_value(expression: object) -> str:
    """An hcl2 value written back as HCL (interpolations are kept by hcl2 as `${...}` text)."""
    if isinstance(expression, str):
        return f'"{expression}"' if "${" in expression else json.dumps(expression)
    if isinstance(expression, dict):
        items = ", ".join(f"{json.dumps(k)} = {_hcl_value(v)}" for k, v in expression.items())
        return "{" + items + "}"
    return json.dumps(expression)


def _evaluate_locals(
    tmp_path, file_name: str, variables: dict[str, str], var_file: str | None = None
) -> dict[str, object]:
    """Evaluate the locals of one .tf file with a provider-less `terraform apply`.

    Resource attributes (known only after a real apply) become the string "placeholder" and the
    subscription id a fixed UUID, so the expressions and the variables around them are
    evaluated by Terraform itself.
    """
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed: locals not evaluated")
    file_locals = parse_file(INFRASTRUCTURE / file_name)["locals"][0]
    lines = ["locals {"]
    for name, expression in file_locals.items():
        text = _hcl_value(expression).replace(
            "data.azurerm_client_config.current.subscription_id",
            '"00000000-0000-0000-0000-000000000000"',
        )
        text = _RESOURCE_ATTRIBUTE.sub(PLACEHOLDER, text)
        lines.append(f"  {name} = {text}")
    lines.append("}")
    lines += [f'output "{name}" {{\n  value = local.{name}\n}}' for name in file_locals]
    (tmp_path / "main.tf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(INFRASTRUCTURE / "variables.tf", tmp_path / "variables.tf")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "NO_COLOR": "1"}
    env["TF_VAR_discogs_token"] = "example-token"
    arguments = [
        argument for key, value in variables.items() for argument in ("-var", f"{key}={value}")
    ]
    if var_file:
        arguments.append(f"-var-file={INFRASTRUCTURE / 'environments' / var_file}")
    apply = subprocess.run(
        [terraform, "apply", "-auto-approve", "-lock=false", "-no-color", *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert apply.returncode == 0, apply.stdout + apply.stderr
    output = subprocess.run(
        [terraform, "output", "-json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return {name: item["value"] for name, item in json.loads(output.stdout).items()}


def _evaluate_main_locals(tmp_path, variables: dict[str, str]) -> dict[str, object]:
    return _evaluate_locals(tmp_path, "main.tf", variables)


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
        result = _terraform_plan_of_variables(tmp_path, "-var", f"name={variables['name']}")
        assert "Invalid value for variable" in result.stdout + result.stderr
        variables = {**variables, "name": variables["name"].rstrip("-")}
    names = _evaluate_main_locals(tmp_path, variables)
    for local_name, rule in NAME_RULES.items():
        assert re.fullmatch(rule, names[local_name]), (local_name, names[local_name])
    assert names["private_network"] is True and names["pgbouncer_available"] is True


def test_generated_names_differ_per_environment(tmp_path):
    (tmp_path / "small").mkdir()
    (tmp_path / "full").mkdir()
    small = _evaluate_main_locals(tmp_path / "small", {"environment": "small"})
    full = _evaluate_main_locals(tmp_path / "full", {"environment": "full"})
    for local_name in NAME_RULES:
        assert small[local_name] != full[local_name], local_name


@pytest.mark.parametrize("var_file", [None, "small.tfvars", "full.tfvars"])
def test_app_settings_rendered_by_terraform_are_valid_settings(tmp_path, monkeypatch, var_file):
    # The settings exactly as Terraform renders them (resource attributes as placeholders) must
    # pass the app's own validation, so a deployment never starts with settings it rejects.
    rendered = _evaluate_locals(tmp_path, "functionapp.tf", {}, var_file)
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
    rendered = _evaluate_locals(tmp_path, "functionapp.tf", {"queue_batch_size": "4"})
    assert rendered["queue_concurrency_settings"] == {
        "AzureFunctionsJobHost__extensions__queues__batchSize": "4"
    }


def test_storage_names_evaluated_by_terraform_are_the_codes(tmp_path):
    # The code's own lists (what ensure_storage creates locally) against Terraform's evaluation.
    code = Settings.model_construct()
    rendered = _evaluate_locals(tmp_path, "storage.tf", {})
    assert sorted(rendered["app_containers"]) == sorted(code.container_names)
    assert sorted(rendered["app_tables"]) == sorted(code.table_names)
    expected_queues = [name for q in code.queue_names for name in (q, q + POISON_SUFFIX)]
    assert sorted(rendered["all_queues"]) == sorted(expected_queues)
