-- Search needs trigram matching (allow-listed on Azure Flexible Server as PG_TRGM).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
