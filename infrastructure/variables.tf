# Inputs. Names of queues, containers, tables and schedules default to the values in
# shared/settings.py; tests/infrastructure checks that they stay equal.

# --- Placement and naming -----------------------------------------------------------------------

variable "name" {
  description = "Base name of every resource (lower-case letters, digits, hyphens)."
  type        = string
  default     = "cratedigger"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name))
    error_message = "name: 3-16 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment label used in resource names and tags (e.g. small, full, prod)."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,7}$", var.environment))
    error_message = "environment: 1-8 lower-case letters and digits, starting with a letter."
  }
}

variable "location" {
  description = "Azure region. It must offer Flex Consumption and PostgreSQL Flexible Server."
  type        = string
  default     = "westeurope"
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# --- Network ------------------------------------------------------------------------------------

variable "network_mode" {
  description = <<-EOT
    How the function app reaches PostgreSQL.
    "private": a virtual network; the function app is VNet-integrated and PostgreSQL has no public
               endpoint (delegated subnet + private DNS zone). Nothing outside the VNet can connect.
    "public":  PostgreSQL keeps a public endpoint guarded by firewall rules (see
               postgresql_firewall_rules and postgresql_allow_azure_services); Entra-only login and
               TLS still apply. Cheaper to operate: you can run psql from an allowed address.
  EOT
  type        = string
  default     = "private"

  validation {
    condition     = contains(["private", "public"], var.network_mode)
    error_message = "network_mode is \"private\" or \"public\"."
  }
}

variable "vnet_address_space" {
  description = "Address space of the virtual network (private mode)."
  type        = string
  default     = "10.42.0.0/16"
}

variable "function_subnet_prefix" {
  description = "Subnet for the function app's VNet integration (private mode); every instance takes an address, so size it for maximum_instance_count."
  type        = string
  default     = "10.42.1.0/24"
}

variable "postgresql_subnet_prefix" {
  description = "Subnet delegated to PostgreSQL Flexible Server (private mode)."
  type        = string
  default     = "10.42.2.0/24"
}

variable "nat_gateway_enabled" {
  description = <<-EOT
    Private mode: give the function subnet a NAT gateway (fixed egress IP, outbound access that
    does not rely on Azure's implicit default outbound access). About 33 USD/month plus traffic.
  EOT
  type        = bool
  default     = false
}

variable "postgresql_firewall_rules" {
  description = "Public mode only: named IPv4 ranges allowed to reach PostgreSQL (e.g. your office)."
  type = map(object({
    start_ip_address = string
    end_ip_address   = string
  }))
  default = {}
}

variable "postgresql_allow_azure_services" {
  description = <<-EOT
    Public mode only: add the 0.0.0.0 rule that lets Azure services (any tenant) connect. A Flex
    Consumption app without VNet integration has no fixed outbound address, so public mode needs
    this for the app to reach the database. Mitigated by Entra-only login (no password exists) and
    required TLS; prefer network_mode = "private" when that is not acceptable.
  EOT
  type        = bool
  default     = true
}

# --- Function app -------------------------------------------------------------------------------

variable "python_version" {
  description = "Python runtime of the function app. The code is tested on 3.11 (azure-functions 1.x)."
  type        = string
  default     = "3.11"

  validation {
    condition     = contains(["3.11", "3.12"], var.python_version)
    error_message = "python_version: 3.11 or 3.12 (azure-functions 1.x; 3.13+ needs 2.x)."
  }
}

variable "instance_memory_mb" {
  description = "Memory per Flex Consumption instance: 512, 2048 or 4096 MB. Dump parsing streams, 2048 is enough."
  type        = number
  default     = 2048

  validation {
    condition     = contains([512, 2048, 4096], var.instance_memory_mb)
    error_message = "instance_memory_mb: 512, 2048 or 4096."
  }
}

variable "maximum_instance_count" {
  description = <<-EOT
    Upper bound on the app's instances, all scaling groups together (Flex scales every queue
    function on its own instances and all HTTP functions as one group). Leave room for
    LOADER_MAX_CONNECTIONS loaders plus fetch, split, sync and HTTP instances; loaders beyond
    LOADER_MAX_CONNECTIONS wait for a slot, so the database limit holds either way.
  EOT
  type        = number
  default     = 20

  validation {
    condition     = var.maximum_instance_count >= 1 && var.maximum_instance_count <= 1000
    error_message = "maximum_instance_count: 1-1000."
  }
}

variable "http_concurrency" {
  description = "Concurrent HTTP requests per instance before the HTTP group scales out (1-1000)."
  type        = number
  default     = 16

  validation {
    condition     = var.http_concurrency >= 1 && var.http_concurrency <= 1000
    error_message = "http_concurrency: 1-1000."
  }
}

variable "always_ready" {
  description = <<-EOT
    Always-ready instances per scaling group, e.g. { http = 1 } for the HTTP API or
    { "function:load_chunk" = 1 } for one queue function. Billed while idle; empty = scale to zero.
  EOT
  type        = map(number)
  default     = {}
}

variable "queue_batch_size" {
  description = <<-EOT
    Per-function concurrency of queue triggers (host.json extensions.queues.batchSize, 1-32),
    set as an app setting override. null keeps host.json's value.
  EOT
  type        = number
  default     = null

  validation {
    condition     = var.queue_batch_size == null ? true : (var.queue_batch_size >= 1 && var.queue_batch_size <= 32)
    error_message = "queue_batch_size: 1-32 or null."
  }
}

variable "queue_new_batch_threshold" {
  description = "host.json extensions.queues.newBatchThreshold override; null keeps host.json's value."
  type        = number
  default     = null
}

# --- Storage names (defaults = shared/settings.py) -----------------------------------------------

variable "dumps_container" {
  description = "DUMPS_CONTAINER: blob container for the downloaded monthly dumps."
  type        = string
  default     = "dumps"
}

variable "chunks_container" {
  description = "CHUNKS_CONTAINER: blob container for split dump chunks."
  type        = string
  default     = "chunks"
}

variable "deployment_container" {
  description = "Blob container holding the function app package (Flex Consumption deployment)."
  type        = string
  default     = "app-package"
}

variable "fetch_queue" {
  description = "FETCH_QUEUE"
  type        = string
  default     = "cratedigger-fetch"
}

variable "split_queue" {
  description = "SPLIT_QUEUE"
  type        = string
  default     = "cratedigger-split"
}

variable "load_queue" {
  description = "LOAD_QUEUE"
  type        = string
  default     = "cratedigger-load"
}

variable "sync_queue" {
  description = "SYNC_QUEUE"
  type        = string
  default     = "cratedigger-sync"
}

variable "runs_table" {
  description = "RUNS_TABLE: ingestion run state."
  type        = string
  default     = "ingestions"
}

variable "rate_limit_table" {
  description = "RATE_LIMIT_TABLE: shared Discogs API rate-limit state."
  type        = string
  default     = "ratelimit"
}

variable "storage_replication_type" {
  description = "Storage redundancy. LRS: everything stored is re-derivable from Discogs."
  type        = string
  default     = "LRS"

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.storage_replication_type)
    error_message = "storage_replication_type: LRS, ZRS, GRS, RAGRS, GZRS or RAGZRS."
  }
}

