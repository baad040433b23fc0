"""Persistence: ORM models, engine configuration and migrations glue."""
