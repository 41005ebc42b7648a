"""Run the Terraform CLI on parts of infrastructure/ without providers or a cloud account.

Providers cannot be downloaded here (and `terraform init` is never run), but a module made only of
variables and locals needs none: `terraform plan`/`apply` on such a module type-checks values, runs
every validation rule and evaluates expressions exactly as Terraform would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infrastructure.terraform_config import INFRASTRUCTURE, parse_file


def terraform_binary() -> str:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed: Terraform CLI checks not run")
    return terraform


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "NO_COLOR": "1",
        "TF_VAR_discogs_token": "example-token",
    }


def plan_variables(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`terraform plan` of a module holding only variables.tf: type-checks values and runs every
    validation rule without providers (which cannot be downloaded here) or a cloud account."""
    terraform = terraform_binary()
    shutil.copy(INFRASTRUCTURE / "variables.tf", tmp_path / "variables.tf")
    env = _environment()
    return subprocess.run(
        [terraform, "plan", "-refresh=false", "-lock=false", "-no-color", *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


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


def evaluate_locals(
    tmp_path: Path, file_name: str, variables: dict[str, str], var_file: str | None = None
) -> dict[str, object]:
    """Evaluate the locals of one .tf file with a provider-less `terraform apply`.

    Resource attributes (known only after a real apply) become the string "placeholder" and the
    subscription id a fixed UUID, so the expressions and the variables around them are
    evaluated by Terraform itself.
    """
    terraform = terraform_binary()
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
    env = _environment()
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
