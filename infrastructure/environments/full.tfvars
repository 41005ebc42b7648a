# Full: every release of the monthly dump (RELEASE_SCOPE=all), General Purpose database with
# PgBouncer, private networking. Estimated cost in docs/deploy.md.
#
#   export TF_VAR_discogs_token=...
#   terraform apply -var-file=environments/full.tfvars

environment = "full"
location    = "westeurope"

network_mode = "private"
# Explicit outbound access and one fixed egress IP for the function app (about 33 USD/month).
nat_gateway_enabled = true

release_scope = "all"
sync_users    = ["your-discogs-username"]
# Discogs asks for a User-Agent that identifies your deployment:
# discogs_user_agent = "cratedigger/0.1 +https://example.org/contact"

# General Purpose 4 vCores / 16 GiB: 1,703 user connections, PgBouncer, faster index builds.
postgresql_sku                   = "GP_Standard_D4ds_v5"
postgresql_storage_mb            = 262144
postgresql_backup_retention_days = 14
postgresql_parameters = {
  maintenance_work_mem = "1048576" # 1 GB of 16 GiB RAM
  max_wal_size         = "16384"
}

# Loader fan-out: a loader spends about a quarter of its time in COPY, so 4 vCores are kept busy by
# about 16 loaders (docs/scaling.md); the rest of the instances are fetch, split, sync and HTTP.
maximum_instance_count = 24
loader_max_connections = 16
instance_memory_mb     = 2048
# One warm instance for the HTTP API to avoid cold starts.
always_ready = { http = 1 }
