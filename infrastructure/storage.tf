# The one storage account: Functions host storage, the deployment package, and the app's own
# containers, queues and tables. Keyless: only Microsoft Entra identities with data roles get in.

locals {
  # Every name the code uses (shared/settings.py); poison queues are what the Functions host moves a
  # message to after maxDequeueCount failures, provisioned so they can be monitored and drained.
  app_containers = [var.dumps_container, var.chunks_container]
  app_queues     = [var.fetch_queue, var.split_queue, var.load_queue, var.sync_queue]
  all_queues     = flatten([for q in local.app_queues : [q, "${q}-poison"]])
  app_tables     = [var.runs_table, var.rate_limit_table]
}

resource "azurerm_storage_account" "main" {
  #checkov:skip=CKV_AZURE_33:The check reads the queue_properties block, which azurerm 5.x removed; queue writes and deletes are logged by azurerm_monitor_diagnostic_setting.storage_queue (reads are left out: host polling would add millions of records a month).
  #checkov:skip=CKV_AZURE_59:Flex Consumption deploys from this account and the Functions host reaches it over its public endpoint; a storage firewall breaks Flex deployments. Access needs an Entra identity with a data role: shared keys and anonymous access are off.
  #checkov:skip=CKV_AZURE_35:Same reason as CKV_AZURE_59: default-deny blocks Flex deployment; shared keys are disabled so only role-holding Entra identities get in.
  #checkov:skip=CKV2_AZURE_33:A private endpoint needs a VNet and private DNS for every client including the deploying machine; public endpoint with Entra-only auth is the chosen trade-off (see CKV_AZURE_59).
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed encryption keys: the data is public Discogs data plus job state; a customer-managed key adds a Key Vault key and its rotation for no gain here.
  #checkov:skip=CKV_AZURE_43:The name is computed (base name + a subscription-derived suffix), which checkov cannot evaluate; a lifecycle precondition enforces the naming rule instead.
  #checkov:skip=CKV_AZURE_206:Replication is a variable (default LRS): every blob is re-downloadable from Discogs and every table row is re-derivable, so geo-replication would only double the cost.
  name                     = local.storage_account_name
  resource_group_name      = azurerm_resource_group.main.name
  location                 = azurerm_resource_group.main.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = var.storage_replication_type
  access_tier              = "Hot"

  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  cross_tenant_replication_enabled  = false
  public_network_access_enabled     = true
  infrastructure_encryption_enabled = true
  local_user_enabled                = false

  sas_policy {
    # Account SAS needs a key, and keys are disabled; this only bounds anything created later.
    expiration_period = "01.00:00:00"
    expiration_action = "Log"
  }

  blob_properties {
    delete_retention_policy {
      days = var.blob_soft_delete_days
    }
    container_delete_retention_policy {
      days = var.blob_soft_delete_days
    }
  }

  network_rules {
    # Allow (see the checkov skips above) while still letting trusted Azure services in explicitly.
    default_action = "Allow"
    bypass         = ["AzureServices", "Logging", "Metrics"]
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = can(regex("^[a-z0-9]{3,24}$", local.storage_account_name))
      error_message = "Storage account names are 3-24 lower-case letters and digits."
    }
  }
}

resource "azurerm_storage_container" "app" {
  #checkov:skip=CKV2_AZURE_21:The check wants classic Storage Insights, which needs the account key (disabled here); blob reads, writes and deletes are logged by azurerm_monitor_diagnostic_setting.storage_blob instead.
  for_each              = toset(local.app_containers)
  name                  = each.value
  storage_account_id    = azurerm_storage_account.main.id
  container_access_type = "private"
}

resource "azurerm_storage_container" "deployment" {
  #checkov:skip=CKV2_AZURE_21:The check wants classic Storage Insights, which needs the account key (disabled here); blob reads, writes and deletes are logged by azurerm_monitor_diagnostic_setting.storage_blob instead.
  name                  = var.deployment_container
  storage_account_id    = azurerm_storage_account.main.id
  container_access_type = "private"
}

resource "azurerm_storage_queue" "app" {
  for_each           = toset(local.all_queues)
  name               = each.value
  storage_account_id = azurerm_storage_account.main.id
}

resource "azurerm_storage_table" "app" {
  #checkov:skip=CKV2_AZURE_20:The check wants classic Storage Insights, which needs the account key (disabled here); table writes and deletes are logged by azurerm_monitor_diagnostic_setting.storage_table, reads are not (the rate-limit table is read before every Discogs call).
  for_each           = toset(local.app_tables)
  name               = each.value
  storage_account_id = azurerm_storage_account.main.id
}

# Old dumps and chunks are deleted by the platform even if the app's own clean-up never runs.
resource "azurerm_storage_management_policy" "main" {
  storage_account_id = azurerm_storage_account.main.id

  rule {
    name    = "delete-old-dumps"
    enabled = true
    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${var.dumps_container}/"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.dump_blob_retention_days
      }
    }
  }

  rule {
    name    = "delete-old-chunks"
    enabled = true
    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${var.chunks_container}/"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.chunk_blob_retention_days
      }
    }
  }
}

# Access logs of the blob and queue services, kept in Log Analytics.
resource "azurerm_monitor_diagnostic_setting" "storage_blob" {
  name                       = "blob-to-log-analytics"
  target_resource_id         = "${azurerm_storage_account.main.id}/blobServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}

# Queue reads are left out on purpose: the Functions host polls every queue every few seconds per
# instance, which would add millions of billable log records a month and say nothing useful.
resource "azurerm_monitor_diagnostic_setting" "storage_queue" {
  name                       = "queue-to-log-analytics"
  target_resource_id         = "${azurerm_storage_account.main.id}/queueServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}

resource "azurerm_monitor_diagnostic_setting" "storage_table" {
  name                       = "table-to-log-analytics"
  target_resource_id         = "${azurerm_storage_account.main.id}/tableServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id

  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}
