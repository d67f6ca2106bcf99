"""Alembic migrations: the only way the vfnet schema is created or changed."""
