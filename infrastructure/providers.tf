provider "azurerm" {
  # Shared-key access is disabled on the storage account, so every data-plane call the provider
  # makes has to use Microsoft Entra ID.
  storage_use_azuread = true

  # 5.x registers no resource providers by default; register exactly the ones used here.
  resource_providers_to_register = [
    "Microsoft.App",
    "Microsoft.DBforPostgreSQL",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.ManagedIdentity",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.Storage",
    "Microsoft.Web",
  ]

  features {
    key_vault {
      # Purge protection is on: a destroyed vault stays recoverable for its retention period.
      purge_soft_delete_on_destroy    = false
      recover_soft_deleted_key_vaults = true
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
    postgresql_flexible_server {
      # Static parameters need a restart to take effect; let Terraform do it during apply.
      restart_server_on_configuration_value_change = true
    }
  }
}

data "azurerm_client_config" "current" {}
