"""Read the Terraform configuration in infrastructure/ with python-hcl2 (no provider, no cloud).

Only what the checks need: resources, locals, variables and tfvars files as plain Python values,
string quotes stripped, interpolations kept as `${...}` text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
INFRASTRUCTURE = ROOT / "infrastructure"
ENVIRONMENTS = INFRASTRUCTURE / "environments"

_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
_VAR_REFERENCE = re.compile(r"\bvar\.([a-z0-9_]+)")


def parse_file(path: Path) -> dict[str, Any]:
    return hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=_OPTIONS)


@dataclass
class TerraformConfig:
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_sources: set[tuple[str, str]] = field(default_factory=set)

    def resource(self, resource_type: str, name: str) -> dict[str, Any]:
        assert (resource_type, name) in self.resources, f"{resource_type}.{name} is not declared"
        return self.resources[(resource_type, name)]

    def resources_of(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            name: body for (kind, name), body in self.resources.items() if kind == resource_type
        }


def load_config(directory: Path = INFRASTRUCTURE) -> TerraformConfig:
    config = TerraformConfig()
    files = sorted(directory.glob("*.tf"))
    assert files, f"no .tf files in {directory}"
    for path in files:
        parsed = parse_file(path)
        for block in parsed.get("resource", []):
            for resource_type, named in block.items():
                for name, body in named.items():
                    key = (resource_type, name)
                    assert key not in config.resources, f"{resource_type}.{name} declared twice"
                    config.resources[key] = body
        for block in parsed.get("locals", []):
            for name, value in block.items():
                assert name not in config.locals, f"local.{name} declared twice"
                config.locals[name] = value
        for block in parsed.get("variable", []):
            config.variables.update(block)
        config.terraform.extend(parsed.get("terraform", []))
        for block in parsed.get("provider", []):
            config.providers.update(block)
        for block in parsed.get("data", []):
            config.data_sources |= {(kind, name) for kind, named in block.items() for name in named}
    return config


def var_reference(expression: object) -> str | None:
    """The variable an app-setting value is built from: `${var.x}`, `${tostring(var.x)}`, ..."""
    if not isinstance(expression, str):
        return None
    names = set(_VAR_REFERENCE.findall(expression))
    return names.pop() if len(names) == 1 else None


def references(expression: object, name: str) -> bool:
    """Whether an expression mentions `name` (e.g. "var.load_queue") as a whole identifier."""
    return bool(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", str(expression)))


def single_block(value: object) -> dict[str, Any]:
    """A nested block as one dict (hcl2 gives a list of blocks)."""
    if isinstance(value, list):
        assert len(value) == 1, f"expected one block, got {len(value)}"
        value = value[0]
    assert isinstance(value, dict), f"expected a block, got {value!r}"
    return value
