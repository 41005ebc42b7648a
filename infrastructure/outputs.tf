output "resource_group_name" {
  description = "Resource group holding everything."
  value       = azurerm_resource_group.main.name
}

output "function_app_name" {
  description = "Name for `func azure functionapp publish <name>` and `az functionapp deployment`."
  value       = azurerm_function_app_flex_consumption.main.name
}

output "function_app_url" {
  description = "Base URL of the HTTP API (routes under /api)."
  value       = "https://${azurerm_function_app_flex_consumption.main.default_hostname}"
}

output "storage_account_name" {
  description = "Storage account (host storage, dumps, chunks, queues, tables, deployment package)."
  value       = azurerm_storage_account.main.name
}

output "postgresql_host" {
  description = "PostgreSQL server host name (port 5432 direct; 6432 PgBouncer on GP/MO)."
  value       = azurerm_postgresql_flexible_server.main.fqdn
}

output "postgresql_database" {
  description = "Database name."
  value       = azurerm_postgresql_flexible_server_database.main.name
}

output "postgresql_app_user" {
  description = "Database user of the app (its managed identity's name; Entra token as password)."
  value       = azurerm_user_assigned_identity.app.name
}

output "pgbouncer_available" {
  description = "Whether the built-in PgBouncer (port 6432) is enabled for this SKU."
  value       = local.pgbouncer_available
}

output "app_identity_client_id" {
  description = "Client id of the app's user-assigned managed identity."
  value       = azurerm_user_assigned_identity.app.client_id
}

output "key_vault_name" {
  description = "Key Vault holding the Discogs token (secret discogs-token)."
  value       = azurerm_key_vault.main.name
}

output "application_insights_name" {
  description = "Application Insights resource (logs and traces of every function)."
  value       = azurerm_application_insights.main.name
}
