"""Persistence: the only code with SQL (SQLAlchemy, Alembic migrations)."""
