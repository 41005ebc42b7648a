"""Account sync: jobs that copy one user's Discogs collection, wantlist, inventory and value into
PostgreSQL page by page, resumable through queue continuation messages."""
