# Key Vault for the one secret the app has: the Discogs personal access token. RBAC only (no access
# policies), purge protection on. The app reads it through a Key Vault reference in its settings.

resource "azurerm_key_vault" "main" {
  #checkov:skip=CKV_AZURE_109:The vault must be reachable by the Flex Consumption platform resolving the Key Vault reference and by the deploying machine; access is RBAC-only (the app may read one secret), purge protection is on.
  #checkov:skip=CKV_AZURE_189:Same reason as CKV_AZURE_109: public endpoint, RBAC-only access.
  #checkov:skip=CKV2_AZURE_32:A private endpoint (with private DNS for the deploying machine) costs more than the rest of the small deployment for a vault holding a single revocable Discogs token.
  name                          = local.key_vault_name
  resource_group_name           = azurerm_resource_group.main.name
  location                      = azurerm_resource_group.main.location
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = var.key_vault_soft_delete_days
  public_network_access_enabled = true

  network_acls {
    default_action = "Allow"
    bypass         = "AzureServices"
  }

  tags = local.tags
}

# Terraform itself writes the secret, so the deploying principal needs to manage secrets.
resource "azurerm_role_assignment" "deployer_secrets_officer" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_key_vault_secret" "discogs_token" {
  #checkov:skip=CKV_AZURE_41:A Discogs personal access token does not expire; an expiry date here would silently break the app on that date. Rotate by setting a new value (discogs_token_version).
  name         = "discogs-token"
  key_vault_id = azurerm_key_vault.main.id
  content_type = "text/plain"
  # Write-only: the token never enters the Terraform state or plan output.
  value_wo         = var.discogs_token
  value_wo_version = var.discogs_token_version

  depends_on = [azurerm_role_assignment.deployer_secrets_officer]
}
