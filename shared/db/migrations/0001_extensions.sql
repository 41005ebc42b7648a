-- Search needs trigram matching and accent folding (both allow-listed on Azure Flexible Server).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