variable "dump_blob_retention_days" {
  description = <<-EOT
    Lifecycle rule: delete dump blobs this many days after their last modification. A backstop
    behind the app's own DUMP_RETENTION_MONTHS clean-up, so it must be longer than that.
  EOT
  type        = number
  default     = 100

  validation {
    condition     = var.dump_blob_retention_days > var.dump_retention_months * 31
    error_message = "dump_blob_retention_days must exceed dump_retention_months (in days), or the platform deletes dumps the app still keeps."
  }
}

variable "chunk_blob_retention_days" {
  description = "Lifecycle rule: delete chunk blobs (intermediate, re-creatable) after this many days."
  type        = number
  default     = 21

  validation {
    condition     = var.chunk_blob_retention_days >= 7
    error_message = "chunk_blob_retention_days: at least 7, so an ingestion that is retried for days keeps its chunks."
  }
}

variable "blob_soft_delete_days" {
  description = "Soft-delete retention for blobs and containers (recovers accidental deletes)."
  type        = number
  default     = 7
}

# --- Schedules (NCRONTAB, 6 fields, UTC; defaults = shared/settings.py) --------------------------

variable "dump_schedule" {
  description = "DUMP_SCHEDULE: when to look for a new monthly dump."
  type        = string
  default     = "0 0 3 * * *"
}

