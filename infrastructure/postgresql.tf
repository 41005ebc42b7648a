# PostgreSQL Flexible Server. The app logs in as its managed identity with a Microsoft Entra token
# (no password anywhere); TLS is required; network access is private (VNet) or firewalled public.

locals {
  # Server parameters tuned for monthly bulk loads (COPY into staging tables, index builds, swaps).
  # Values are strings as the API expects; postgresql_parameters overrides any of them.
  postgresql_bulk_load_parameters = {
    # Fewer, larger checkpoints while COPY writes gigabytes of WAL.
    max_wal_size       = "8192" # MB
    checkpoint_timeout = "900"  # s
    # Index builds after each load; per maintenance operation, so keep it well under RAM.
    maintenance_work_mem             = "524288" # kB = 512 MB
    max_parallel_maintenance_workers = "2"
    # A crashed or stuck loader must not hold locks on the swap target forever.
    idle_in_transaction_session_timeout = "600000" # ms
    # Observability of the loads.
    log_checkpoints = "on"
    log_lock_waits  = "on"
  }
  postgresql_parameters = merge(local.postgresql_bulk_load_parameters, var.postgresql_parameters)
}

resource "azurerm_postgresql_flexible_server" "main" {
  #checkov:skip=CKV2_AZURE_57:Private access uses VNet injection (network_mode = "private": delegated subnet + private DNS zone, no public endpoint), which checkov does not recognise; a private endpoint would be a second, redundant path.
  #checkov:skip=CKV_AZURE_136:Geo-redundant backup is a variable (postgresql_geo_redundant_backup, default off): the database is rebuilt from the Discogs dumps, so the default keeps the cost down; turn it on when synced account data must survive a regional outage.
  name                = local.postgresql_server_name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  version             = var.postgresql_version
  sku_name            = var.postgresql_sku
  storage_mb          = var.postgresql_storage_mb
  storage_tier        = var.postgresql_storage_tier
  auto_grow_enabled   = true
  zone                = var.postgresql_zone

  backup_retention_days        = var.postgresql_backup_retention_days
  geo_redundant_backup_enabled = var.postgresql_geo_redundant_backup

  public_network_access_enabled = !local.private_network
  delegated_subnet_id           = local.private_network ? azurerm_subnet.postgresql[0].id : null
  private_dns_zone_id           = local.private_network ? azurerm_private_dns_zone.postgresql[0].id : null

  authentication {
    active_directory_auth_enabled = true
    password_auth_enabled         = var.postgresql_password_auth_enabled
    tenant_id                     = data.azurerm_client_config.current.tenant_id
  }

  # Only with password_auth_enabled: a break-glass login; write-only, never in state.
  administrator_login               = var.postgresql_password_auth_enabled ? "cratedigger_admin" : null
  administrator_password_wo         = var.postgresql_password_auth_enabled ? var.postgresql_admin_password : null
  administrator_password_wo_version = var.postgresql_password_auth_enabled ? var.postgresql_admin_password_version : null

  dynamic "high_availability" {
    for_each = var.postgresql_high_availability ? [1] : []
    content {
      mode = "ZoneRedundant"
    }
  }

  maintenance_window {
    # Sunday 01:00 UTC: clear of the default dump (03:00) and reconcile (04:30) schedules.
    day_of_week  = 0
    start_hour   = 1
    start_minute = 0
  }

  tags = local.tags

  lifecycle {
    # Azure moves the primary to the standby's zone on failover; do not fight it.
    ignore_changes = [zone, high_availability[0].standby_availability_zone]
  }

  depends_on = [azurerm_private_dns_zone_virtual_network_link.postgresql]
}

resource "azurerm_postgresql_flexible_server_database" "main" {
  name      = local.database_name
  server_id = azurerm_postgresql_flexible_server.main.id
  charset   = "UTF8"
  collation = "en_US.utf8"

  lifecycle {
    prevent_destroy = true
  }
}

# The app's identity is an Entra administrator: it runs the migrations (CREATE EXTENSION, tables,
# index builds) and loads data. Its database user name is the identity's name.
resource "azurerm_postgresql_flexible_server_active_directory_administrator" "app" {
  server_name         = azurerm_postgresql_flexible_server.main.name
  resource_group_name = azurerm_resource_group.main.name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  object_id           = azurerm_user_assigned_identity.app.principal_id
  principal_name      = azurerm_user_assigned_identity.app.name
  principal_type      = "ServicePrincipal"
}

resource "azurerm_postgresql_flexible_server_active_directory_administrator" "extra" {
  for_each            = var.postgresql_extra_entra_admins
  server_name         = azurerm_postgresql_flexible_server.main.name
  resource_group_name = azurerm_resource_group.main.name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  object_id           = each.key
  principal_name      = each.value.name
  principal_type      = each.value.type
}

# TLS for every connection (the app connects with sslmode=require).
resource "azurerm_postgresql_flexible_server_configuration" "require_secure_transport" {
  name      = "require_secure_transport"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "on"
}

resource "azurerm_postgresql_flexible_server_configuration" "min_tls_version" {
  name      = "ssl_min_protocol_version"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "TLSv1.2"
}

# Extensions the migrations create (shared/db/migrations/0001_extensions.sql) must be allow-listed.
resource "azurerm_postgresql_flexible_server_configuration" "extensions" {
  name      = "azure.extensions"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "PG_TRGM,UNACCENT"
}

# Built-in PgBouncer (port 6432, transaction pooling) for the many short API queries; General
# Purpose and Memory Optimized only. Bulk loads and migrations stay on the direct port 5432.
resource "azurerm_postgresql_flexible_server_configuration" "pgbouncer" {
  count     = local.pgbouncer_available ? 1 : 0
  name      = "pgbouncer.enabled"
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = "true"
}

resource "azurerm_postgresql_flexible_server_configuration" "tuning" {
  for_each  = local.postgresql_parameters
  name      = each.key
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = each.value
}

# Public mode: named ranges (operators) and, optionally, Azure services (the app has no fixed IP).
resource "azurerm_postgresql_flexible_server_firewall_rule" "named" {
  for_each         = local.private_network ? {} : var.postgresql_firewall_rules
  name             = each.key
  server_id        = azurerm_postgresql_flexible_server.main.id
  start_ip_address = each.value.start_ip_address
  end_ip_address   = each.value.end_ip_address
}

resource "azurerm_postgresql_flexible_server_firewall_rule" "azure_services" {
  #checkov:skip=CKV2_AZURE_26:Public mode only, opt-out via postgresql_allow_azure_services: a Flex Consumption app without VNet integration has no fixed outbound IP. Logins need an Entra token of a mapped principal (password auth off) over TLS; use network_mode = "private" to avoid this rule.
  count            = !local.private_network && var.postgresql_allow_azure_services ? 1 : 0
  name             = "AllowAllAzureServicesAndResourcesWithinAzureIps"
  server_id        = azurerm_postgresql_flexible_server.main.id
  start_ip_address = "0.0.0.0"
  end_ip_address   = "0.0.0.0"
}
