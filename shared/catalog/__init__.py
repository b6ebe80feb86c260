"""The service catalog: its schema, its files and search over it."""
