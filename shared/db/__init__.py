"""PostgreSQL access: connections and versioned migrations."""
