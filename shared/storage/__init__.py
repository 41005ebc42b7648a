"""Azure Storage access (Blob, Queue, Table) from the settings."""