variable "sync_schedule" {
  description = "SYNC_SCHEDULE: when to sync the Discogs accounts in sync_users."
  type        = string
  default     = "0 0 * * * *"
}

variable "reconcile_schedule" {
  description = "RECONCILE_SCHEDULE: when to reconcile stuck ingestion work."
  type        = string
  default     = "0 30 4 * * *"
}

# --- Application behaviour (defaults = shared/settings.py) --------------------------------------

variable "discogs_token" {
  description = <<-EOT
    Discogs personal access token (discogs.com > Settings > Developers), stored in Key Vault.
    Write-only and ephemeral: it never enters the state file or a saved plan. Pass it as
    TF_VAR_discogs_token; it is only sent to Key Vault when discogs_token_version changes.
  EOT
  type        = string
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = length(var.discogs_token) > 0
    error_message = "discogs_token is required: export TF_VAR_discogs_token=<your Discogs token>."
  }
}

variable "discogs_token_version" {
  description = "Increase to push a new discogs_token value into Key Vault."
  type        = number
  default     = 1
}

variable "discogs_user_agent" {
  description = "DISCOGS_USER_AGENT: identifies your deployment to Discogs (put your contact URL)."
  type        = string
  default     = "cratedigger/0.1 +https://github.com/cratedigger/cratedigger"
}

variable "discogs_api_base_url" {
  description = "DISCOGS_API_BASE_URL"
  type        = string
  default     = "https://api.discogs.com"
}

variable "discogs_dump_base_url" {
  description = "DISCOGS_DUMP_BASE_URL"
  type        = string
  default     = "https://data.discogs.com"
}

variable "discogs_requests_per_minute" {
  description = "DISCOGS_REQUESTS_PER_MINUTE (authenticated limit is 60)."
  type        = number
  default     = 50
}

variable "discogs_timeout_seconds" {
  description = "DISCOGS_TIMEOUT_SECONDS"
  type        = number
  default     = 30
}

variable "sync_users" {
  description = "SYNC_USERS: Discogs user names whose collections and wantlists are synced."
  type        = list(string)
  default     = []
}

variable "release_scope" {
  description = "RELEASE_SCOPE: \"all\" loads every release of the dump, \"collection\" only releases in synced collections."
  type        = string
  default     = "all"

  validation {
    condition     = contains(["all", "collection"], var.release_scope)
    error_message = "release_scope: all or collection."
  }
}

variable "chunk_target_bytes" {
  description = "CHUNK_TARGET_BYTES: target size of one dump chunk (one load message)."
  type        = number
  default     = 33554432
}

variable "dump_retention_months" {
  description = "DUMP_RETENTION_MONTHS: how many months of raw dumps the app keeps."
  type        = number
  default     = 2
}

variable "quarantine_raw_max_bytes" {
  description = "QUARANTINE_RAW_MAX_BYTES: raw XML kept per quarantined record."
  type        = number
  default     = 65536
}

variable "loader_max_connections" {
  description = "LOADER_MAX_CONNECTIONS: upper bound on concurrent loader database connections."
  type        = number
  default     = 8
}

variable "finalize_parallelism" {
  description = "FINALIZE_PARALLELISM: sessions building a month's indexes at once (0: min(LOADER_MAX_CONNECTIONS, 8))."
  type        = number
  default     = 0
}

variable "database_connect_timeout_seconds" {
  description = "DATABASE_CONNECT_TIMEOUT_SECONDS"
  type        = number
  default     = 10
}

variable "database_statement_timeout_ms" {
  description = "DATABASE_STATEMENT_TIMEOUT_MS: statement timeout for API reads."
  type        = number
  default     = 15000
}

variable "run_migrations_on_start" {
  description = "RUN_MIGRATIONS_ON_START: apply pending migrations on first database use in each process."
  type        = bool
  default     = true
}

variable "api_auth_level" {
  description = "API_AUTH_LEVEL: FUNCTION (a function key on read endpoints) or ANONYMOUS."
  type        = string
  default     = "FUNCTION"

  validation {
    condition     = contains(["FUNCTION", "ANONYMOUS"], var.api_auth_level)
    error_message = "api_auth_level must be FUNCTION or ANONYMOUS."
  }
}

