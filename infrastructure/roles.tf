# Role assignments: exactly the data planes the app touches, nothing at subscription or resource
# group scope, and no keys anywhere.

locals {
  # Storage data roles of the app's identity (scope: the one storage account).
  #   Blob Data Owner        - dumps and chunks containers, the deployment package, the host's
  #                            timer singleton leases and keys (the host needs Owner, not Contributor)
  #   Queue Data Contributor - queue triggers (read/delete) and fan-out sends
  #   Table Data Contributor - ingestion, sync-job and rate-limit state tables
  app_storage_roles = [
    "Storage Blob Data Owner",
    "Storage Queue Data Contributor",
    "Storage Table Data Contributor",
  ]

  operator_storage_roles = toset([
    "Storage Blob Data Contributor",
    "Storage Queue Data Contributor",
    "Storage Table Data Contributor",
  ])
  operator_assignments = {
    for pair in setproduct(var.operator_principal_ids, local.operator_storage_roles) :
    "${pair[0]}/${pair[1]}" => { principal_id = pair[0], role = pair[1] }
  }
}

resource "azurerm_role_assignment" "app_storage" {
  for_each             = toset(local.app_storage_roles)
  scope                = azurerm_storage_account.main.id
  role_definition_name = each.value
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

# Read exactly one secret: the Discogs token behind the DISCOGS_TOKEN Key Vault reference.
resource "azurerm_role_assignment" "app_discogs_token" {
  scope                = azurerm_key_vault_secret.discogs_token.resource_versionless_id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

# Keyless Application Insights ingestion (local authentication is disabled).
resource "azurerm_role_assignment" "app_metrics_publisher" {
  scope                = azurerm_application_insights.main.id
  role_definition_name = "Monitoring Metrics Publisher"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "operator_storage" {
  for_each             = local.operator_assignments
  scope                = azurerm_storage_account.main.id
  role_definition_name = each.value.role
  principal_id         = each.value.principal_id
}

resource "azurerm_role_assignment" "operator_secrets_officer" {
  for_each             = toset(var.operator_principal_ids)
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = each.value
}
