# The function app on Flex Consumption: Python, the user-assigned identity for everything, host
# storage and the deployment package reached without keys, every setting of shared/settings.py.

locals {
  # The application's settings: one entry per field of shared.settings.Settings (checked by
  # tests/infrastructure). Local-runner-only settings (LOCAL_FUNCTION_KEY, LOCAL_ADMIN_KEY) are
  # deliberately absent: in Azure the Functions host checks keys itself.
  app_settings = {
    # PostgreSQL: no password. DATABASE_AUTH=entra makes the app use an access token of its managed
    # identity (client id AZURE_CLIENT_ID) as the password, fetched for each new connection.
    DATABASE_URL                     = "postgresql://${azurerm_user_assigned_identity.app.name}@${azurerm_postgresql_flexible_server.main.fqdn}:5432/${azurerm_postgresql_flexible_server_database.main.name}?sslmode=require"
    DATABASE_AUTH                    = "entra"
    DATABASE_CONNECT_TIMEOUT_SECONDS = tostring(var.database_connect_timeout_seconds)
    DATABASE_STATEMENT_TIMEOUT_MS    = tostring(var.database_statement_timeout_ms)
    RUN_MIGRATIONS_ON_START          = tostring(var.run_migrations_on_start)
    LOADER_MAX_CONNECTIONS           = tostring(var.loader_max_connections)
    FINALIZE_PARALLELISM             = tostring(var.finalize_parallelism)

    # Host and app storage through the managed identity. AzureWebJobsStorage is set to "" on
    # purpose: the provider otherwise writes a key-based connection string (empty key with shared
    # keys off) that would win over the __accountName/__credential/__clientId settings.
    AzureWebJobsStorage              = ""
    AzureWebJobsStorage__accountName = azurerm_storage_account.main.name
    AzureWebJobsStorage__credential  = "managedidentity"
    AzureWebJobsStorage__clientId    = azurerm_user_assigned_identity.app.client_id

    DUMPS_CONTAINER  = var.dumps_container
    CHUNKS_CONTAINER = var.chunks_container
    FETCH_QUEUE      = var.fetch_queue
    SPLIT_QUEUE      = var.split_queue
    LOAD_QUEUE       = var.load_queue
    SYNC_QUEUE       = var.sync_queue
    RUNS_TABLE       = var.runs_table
    RATE_LIMIT_TABLE = var.rate_limit_table

    DUMP_SCHEDULE      = var.dump_schedule
    SYNC_SCHEDULE      = var.sync_schedule
    RECONCILE_SCHEDULE = var.reconcile_schedule

    # The token stays in Key Vault; the platform resolves the reference with the app's identity.
    DISCOGS_TOKEN               = "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.discogs_token.versionless_id})"
    DISCOGS_USER_AGENT          = var.discogs_user_agent
    DISCOGS_API_BASE_URL        = var.discogs_api_base_url
    DISCOGS_DUMP_BASE_URL       = var.discogs_dump_base_url
    DISCOGS_REQUESTS_PER_MINUTE = tostring(var.discogs_requests_per_minute)
    DISCOGS_TIMEOUT_SECONDS     = tostring(var.discogs_timeout_seconds)
    SYNC_USERS                  = join(",", var.sync_users)

    CHUNK_TARGET_BYTES       = tostring(var.chunk_target_bytes)
    RELEASE_SCOPE            = var.release_scope
    DUMP_RETENTION_MONTHS    = tostring(var.dump_retention_months)
    QUARANTINE_RAW_MAX_BYTES = tostring(var.quarantine_raw_max_bytes)

    CORS_ALLOWED_ORIGINS = join(",", var.cors_allowed_origins)
    API_AUTH_LEVEL       = var.api_auth_level
  }

  # Platform settings: keyless telemetry, the identity azure-identity picks by default, and the
  # optional per-function queue concurrency overrides of host.json.
  platform_settings = {
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "ClientId=${azurerm_user_assigned_identity.app.client_id};Authorization=AAD"
    AZURE_CLIENT_ID                           = azurerm_user_assigned_identity.app.client_id
  }
  # Only the overrides that are set (a filtered map: a conditional between two different object
  # literals would not type-check).
  queue_concurrency_settings = {
    for key, value in {
      AzureFunctionsJobHost__extensions__queues__batchSize         = var.queue_batch_size
      AzureFunctionsJobHost__extensions__queues__newBatchThreshold = var.queue_new_batch_threshold
    } : key => tostring(value) if value != null
  }
}

resource "azurerm_service_plan" "main" {
  #checkov:skip=CKV_AZURE_212:Flex Consumption is serverless: there is no fixed worker count to keep for failover; the platform replaces instances and queue messages survive an instance loss (at-least-once delivery).
  #checkov:skip=CKV_AZURE_225:Zone redundancy of the serverless plan is not needed: every piece of work is queued and idempotent, so a zone outage delays processing without losing anything.
  name                = local.service_plan_name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = local.tags
}

resource "azurerm_function_app_flex_consumption" "main" {
  name                = local.function_app_name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  service_plan_id     = azurerm_service_plan.main.id

  runtime_name    = "python"
  runtime_version = var.python_version

  # Deployment package in a blob container, read with the user-assigned identity (no key).
  storage_container_type            = "blobContainer"
  storage_container_endpoint        = "${azurerm_storage_account.main.primary_blob_endpoint}${azurerm_storage_container.deployment.name}"
  storage_authentication_type       = "UserAssignedIdentity"
  storage_user_assigned_identity_id = azurerm_user_assigned_identity.app.id

  # Scaling: every queue function scales on its own instances, all HTTP functions as one group.
  instance_memory_in_mb  = var.instance_memory_mb
  maximum_instance_count = var.maximum_instance_count
  http_concurrency       = var.http_concurrency

  dynamic "always_ready" {
    for_each = var.always_ready
    content {
      name           = always_ready.key
      instance_count = always_ready.value
    }
  }

  https_only                                     = true
  public_network_access_enabled                  = true
  webdeploy_publish_basic_authentication_enabled = false
  client_certificate_enabled                     = false
  virtual_network_subnet_id                      = local.private_network ? azurerm_subnet.functions[0].id : null

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.app.id]
  }
  key_vault_reference_identity_id = azurerm_user_assigned_identity.app.id

  site_config {
    application_insights_connection_string = azurerm_application_insights.main.connection_string
    minimum_tls_version                    = "1.2"
    scm_minimum_tls_version                = "1.2"
    http2_enabled                          = true
    remote_debugging_enabled               = false
  }

  app_settings = merge(local.app_settings, local.platform_settings, local.queue_concurrency_settings)

  tags = local.tags

  # The app must not start before it can read its storage, secret and database.
  depends_on = [
    azurerm_role_assignment.app_storage,
    azurerm_role_assignment.app_discogs_token,
    azurerm_role_assignment.app_metrics_publisher,
    azurerm_postgresql_flexible_server_active_directory_administrator.app,
    azurerm_postgresql_flexible_server_configuration.extensions,
  ]
}
