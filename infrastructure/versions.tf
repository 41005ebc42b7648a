# Provider line: azurerm 5.x, chosen deliberately over 4.x.
# - This is a new configuration with no modules to stay compatible with, so it starts on the current
#   major line instead of migrating later: 4.x only gets fixes until it is retired.
# - 5.x drops the deprecated names this configuration would otherwise have to avoid by hand
#   (storage_account_name on containers/queues/tables, enable_rbac_authorization,
#   local_authentication_disabled) and has safer storage defaults (TLS1_2 only, no public nested
#   items). Every secure setting is still written out explicitly below, so checkov and reviewers
#   do not have to know provider defaults.
# - Terraform >= 1.11 is needed for write-only arguments (the Discogs token and the optional
#   PostgreSQL password never enter the state file).
terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 5.2"
    }
  }
}
