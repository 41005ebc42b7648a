# Small: one collector's own releases (RELEASE_SCOPE=collection), a burstable database, public
# database endpoint behind a firewall. Estimated cost in docs/deploy.md.
#
#   export TF_VAR_discogs_token=...            # never put the token in a file
#   terraform apply -var-file=environments/small.tfvars

environment = "small"
location    = "westeurope"

network_mode = "public"
# Addresses allowed to run psql against the database (your own public IP), besides the app.
postgresql_firewall_rules = {
  # office = { start_ip_address = "203.0.113.10", end_ip_address = "203.0.113.10" }
}
postgresql_allow_azure_services = true

release_scope = "collection"
sync_users    = ["your-discogs-username"]
# Discogs asks for a User-Agent that identifies your deployment:
# discogs_user_agent = "cratedigger/0.1 +https://example.org/contact"

# Burstable 2 vCores / 4 GiB: 414 user connections, no PgBouncer. B_Standard_B1ms (1 vCore / 2 GiB,
# 35 user connections) also works for a collection if maximum_instance_count stays at 4 or below.
postgresql_sku                   = "B_Standard_B2s"
postgresql_storage_mb            = 32768
postgresql_backup_retention_days = 7
postgresql_parameters = {
  maintenance_work_mem = "262144" # 256 MB of 4 GiB RAM
  max_wal_size         = "2048"
}

# Few instances: a burstable 2-vCore server is saturated by about four concurrent COPY loaders.
maximum_instance_count = 8
loader_max_connections = 4
instance_memory_mb     = 2048
always_ready           = {}
