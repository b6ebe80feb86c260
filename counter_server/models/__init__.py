"""SQLAlchemy models of the counter server, one module per area."""

from counter_server.models.catalog import CatalogVersion, Category, Service

__all__ = ["CatalogVersion", "Category", "Service"]