variable "cors_allowed_origins" {
  description = "CORS_ALLOWED_ORIGINS: browser origins allowed to call the API (handled by the app)."
  type        = list(string)
  default     = []
}

# --- PostgreSQL ---------------------------------------------------------------------------------

variable "postgresql_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "16"
}

variable "postgresql_sku" {
  description = <<-EOT
    Server SKU. Default General Purpose 2 vCores / 8 GiB (built-in PgBouncer available).
    Cheaper choices: B_Standard_B2s (2 vCores / 4 GiB, burstable, no PgBouncer),
    B_Standard_B1ms (1 vCore / 2 GiB, 35 user connections: collection scope only).
    Bigger: GP_Standard_D4ds_v5 for faster full loads.
  EOT
  type        = string
  default     = "GP_Standard_D2ds_v5"

  validation {
    condition     = can(regex("^(B|GP|MO)_Standard_", var.postgresql_sku))
    error_message = "postgresql_sku: B_Standard_*, GP_Standard_* or MO_Standard_*."
  }
}

variable "postgresql_storage_mb" {
  description = "Allocated storage (grows automatically). The full releases dump needs roughly 100+ GiB with indexes."
  type        = number
  default     = 131072

  validation {
    condition     = contains([32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216, 33553408], var.postgresql_storage_mb)
    error_message = "postgresql_storage_mb: one of the sizes Flexible Server offers (32768, 65536, 131072, ... MB)."
  }
}

variable "postgresql_storage_tier" {
  description = "Storage performance tier (IOPS); null = the default tier for the size."
  type        = string
  default     = null
}

variable "postgresql_backup_retention_days" {
  description = "Point-in-time-restore window, 7-35 days."
  type        = number
  default     = 7

  validation {
    condition     = var.postgresql_backup_retention_days >= 7 && var.postgresql_backup_retention_days <= 35
    error_message = "postgresql_backup_retention_days: 7-35."
  }
}

variable "postgresql_geo_redundant_backup" {
  description = "Geo-redundant backups (doubles backup storage cost; fixed at creation)."
  type        = bool
  default     = false
}

variable "postgresql_high_availability" {
  description = "Zone-redundant standby (doubles compute cost; not available on Burstable)."
  type        = bool
  default     = false
}

variable "postgresql_zone" {
  description = "Availability zone of the server; null lets Azure choose."
  type        = string
  default     = null
}

variable "postgresql_password_auth_enabled" {
  description = "Also allow password login (administrator_login + postgresql_admin_password). Off: Entra only."
  type        = bool
  default     = false
}

variable "postgresql_admin_password" {
  description = "Password of the optional password administrator (write-only, never in state)."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "postgresql_admin_password_version" {
  description = "Increase to push a new postgresql_admin_password."
  type        = number
  default     = 1
}

variable "postgresql_extra_entra_admins" {
  description = <<-EOT
    Additional Microsoft Entra administrators (people or groups who operate the database),
    keyed by object id: { "<object-id>" = { name = "dba-group", type = "Group" } }.
    The function app's managed identity is always an administrator (it runs the migrations).
  EOT
  type = map(object({
    name = string
    type = string
  }))
  default = {}

  validation {
    condition     = alltrue([for admin in values(var.postgresql_extra_entra_admins) : contains(["User", "Group", "ServicePrincipal"], admin.type)])
    error_message = "postgresql_extra_entra_admins: type is User, Group or ServicePrincipal."
  }
}

variable "postgresql_parameters" {
  description = <<-EOT
    Server parameters merged over the bulk-load defaults in postgresql.tf (values as strings).
    Use it to size memory settings to the SKU, e.g. { maintenance_work_mem = "131072" } on B1ms.
  EOT
  type        = map(string)
  default     = {}
}

# --- Key Vault and access -----------------------------------------------------------------------

variable "key_vault_soft_delete_days" {
  description = "Soft-delete retention of the Key Vault (7-90 days)."
  type        = number
  default     = 30
}

variable "operator_principal_ids" {
  description = <<-EOT
    Object ids of people or groups who operate the deployment: they get the same storage data
    roles as the app (to inspect blobs, re-queue poison messages, read state tables) and may
    rotate the Discogs token.
  EOT
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Log Analytics retention (30 is included in the ingestion price)."
  type        = number
  default     = 30
}
