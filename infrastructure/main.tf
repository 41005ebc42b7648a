# Resource group, names, the app's managed identity and monitoring.

locals {
  base = "${var.name}-${var.environment}"
  # Globally unique names get a short suffix that is stable per subscription + base name, so no
  # random provider (and no extra state) is needed.
  suffix  = substr(sha1("${data.azurerm_client_config.current.subscription_id}/${local.base}"), 0, 6)
  compact = replace(local.base, "-", "")

  resource_group_name    = "rg-${local.base}"
  identity_name          = "id-${local.base}"
  storage_account_name   = "st${substr(local.compact, 0, 16)}${local.suffix}"
  key_vault_name         = "kv-${substr(local.compact, 0, 14)}-${local.suffix}"
  function_app_name      = "func-${trimsuffix(substr(local.base, 0, 20), "-")}-${local.suffix}"
  service_plan_name      = "asp-${local.base}"
  postgresql_server_name = "psql-${local.base}-${local.suffix}"
  database_name          = "cratedigger"

  private_network = var.network_mode == "private"
  # Built-in PgBouncer exists on General Purpose and Memory Optimized, not on Burstable.
  pgbouncer_available = !startswith(var.postgresql_sku, "B_")

  tags = merge({ app = "cratedigger", environment = var.environment, managed-by = "terraform" }, var.tags)
}

resource "azurerm_resource_group" "main" {
  name     = local.resource_group_name
  location = var.location
  tags     = local.tags
}

# One user-assigned identity for everything the app does: host storage, its own blobs, queues and
# tables, the Key Vault reference, telemetry, and PostgreSQL login. User-assigned (not system-
# assigned) so role assignments and the database role exist before the app's first start.
resource "azurerm_user_assigned_identity" "app" {
  name                = local.identity_name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = local.tags
}

resource "azurerm_log_analytics_workspace" "main" {
  name                         = "log-${local.base}"
  resource_group_name          = azurerm_resource_group.main.name
  location                     = azurerm_resource_group.main.location
  sku                          = "PerGB2018"
  retention_in_days            = var.log_retention_days
  local_authentication_enabled = false
  tags                         = local.tags
}

resource "azurerm_application_insights" "main" {
  name                = "appi-${local.base}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  workspace_id        = azurerm_log_analytics_workspace.main.id
  application_type    = "web"
  # Keyless ingestion only: the app authenticates with its managed identity
  # (APPLICATIONINSIGHTS_AUTHENTICATION_STRING + Monitoring Metrics Publisher).
  local_authentication_enabled = false
  tags                         = local.tags
}
