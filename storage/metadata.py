"""The one `MetaData` every table is defined on, with stable constraint names."""

from __future__ import annotations

from sqlalchemy import MetaData

__all__ = ["GROUPS", "metadata"]

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

GROUPS = "('internal', 'external', 'expert')"
